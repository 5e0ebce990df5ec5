/**
 * SIP + RTP load: how many concurrent SIP calls with media one server process carries while its
 * RTP stays on time. For each step N (100, 250, 500, 750, 1000, … up to maxCalls) a fresh server
 * runs as a child process, SIPp places N calls (PCMA both ways, held for the ramp plus `holdSecs`,
 * then BYE), and an app in this process answers each call and starts a gather on it. While every
 * call is up the bench measures:
 *   - CPU of the server and of SIPp (/proc/PID/stat deltas; SIPp's RTP threads count too), RSS;
 *   - the server's RTP send-interval jitter, |interval − 20 ms| between consecutive packets, on a
 *     few probe calls this process places with the project's SIP user agent and a plain UDP
 *     socket; the packets are timed by the kernel (bench/sip-load/rtp-arrivals.py, needs root)
 *     or, failing that, by this process;
 *   - packet loss: the worst of inbound loss (lost or late, the server's jitter buffers over every
 *     leg), outbound shortfall (packets the server never sent because it skipped ticks) and what
 *     the probes missed;
 *   - call setup time, INVITE → 200, from SIPp's response-time trace (ramp included);
 *   - the server's media scheduler lateness, and with the RTP I/O thread how late its batches
 *     left (/switchboard/v1/stats).
 * Stepping stops at the first step with failed calls or with jitter or loss beyond the target.
 * Each step waits for the machine to be idle, and is run again (at most twice) when other
 * processes took CPU during its window.
 *
 *   node --import tsx bench/sip-load.ts [maxCalls=1000] [holdSecs=20]
 *
 * Env:
 *   SIPLOAD_RATE               calls per second while ramping (default 50; at 100 the ramp itself
 *                              starves the media clock of a 500-call server)
 *   SIPLOAD_PROBES             probe calls (default 4)
 *   SIPLOAD_STEPS              comma list of call counts, instead of the default stepping
 *   SIPLOAD_ALL_STEPS=1        keep stepping past a step that missed the target
 *   SIPLOAD_SERVER_NODE_ARGS   extra node flags for the server, e.g. "--cpu-prof --cpu-prof-dir=/tmp/p"
 *                              (the log gives each window's CLOCK_MONOTONIC span to cut a profile to)
 *   SIPLOAD_SERVER_CONFIG      JSON merged into the server's config file, e.g. '{"sip":{"inbandDtmf":false}}', or
 *                              '{"sip":{"rtpThread":false}}' for RTP on the main thread
 *   SIPLOAD_KEEP=1             keep the scratch directory (server logs, SIPp traces, probe packet times)
 *   SIPLOAD_TRACE=1            log the server's media and RTP counters every second of a step (ramp and
 *                              teardown included), to see when ticks were skipped or packets came late
 * One JSON object goes to stdout at the end; progress and diagnostics go to stderr.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import Telnyx from 'telnyx';
import type { SipOutgoingCall } from '../src/endpoints/sip/outgoing-call.js';
import { LocalSdp, parseAnswer } from '../src/endpoints/sip/sdp.js';
import { SipUserAgent } from '../src/endpoints/sip/user-agent.js';
import { percentile, round } from './lib/numbers.js';
import { ServerProcess } from './lib/server-process.js';
import { freeUdpPort } from './lib/ports.js';
import { children, killChildren, killChildrenOnExit, machineTicks, pctOfCore, processTicks, rssKb, selfTicks, terminate, runBounded, waitForQuiet } from './lib/processes.js';

const SCENARIO = fileURLToPath(new URL('./sip-load/uac-rtp-hold.xml', import.meta.url));
const SIPP = '/usr/bin/sipp';
const PCAP = '/usr/share/sip-tester/g711a.pcap';
const CAPTURE = fileURLToPath(new URL('./sip-load/rtp-arrivals.py', import.meta.url));

const maxCalls = positiveInt(process.argv[2], 1000);
const holdSecs = positiveInt(process.argv[3], 20);
const rate = positiveInt(process.env['SIPLOAD_RATE'], 50);
const probeCount = positiveInt(process.env['SIPLOAD_PROBES'], 4);
const serverNodeArgs = (process.env['SIPLOAD_SERVER_NODE_ARGS'] ?? '').split(/\s+/).filter(Boolean);
const extraServerConfig = JSON.parse(process.env['SIPLOAD_SERVER_CONFIG'] ?? '{}') as Record<string, unknown>;
const TARGET = { calls: 500, jitter_p99_ms: 5, loss_pct: 0 } as const;

const NUMBER = '+15550100200';
const APP_ID = '1234567890';
const API_KEY = 'KEYsipload0123456789';
const SERVER_RTP_PORTS = { min: 20000, max: 29998 };
// Below the server's range and below the kernel's ephemeral ports (32768+), so nothing collides.
// SIPp's rtpstream takes at most 4 ports per call upward from here: 2000 calls fit below 20000.
const SIPP_MEDIA_PORT = 12000;
const MAX_CALLS = 2000;
const FRAME_MS = 20;
const PCMA_SILENCE = 0xd5;
// USER_HZ, the unit of /proc tick counts, is 100 on every Linux architecture Node runs on.
const QUIET_CPU_PCT = 25;
const CONTENDED_RETRIES = 2;

const log = (message: string): void => void process.stderr.write(`[sip-load] ${message}\n`);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

killChildrenOnExit(log);

// ---------------------------------------------------------------------------------------------
// The server under test

interface StatsData {
  live_calls: number;
  media: { sessions: number; ticks: number; skipped_ticks: number; lateness_mean_ms: number; lateness_p50_ms: number; lateness_p99_ms: number; lateness_max_ms: number; pass_mean_ms: number; pass_max_ms: number };
  rtp: {
    legs: number; ended_legs: number; packets_sent: number; packets_received: number; packets_lost: number; late: number; concealed_frames: number;
    dropped_frames: number; slipped_frames: number; skipped_quiet_frames: number; jitter_max_ms: number;
    send_timing: { batches: number; overdue_batches: number; lateness_mean_ms: number; lateness_p99_ms: number; lateness_max_ms: number } | null;
  } | null;
  process: { rss_bytes: number; cpu_user_us: number; cpu_system_us: number };
}

// ---------------------------------------------------------------------------------------------
// The application: answer every call, then gather on it for longer than any hold.

class App {
  readonly errors: string[] = [];
  answered = 0;
  hangups = 0;
  private client: Telnyx | null = null;
  private gatherMs = 600_000;

  private constructor(private readonly server: Server, readonly url: string) {}

  static async start(): Promise<App> {
    let app: App | null = null;
    const server = createServer((req, res) => app?.receive(req, res));
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    app = new App(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks`);
    return app;
  }

  use(serverUrl: string, gatherMs: number): void {
    this.client = new Telnyx({ apiKey: API_KEY, baseURL: `${serverUrl}/v2`, maxRetries: 0, timeout: 30_000 });
    this.gatherMs = gatherMs;
    this.answered = 0;
    this.hangups = 0;
    this.errors.length = 0;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private receive(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      res.writeHead(200).end();
      // Signatures are not verified: the sender is our own child server on loopback, and checking
      // an Ed25519 signature per event would load this process, which also times the probes.
      let event: { event_type?: string; payload?: { call_control_id?: string } } | undefined;
      try {
        event = (JSON.parse(Buffer.concat(chunks).toString()) as { data?: typeof event }).data;
      } catch {
        return;
      }
      const ccid = event?.payload?.call_control_id;
      const client = this.client;
      if (!ccid || !client) return;
      let command: Promise<unknown> | null = null;
      switch (event?.event_type) {
        case 'call.initiated':
          command = client.calls.actions.answer(ccid, {});
          break;
        case 'call.answered':
          this.answered++;
          command = client.calls.actions.gather(ccid, {
            maximum_digits: 4, timeout_millis: this.gatherMs, initial_timeout_millis: this.gatherMs, inter_digit_timeout_millis: 5000,
          });
          break;
        case 'call.hangup':
          this.hangups++;
          break;
        default:
          break;
      }
      command?.catch((error: unknown) => {
        // A caller that hung up first makes the command fail with 422: not the server's fault.
        if (this.errors.length < 20) this.errors.push(`${event?.event_type}: ${String(error)}`);
      });
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Probe calls: a real SIP call from this process whose RTP arrival times are recorded.

class Probe {
  setupMs: number | null = null;
  failed: string | null = null;
  /** |interval − 20 ms| for consecutive packets, during the measurement window only. */
  readonly deviations: number[] = [];
  received = 0;
  expected = 0;
  private recording = false;
  private lastSeq = -1;
  private lastAt = 0;
  private call: SipOutgoingCall | null = null;
  private sender: NodeJS.Timeout | null = null;
  private ended = false;
  private endedWaiters: (() => void)[] = [];

  private constructor(private readonly socket: Socket, readonly port: number) {
    socket.on('message', (msg) => this.onRtp(msg));
  }

  static async open(): Promise<Probe> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => resolve());
    });
    return new Probe(socket, socket.address().port);
  }

  /** Resolves when answered or failed, bounded by `timeoutMs`. */
  place(ua: SipUserAgent, sipPort: number, index: number, timeoutMs: number): Promise<void> {
    const sdp = new LocalSdp('probe');
    const started = performance.now();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.failed ??= `no answer in ${timeoutMs} ms`;
        resolve();
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      let call: SipOutgoingCall;
      try {
        call = ua.invite({
          to: `sip:${NUMBER}@127.0.0.1:${sipPort}`,
          from: `sip:+1555060${String(index).padStart(4, '0')}@127.0.0.1`,
          offer: { contentType: 'application/sdp', body: sdp.offer({ address: '127.0.0.1', port: this.port, codecs: ['PCMA'] }) },
        });
      } catch (error) {
        this.failed = String(error);
        done();
        return;
      }
      this.call = call;
      call.on('answered', (response) => {
        this.setupMs = performance.now() - started;
        const answer = parseAnswer(response.body.toString(), { codecs: ['PCMA'] });
        if (!answer.ok || answer.media.remote === null) {
          this.failed = 'unusable SDP answer';
        } else {
          this.startSending(answer.media.remote.address, answer.media.remote.port, answer.media.codec.payloadType);
        }
        done();
      });
      call.on('failed', (failure) => {
        this.failed = `${failure.status} ${failure.reason} (${failure.cause})`;
        this.finish();
        done();
      });
      call.on('ended', () => {
        // Hung up by the server before we did: the probe saw less than the window.
        if (this.recording) this.failed ??= 'ended by the server during the window';
        this.finish();
      });
    });
  }

  record(on: boolean): void {
    this.recording = on;
    if (on) this.lastSeq = -1;
  }

  async hangUp(timeoutMs: number): Promise<void> {
    this.recording = false;
    if (!this.ended && this.call && this.setupMs !== null) {
      const gone = new Promise<void>((resolve) => this.endedWaiters.push(resolve));
      this.call.bye();
      await Promise.race([gone, sleep(timeoutMs)]);
    }
    this.finish();
    try {
      this.socket.close();
    } catch {
      // Already closed.
    }
  }

  private finish(): void {
    this.ended = true;
    if (this.sender) clearTimeout(this.sender);
    this.sender = null;
    for (const resolve of this.endedWaiters.splice(0)) resolve();
  }

  /** PCMA silence every 20 ms, so the server latches and plays out as it does for any caller. */
  private startSending(address: string, port: number, payloadType: number): void {
    const packet = Buffer.alloc(12 + 160, PCMA_SILENCE);
    packet[0] = 0x80;
    packet[1] = payloadType & 0x7f;
    packet.writeUInt32BE(0x5ca1ab1e, 8);
    let seq = 0;
    let ts = 0;
    let due = performance.now();
    const tick = (): void => {
      if (this.ended) return;
      packet.writeUInt16BE(seq, 2);
      packet.writeUInt32BE(ts >>> 0, 4);
      seq = (seq + 1) & 0xffff;
      ts += 160;
      this.socket.send(packet, port, address);
      due += FRAME_MS;
      this.sender = setTimeout(tick, Math.max(0, due - performance.now()));
    };
    tick();
  }

  private onRtp(msg: Buffer): void {
    const at = performance.now();
    if (msg.length < 12 || ((msg[1] ?? 0) & 0x7f) === 101) return;
    const seq = msg.readUInt16BE(2);
    if (this.recording && this.lastSeq >= 0) {
      const step = (seq - this.lastSeq + 0x10000) & 0xffff;
      if (step >= 1 && step < 3000) {
        this.expected += step;
        this.received++;
        if (step === 1) this.deviations.push(Math.abs(at - this.lastAt - FRAME_MS));
      }
    }
    this.lastSeq = seq;
    this.lastAt = at;
  }
}

/**
 * The probes' packets as the kernel saw them leave the server (rtp-arrivals.py), free of this
 * process's own scheduling noise. Null when packet capture is not possible (no python3 or no
 * CAP_NET_RAW); the probes' own receive times are used then.
 */
class WireCapture {
  private readonly lines: string[] = [];
  private partial = '';

  private constructor(private readonly child: ChildProcess) {
    child.stdout?.on('data', (chunk: Buffer) => {
      const text = this.partial + chunk.toString();
      const lines = text.split('\n');
      this.partial = lines.pop() ?? '';
      for (const line of lines) this.lines.push(line);
    });
  }

  static async start(ports: number[], maxSeconds: number): Promise<WireCapture | null> {
    if (ports.length === 0) return null;
    const child = spawn('python3', [CAPTURE, String(maxSeconds), ...ports.map(String)], { stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(child);
    // Closing stdin is how the capture is told to stop; if it already exited, that is no error.
    child.stdin?.on('error', () => {});
    let errors = '';
    child.stderr?.on('data', (chunk: Buffer) => { errors = (errors + chunk.toString()).slice(-2000); });
    const capture = new WireCapture(child);
    const ready = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 5000);
      const check = (): void => {
        if (capture.lines.includes('ready')) {
          clearTimeout(timer);
          resolve(true);
        }
      };
      child.stdout?.on('data', check);
      child.once('exit', () => { clearTimeout(timer); resolve(false); });
      child.once('error', () => { clearTimeout(timer); resolve(false); });
    });
    if (!ready) {
      log(`packet capture unavailable, timing probes in this process instead: ${errors.trim() || 'no ready line'}`);
      child.kill('SIGKILL');
      children.delete(child);
      return null;
    }
    return capture;
  }

  /** Stops capturing; per port, the packets in the order they left: [seq, nanoseconds]. */
  async stop(dumpPath: string): Promise<Map<number, [number, number][]>> {
    this.child.stdin?.end();
    await terminate(this.child, 2000);
    writeFileSync(dumpPath, this.lines.join('\n'));
    const byPort = new Map<number, [number, number][]>();
    for (const line of this.lines) {
      const [port, seq, ns] = line.split(' ').map(Number);
      if (port === undefined || seq === undefined || ns === undefined || !Number.isFinite(ns)) continue;
      let packets = byPort.get(port);
      if (!packets) byPort.set(port, (packets = []));
      packets.push([seq, ns]);
    }
    return byPort;
  }
}

/**
 * |interval − 20 ms| between consecutive packets, and packets expected and seen. Expected is the
 * larger of the sequence-number span and the wall-clock span: a server that falls too far behind
 * skips ticks, and then sends fewer packets with no gap in their numbering.
 */
function wireJitter(byPort: Map<number, [number, number][]>): { deviations: number[]; expected: number; received: number; rfc3550MaxMs: number } {
  const deviations: number[] = [];
  let expected = 0;
  let received = 0;
  let rfc3550MaxMs = 0;
  for (const packets of byPort.values()) {
    const first = packets[0];
    const last = packets[packets.length - 1];
    if (first === undefined || last === undefined) continue;
    // RFC 3550 A.8's smoothed estimate, the number RTCP reports and most tools show.
    let j = 0;
    let seqSpan = 1;
    for (let i = 1; i < packets.length; i++) {
      const [seq, ns] = packets[i] as [number, number];
      const [lastSeq, lastNs] = packets[i - 1] as [number, number];
      const step = (seq - lastSeq + 0x10000) & 0xffff;
      if (step < 1 || step >= 3000) continue;
      seqSpan += step;
      if (step !== 1) continue;
      const deviation = Math.abs((ns - lastNs) / 1e6 - FRAME_MS);
      deviations.push(deviation);
      j += (deviation - j) / 16;
      if (j > rfc3550MaxMs) rfc3550MaxMs = j;
    }
    // One packet of slack: a late final packet must not read as a missing one.
    const clockSpan = Math.round((last[1] - first[1]) / 1e6 / FRAME_MS);
    expected += Math.max(seqSpan, clockSpan, packets.length);
    received += packets.length;
  }
  return { deviations, expected, received, rfc3550MaxMs };
}

// ---------------------------------------------------------------------------------------------
// SIPp

interface SippRun {
  child: ChildProcess;
  done: Promise<number | null>;
  dir: string;
  output: () => string;
}

function startSipp(dir: string, sipPort: number, calls: number, pauseMs: number, timeoutSecs: number, localPort: number): SippRun {
  copyFileSync(SCENARIO, join(dir, 'uac-rtp-hold.xml'));
  const args = [
    '-sf', 'uac-rtp-hold.xml', `127.0.0.1:${sipPort}`,
    '-i', '127.0.0.1', '-p', String(localPort),
    '-mi', '127.0.0.1', '-mp', String(SIPP_MEDIA_PORT),
    '-t', 'u1', '-s', NUMBER,
    '-m', String(calls), '-r', String(rate), '-l', String(calls),
    '-d', String(pauseMs),
    '-max_socket', String(Math.max(1024, calls * 4 + 256)),
    '-timeout', `${timeoutSecs}s`, '-timeout_error',
    '-trace_stat', '-stf', 'stat.csv', '-fd', '1',
    '-trace_rtt', '-rtt_freq', '1',
    '-trace_err',
    '-nostdin',
  ];
  const child = spawn(SIPP, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  // SIPp redraws its screen every second; only the latest screenful is worth keeping.
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString()).slice(-8000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const done = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      children.delete(child);
      resolve(code);
    });
    child.once('error', (error) => {
      tail += `\n${error.message}`;
      children.delete(child);
      resolve(null);
    });
  });
  return { child, done, dir, output: () => tail };
}

/** SuccessfulCall(C) and FailedCall(C) from the last row of SIPp's statistics CSV. */
function sippCounts(dir: string): { completed: number; failed: number } | null {
  const path = join(dir, 'stat.csv');
  if (!existsSync(path)) return null;
  const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '');
  const header = lines[0]?.split(';') ?? [];
  const last = lines[lines.length - 1]?.split(';') ?? [];
  const column = (name: string): number => Number(last[header.indexOf(name)] ?? NaN);
  const completed = column('SuccessfulCall(C)');
  const failed = column('FailedCall(C)');
  return Number.isFinite(completed) && Number.isFinite(failed) ? { completed, failed } : null;
}

/** Every INVITE → 200 time (rtd) SIPp traced, in ms. */
function sippSetupTimes(dir: string): number[] {
  const file = readdirSync(dir).find((name) => name.endsWith('_rtt.csv'));
  if (!file) return [];
  const times: number[] = [];
  for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
    const fields = line.split(';');
    const ms = Number(fields[1]);
    if (fields.length >= 2 && line.trim() !== '' && Number.isFinite(ms) && !/[a-z]/i.test(fields[1] ?? '')) times.push(ms);
  }
  return times;
}

// ---------------------------------------------------------------------------------------------
// One step

interface StepResult {
  calls: number;
  completed: number;
  failed: number;
  server_cpu_pct: number | null;
  sipp_cpu_pct: number | null;
  rss_mb: number | null;
  rss_per_call_kb: number | null;
  jitter_p50_ms: number | null;
  jitter_p99_ms: number | null;
  loss_pct: number | null;
  setup_p50_ms: number | null;
  setup_p99_ms: number | null;
  scheduler_lateness_p99_ms: number | null;
  // Beyond the required fields: what the headline numbers are made of.
  scheduler_lateness_p50_ms: number | null;
  /** Window only (derived from the cumulative means); the percentiles above count from the server's start, ramp included. */
  scheduler_window_lateness_mean_ms: number | null;
  scheduler_window_pass_mean_ms: number | null;
  /** Ticks dropped because the event loop was too far behind (the scheduler's maxBacklogTicks): in the window, and over the whole step. */
  scheduler_window_skipped_ticks: number;
  scheduler_skipped_ticks: number;
  /** Whole machine, in percent of one core (200 is both cores of a 2-core box). */
  machine_cpu_pct: number | null;
  /** Machine CPU not used by the server, SIPp or this process: other jobs distorting the numbers. */
  other_cpu_pct: number | null;
  /** Busy CPU before the step started, after waiting for the machine to quieten. */
  idle_machine_cpu_pct: number | null;
  live_calls_in_window: number | null;
  window_s: number | null;
  /** kernel: send times captured on lo; bench: the probes' receive times in this process (noisier). */
  jitter_source: 'kernel' | 'bench';
  jitter_samples: number;
  /** The same intervals as timed by this process's event loop, for comparison with the kernel's. */
  jitter_bench_p99_ms: number | null;
  jitter_max_ms: number | null;
  /** Highest RFC 3550 interarrival jitter estimate of any probe stream on the wire (kernel capture only). */
  jitter_rfc3550_max_ms: number | null;
  /** Inbound packets lost or too late for playout, over every leg of the step. */
  rtp_in_loss_pct: number | null;
  /** Packets the server did not send compared with what it received on the same legs (skipped ticks). */
  rtp_out_shortfall_pct: number | null;
  /** Frames the server's jitter buffers concealed or dropped (backlog) over the step. */
  rtp_concealed_frames: number | null;
  rtp_dropped_frames: number | null;
  rtp_slipped_frames: number | null;
  rtp_skipped_quiet_frames: number | null;
  /**
   * With the RTP I/O thread: how late each tick's batch left against its send time (window mean;
   * p99 and max from the server's start, ramp included), and the batches of the window that
   * reached the thread after their send time (media passes later than the send delay).
   */
  rtp_thread_window_send_lateness_mean_ms: number | null;
  rtp_thread_send_lateness_p99_ms: number | null;
  rtp_thread_send_lateness_max_ms: number | null;
  rtp_thread_window_overdue_batches: number | null;
  probe_loss_pct: number | null;
  probe_calls: number;
  probe_failed: number;
  probe_setup_p50_ms: number | null;
  ok: boolean;
}

async function runStep(calls: number, attempt: number, scratch: string, app: App, ua: SipUserAgent): Promise<StepResult> {
  const dir = join(scratch, `step-${calls}-${attempt}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'pcma.raw'), pcmaPayload());
  const rampSecs = calls / rate;
  const windowSecs = Math.max(3, holdSecs - 2);
  // Each SIPp call holds long enough for the rest of the ramp, the probes and the whole window.
  const pauseSecs = Math.ceil(rampSecs * 1.25) + 3 + windowSecs + 3;
  const sippTimeoutSecs = Math.ceil(pauseSecs + rampSecs * 2 + 60);

  const idleMachine = await waitForQuiet(180_000, QUIET_CPU_PCT, log);
  const server = await ServerProcess.start({
    dir, apiKey: API_KEY, rtpPorts: `${SERVER_RTP_PORTS.min}-${SERVER_RTP_PORTS.max}`, nodeArgs: serverNodeArgs,
    config: {
      ...extraServerConfig,
      applications: [{ id: APP_ID, application_name: 'sip-load', webhook_event_url: app.url }],
      numbers: { [NUMBER]: APP_ID },
    },
  });
  app.use(server.url, (pauseSecs + 120) * 1000);
  const probes: Probe[] = [];
  let sipp: SippRun | null = null;
  const stopTrace = process.env['SIPLOAD_TRACE'] === '1' ? traceCounters(server, calls) : null;
  try {
    await sleep(1000);
    const idleRssKb = rssKb(server.pid);
    log(`step ${calls}: server pid ${server.pid} SIP :${server.sipPort}, idle RSS ${Math.round((idleRssKb ?? 0) / 1024)} MB; SIPp ramps at ${rate}/s, holds ${pauseSecs} s`);
    sipp = startSipp(dir, server.sipPort, calls, pauseSecs * 1000, sippTimeoutSecs, await freeUdpPort());
    const sippRun = sipp;
    let sippExited = false;
    void sippRun.done.then(() => { sippExited = true; });

    // All N up, or as many as made it when the ramp is clearly over.
    const upDeadline = performance.now() + (rampSecs * 2 + 30) * 1000;
    let live = 0;
    while (performance.now() < upDeadline && !sippExited) {
      live = (await server.stats<StatsData>()).live_calls;
      if (live >= calls) break;
      await sleep(500);
    }
    log(`step ${calls}: ${live} calls up${live < calls ? ' (not all: measuring what there is)' : ''}`);

    for (let i = 0; i < probeCount; i++) probes.push(await Probe.open());
    await Promise.all(probes.map((probe, i) => probe.place(ua, server.sipPort, calls * 10 + i, 10_000)));
    await sleep(1000);

    const capture = await WireCapture.start(probes.filter((p) => p.setupMs !== null).map((p) => p.port), windowSecs + 30);
    const before = await server.stats<StatsData>();
    const machine0 = machineTicks();
    const self0 = selfTicks();
    const server0 = processTicks(server.pid);
    const sipp0 = sippRun.child.pid ? processTicks(sippRun.child.pid) : null;
    for (const probe of probes) probe.record(true);
    // CLOCK_MONOTONIC, the clock of a --cpu-prof profile's timestamps: lets a profile be cut to the window.
    const windowStartUs = process.hrtime.bigint() / 1000n;
    await sleep(windowSecs * 1000);
    const server1 = processTicks(server.pid);
    const sipp1 = sippRun.child.pid ? processTicks(sippRun.child.pid) : null;
    const machine1 = machineTicks();
    const self1 = selfTicks();
    for (const probe of probes) probe.record(false);
    log(`step ${calls}: window monotonic µs ${windowStartUs}-${process.hrtime.bigint() / 1000n}`);
    const during = await server.stats<StatsData>();
    const wire = capture ? wireJitter(await capture.stop(join(dir, 'wire.txt'))) : null;
    const windowS = server0 && server1 ? (server1.at - server0.at) / 1000 : null;
    log(`step ${calls}: window ${windowSecs} s with ${before.live_calls}→${during.live_calls} calls, scheduler pass mean ${round(during.media.pass_mean_ms, 2)} ms max ${round(during.media.pass_max_ms, 1)} ms, skipped ticks ${during.media.skipped_ticks}`);

    await Promise.all(probes.map((probe) => probe.hangUp(3000)));
    const sippCode = await Promise.race([sippRun.done, sleep((sippTimeoutSecs + 30) * 1000).then(() => 'timeout' as const)]);
    if (sippCode === 'timeout') {
      log(`step ${calls}: SIPp did not finish in time; killing it`);
      sippRun.child.kill('SIGKILL');
      await sippRun.done;
    }
    // Let the last BYEs land so every leg's counters are folded into the totals.
    const settleDeadline = performance.now() + 10_000;
    let after = await server.stats<StatsData>();
    while (after.live_calls > 0 && performance.now() < settleDeadline) {
      await sleep(250);
      after = await server.stats<StatsData>();
    }

    const counts = sippCounts(dir);
    const setups = sippSetupTimes(dir);
    const benchDeviations = probes.flatMap((p) => p.deviations);
    const deviations = wire && wire.deviations.length > 0 ? wire.deviations : benchDeviations;
    const probeExpected = wire ? wire.expected : probes.reduce((sum, p) => sum + p.expected, 0);
    const probeReceived = wire ? wire.received : probes.reduce((sum, p) => sum + p.received, 0);
    const probeLossPct = probeExpected > 0 ? round(((probeExpected - probeReceived) / probeExpected) * 100, 3) : null;
    const rtp = after.rtp;
    // Late packets miss their playout slot: to the listener they are as lost as the missing ones.
    const rtpInLossPct = rtp && rtp.packets_received + rtp.packets_lost > 0
      ? round(((rtp.packets_lost + rtp.late) / (rtp.packets_received + rtp.packets_lost)) * 100, 3) : null;
    // SIPp sends on time, so on the same legs the server should send as many packets as it got;
    // fewer means ticks it skipped while the event loop was far behind (audio gaps out).
    const rtpOutShortfallPct = rtp && rtp.packets_received > 0
      ? round(Math.max(0, (rtp.packets_received - rtp.packets_sent) / rtp.packets_received) * 100, 3) : null;
    const lossParts = [rtpInLossPct, rtpOutShortfallPct, probeLossPct].filter((v): v is number => v !== null);
    const lossPct = lossParts.length === 0 ? null : Math.max(...lossParts);
    const probeFailed = probes.filter((p) => p.failed !== null).length;
    for (const probe of probes) if (probe.failed) log(`step ${calls}: probe failed: ${probe.failed}`);
    const rssMb = during.process.rss_bytes / 1024 / 1024;
    const liveInWindow = Math.min(before.live_calls, during.live_calls);
    const completed = counts?.completed ?? 0;
    const failed = counts ? counts.failed : calls;
    const jitterP99 = percentile(deviations, 0.99);

    if (counts === null) log(`step ${calls}: no SIPp statistics; its last output:\n${sippRun.output()}`);
    else if (counts.failed > 0 || sippCode !== 0) log(`step ${calls}: SIPp exit ${String(sippCode)}, ${counts.failed} failed; its last output:\n${sippRun.output().slice(-3000)}`);
    if (app.errors.length > 0) log(`step ${calls}: app command errors (first ${app.errors.length}): ${app.errors.slice(0, 5).join(' | ')}`);
    for (const line of server.problems()) log(`step ${calls}: server: ${line}`);
    log(`step ${calls}: server rtp ${JSON.stringify(rtp)}`);

    const result: StepResult = {
      calls,
      completed,
      failed,
      server_cpu_pct: round(pctOfCore(server0, server1), 1),
      sipp_cpu_pct: round(pctOfCore(sipp0, sipp1), 1),
      rss_mb: round(rssMb, 1),
      rss_per_call_kb: idleRssKb !== null && liveInWindow > 0 ? round((during.process.rss_bytes / 1024 - idleRssKb) / liveInWindow, 1) : null,
      jitter_p50_ms: round(percentile(deviations, 0.5), 2),
      jitter_p99_ms: round(jitterP99, 2),
      loss_pct: lossPct,
      setup_p50_ms: round(percentile(setups, 0.5), 1),
      setup_p99_ms: round(percentile(setups, 0.99), 1),
      scheduler_lateness_p99_ms: round(during.media.lateness_p99_ms, 2),
      scheduler_lateness_p50_ms: round(during.media.lateness_p50_ms, 2),
      scheduler_window_lateness_mean_ms: round(windowMean(before.media, during.media, 'lateness_mean_ms'), 3),
      scheduler_window_pass_mean_ms: round(windowMean(before.media, during.media, 'pass_mean_ms'), 3),
      scheduler_window_skipped_ticks: during.media.skipped_ticks - before.media.skipped_ticks,
      scheduler_skipped_ticks: after.media.skipped_ticks,
      machine_cpu_pct: round(pctOfCore(machine0, machine1), 1),
      other_cpu_pct: otherCpu(round(pctOfCore(machine0, machine1), 1), [round(pctOfCore(server0, server1), 1), round(pctOfCore(sipp0, sipp1), 1), round(pctOfCore(self0, self1), 1)]),
      idle_machine_cpu_pct: idleMachine,
      live_calls_in_window: liveInWindow,
      window_s: windowS === null ? null : round(windowS, 1),
      jitter_source: deviations === benchDeviations ? 'bench' : 'kernel',
      jitter_samples: deviations.length,
      jitter_bench_p99_ms: round(percentile(benchDeviations, 0.99), 2),
      jitter_max_ms: round(deviations.length > 0 ? Math.max(...deviations) : null, 2),
      jitter_rfc3550_max_ms: wire ? round(wire.rfc3550MaxMs, 2) : null,
      rtp_in_loss_pct: rtpInLossPct,
      rtp_out_shortfall_pct: rtpOutShortfallPct,
      rtp_concealed_frames: rtp?.concealed_frames ?? null,
      rtp_dropped_frames: rtp?.dropped_frames ?? null,
      rtp_slipped_frames: rtp?.slipped_frames ?? null,
      rtp_skipped_quiet_frames: rtp?.skipped_quiet_frames ?? null,
      ...sendTimingFields(before.rtp?.send_timing ?? null, during.rtp?.send_timing ?? null),
      probe_loss_pct: probeLossPct,
      probe_calls: probes.length,
      probe_failed: probeFailed,
      probe_setup_p50_ms: round(percentile(probes.flatMap((p) => (p.setupMs === null ? [] : [p.setupMs])), 0.5), 1),
      ok: false,
    };
    result.ok = failed === 0 && probeFailed === 0 && completed === calls && liveInWindow >= calls
      && jitterP99 !== null && jitterP99 <= TARGET.jitter_p99_ms && lossPct !== null && lossPct <= TARGET.loss_pct;
    return result;
  } finally {
    stopTrace?.();
    await Promise.all(probes.map((probe) => probe.hangUp(500)));
    if (sipp && sipp.child.exitCode === null && sipp.child.signalCode === null) {
      sipp.child.kill('SIGKILL');
      await sipp.done;
    }
    await server.stop();
  }
}

// ---------------------------------------------------------------------------------------------

const results: StepResult[] = [];

function summary(error?: string): string {
  const ok = results.filter((r) => r.ok).map((r) => r.calls);
  return `${JSON.stringify({
    steps: results,
    max_ok_calls: ok.length > 0 ? Math.max(...ok) : 0,
    target: TARGET,
    hold_s: holdSecs,
    rate_cps: rate,
    server_config: extraServerConfig,
    ...(error ? { error } : {}),
  })}\n`;
}

async function main(): Promise<void> {
  if (!existsSync(SIPP)) throw new Error(`SIPp not found at ${SIPP}`);
  if (maxCalls > MAX_CALLS) throw new Error(`at most ${MAX_CALLS} calls: SIPp's media ports would run into the server's RTP range`);
  const steps = stepList();
  const scratch = mkdtempSync(join(tmpdir(), 'sip-load-'));
  log(`steps ${steps.join(', ')}; hold ${holdSecs} s; ${probeCount} probes; scratch ${scratch}`);
  const app = await App.start();
  const ua = new SipUserAgent({ host: '127.0.0.1', udpPort: 0, tcpPort: null, userAgent: 'sip-load-probe', contactUser: 'probe' });
  await ua.start();
  try {
    for (const calls of steps) {
      let result = await runStep(calls, 0, scratch, app, ua);
      // Another job that woke up during the window skews it; try again and keep the cleaner run.
      let last = result;
      for (let attempt = 1; attempt <= CONTENDED_RETRIES && (last.other_cpu_pct ?? 0) > QUIET_CPU_PCT; attempt++) {
        log(`step ${calls}: ${last.other_cpu_pct}% of a core went to other processes during the window; running it again`);
        last = await runStep(calls, attempt, scratch, app, ua);
        if ((last.other_cpu_pct ?? 0) < (result.other_cpu_pct ?? 0)) result = last;
      }
      if ((result.other_cpu_pct ?? 0) > QUIET_CPU_PCT) log(`step ${calls}: every run was disturbed by other processes; keeping the least disturbed`);
      results.push(result);
      log(`step ${calls}: ${JSON.stringify(result)}`);
      if (!result.ok && process.env['SIPLOAD_ALL_STEPS'] !== '1') {
        log(`step ${calls} missed the targets or had failures: not stepping further`);
        break;
      }
    }
  } finally {
    await ua.stop().catch(() => {});
    await app.close();
    killChildren();
    if (process.env['SIPLOAD_KEEP'] !== '1') rmSync(scratch, { recursive: true, force: true });
  }
  process.stdout.write(summary());
}

function stepList(): number[] {
  const explicit = process.env['SIPLOAD_STEPS'];
  if (explicit) return explicit.split(',').map((s) => positiveInt(s, 0)).filter((n) => n > 0 && n <= maxCalls);
  const steps = [100, 250, 500, 750, 1000].filter((n) => n < maxCalls);
  for (let n = 1250; n < maxCalls; n += 250) steps.push(n);
  steps.push(maxCalls);
  return steps;
}

/** The A-law payload of the sip-tester capture, which SIPp's rtpstream loops as raw audio. */
let pcmaCache: Buffer | null = null;
function pcmaPayload(): Buffer {
  if (pcmaCache) return pcmaCache;
  const pcap = readFileSync(PCAP);
  const little = pcap.readUInt32LE(0) === 0xa1b2c3d4;
  const u32 = (at: number): number => (little ? pcap.readUInt32LE(at) : pcap.readUInt32BE(at));
  const linkType = u32(20);
  const linkHeader = linkType === 1 ? 14 : linkType === 113 ? 16 : 0;
  const chunks: Buffer[] = [];
  for (let at = 24; at + 16 <= pcap.length;) {
    const length = u32(at + 8);
    const frame = pcap.subarray(at + 16, at + 16 + length);
    at += 16 + length;
    const ip = frame.subarray(linkHeader);
    const rtp = ip.subarray(((ip[0] ?? 0) & 0x0f) * 4 + 8);
    if (rtp.length <= 12 || ((rtp[1] ?? 0) & 0x7f) !== 8) continue;
    chunks.push(rtp.subarray(12 + ((rtp[0] ?? 0) & 0x0f) * 4));
  }
  pcmaCache = Buffer.concat(chunks);
  if (pcmaCache.length < 160) throw new Error(`no PCMA audio in ${PCAP}`);
  return pcmaCache;
}

/** Logs, once a second, what changed in the server's scheduler and RTP counters; returns a stop function. */
function traceCounters(server: ServerProcess, calls: number): () => void {
  let stopped = false;
  const started = performance.now();
  void (async () => {
    let last: StatsData | null = null;
    while (!stopped) {
      await sleep(1000);
      let now: StatsData;
      try {
        now = await server.stats<StatsData>();
      } catch {
        continue;
      }
      if (stopped) break;
      const d = (pick: (s: StatsData) => number): number => pick(now) - (last ? pick(last) : 0);
      log(`step ${calls} trace +${Math.round((performance.now() - started) / 1000)} s: live ${now.live_calls}, ticks ${d((s) => s.media.ticks)}, skipped ${d((s) => s.media.skipped_ticks)}, `
        + `lateness max ${round(now.media.lateness_max_ms, 1)} ms, pass max ${round(now.media.pass_max_ms, 1)} ms, `
        + `rtp late ${d((s) => s.rtp?.late ?? 0)} concealed ${d((s) => s.rtp?.concealed_frames ?? 0)} dropped ${d((s) => s.rtp?.dropped_frames ?? 0)} slipped ${d((s) => s.rtp?.slipped_frames ?? 0)} `
        + `sent ${d((s) => s.rtp?.packets_sent ?? 0)} received ${d((s) => s.rtp?.packets_received ?? 0)}`);
      last = now;
    }
  })();
  return () => {
    stopped = true;
  };
}

function windowMean(a: StatsData['media'], b: StatsData['media'], key: 'lateness_mean_ms' | 'pass_mean_ms'): number | null {
  const ticks = b.ticks - a.ticks;
  return ticks > 0 ? (b[key] * b.ticks - a[key] * a.ticks) / ticks : null;
}

function sendTimingFields(
  a: NonNullable<StatsData['rtp']>['send_timing'],
  b: NonNullable<StatsData['rtp']>['send_timing'],
): Pick<StepResult, 'rtp_thread_window_send_lateness_mean_ms' | 'rtp_thread_send_lateness_p99_ms' | 'rtp_thread_send_lateness_max_ms' | 'rtp_thread_window_overdue_batches'> {
  const batches = a && b ? b.batches - a.batches : 0;
  return {
    rtp_thread_window_send_lateness_mean_ms: a && b && batches > 0
      ? round((b.lateness_mean_ms * b.batches - a.lateness_mean_ms * a.batches) / batches, 3) : null,
    rtp_thread_send_lateness_p99_ms: b ? round(b.lateness_p99_ms, 2) : null,
    rtp_thread_send_lateness_max_ms: b ? round(b.lateness_max_ms, 2) : null,
    rtp_thread_window_overdue_batches: a && b ? b.overdue_batches - a.overdue_batches : null,
  };
}

function otherCpu(machine: number | null, ours: (number | null)[]): number | null {
  if (machine === null || ours.some((v) => v === null)) return null;
  return round(Math.max(0, machine - ours.reduce<number>((sum, v) => sum + (v ?? 0), 0)), 1);
}

function positiveInt(text: string | undefined, fallback: number): number {
  const n = Number(text);
  return text !== undefined && Number.isInteger(n) && n > 0 ? n : fallback;
}

// The whole run is bounded: a stuck step cannot keep children alive forever.
const overallMs = stepList().reduce((sum, n) => sum + (CONTENDED_RETRIES + 1) * ((n / rate) * 4000 + holdSecs * 1000 + 360_000), 60_000);
runBounded(main, overallMs, summary, log);
