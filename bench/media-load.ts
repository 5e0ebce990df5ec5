/**
 * Media under load: how fast playback and speech start on a SIP call, what playing and recording
 * cost per concurrent call, and how soon a recording is saved after the caller hangs up.
 *
 * The server runs as a child process (src/cli/main.ts, configured by env and a config file); this
 * process is its application (a webhook receiver plus the official SDK, answering every call and
 * issuing the commands), its SIP callers (probe calls placed with the project's SipUserAgent, RTP
 * on plain UDP sockets, and SIPp for the bulk calls) and the web server the audio URLs point at.
 *
 * Sections, in this order:
 *   1. playback start latency: `playback_start` (sent through the SDK) → the first RTP packet at a
 *      probe caller whose payload is the clip, a loud 1 kHz tone, recognised by its level (the
 *      server's silence is µ-law 0xFF/0x7F). Inline base64 WAV (`playback_content`) and a cached
 *      `audio_url` (revalidated with a 304 by this process's file server), ≥ 30 trials each;
 *   2. speak: the same, to the first non-silent packet, for the server's very first speak (cold:
 *      flite is loaded then), for fresh sentences (uncached) and for a repeat (cached); then the
 *      synthesis alone, timed in this process with the project's synthesizer;
 *   3. hangup → call.recording.saved: a probe call with a recording (wav/mp3 × single/dual, while
 *      a playback loops and the probe sends audio) hangs up with BYE; the time until the webhook
 *      reaches this process;
 *   4. load steps (N = 50, 200 SIPp calls streaming A-law both ways): server CPU (its own µs
 *      counters from /switchboard/v1/stats) with a looping playback on every call against the
 *      same calls idle, switched on and off a few times (MEDIALOAD_PAIRS) so a burst of other
 *      work lands in one pair; then, on top of the playback, a recording of each kind (wav/mp3 ×
 *      single/dual) switched with record_pause/record_resume the same way, then stopped: the CPU
 *      and wall time until every call.recording.saved, and RSS per recording.
 *      The recording's live cost is a difference of about 3 % of a core between windows whose
 *      server CPU varies by a few percent of a core from one to the next (GCs, SIPp, the
 *      machine), so it gets more and longer windows (MEDIALOAD_RECORD_PAIRS/_WINDOW_S), in
 *      balanced order (on off off on on off …, which cancels a steady drift that on-then-off
 *      pairs would add to every difference), and is reported with a 95 % confidence interval
 *      over the pairs: `live_overhead_within_target` is true only when the interval's upper end
 *      is at or below the target, null when the interval straddles it. A paused recording
 *      keeps its audio tap (the leg still copies each tick's frames and calls it), so the off
 *      windows carry that part and the difference understates the live cost by it: about
 *      0.1 µs a tick, 0.3 % of a call (bench/recording.ts, `live`, pausedLessNone).
 * One JSON object goes to stdout at the end; progress goes to stderr.
 *
 *   node --import tsx bench/media-load.ts
 *
 * Env (defaults keep the run near 6–7 minutes on 2 cores):
 *   MEDIALOAD_STEPS          comma list of concurrent call counts (default 50,200)
 *   MEDIALOAD_WINDOW_S       seconds per CPU window (default 2)
 *   MEDIALOAD_PAIRS          off/on window pairs per measured feature (default 3)
 *   MEDIALOAD_RECORD_WINDOW_S  seconds per CPU window of the recording kinds (default 3)
 *   MEDIALOAD_RECORD_PAIRS   off/on window pairs per recording kind (default 6)
 *   MEDIALOAD_TRIALS         playback latency trials per source (default 30)
 *   MEDIALOAD_SPEAK_TRIALS   speak trials, uncached and cached each (default 8)
 *   MEDIALOAD_SAVE_TRIALS    hangup → saved trials, spread over the four kinds (default 24)
 *   MEDIALOAD_RECORD_S       seconds recorded in each save trial (default 1)
 *   MEDIALOAD_RECORD_STEPS   the steps that also measure recording (default 200: a recording
 *                            costs a few µs per tick, which at 50 calls is lost in the machine's
 *                            noise; finalising 200 MP3 recordings of each kind adds about a
 *                            minute on 2 cores)
 *   MEDIALOAD_RECORD_KINDS   the recording kinds measured in the load steps (default all four:
 *                            wav_single,wav_dual,mp3_single,mp3_dual)
 *   MEDIALOAD_RATE           SIPp calls per second while ramping (default 50)
 *   MEDIALOAD_QUIET_WAIT_S   how long to wait for other jobs to calm down before each part (default 8)
 *   MEDIALOAD_FINALIZE_WAIT_S  longest wait for a step's recordings to be saved (default 120)
 *   MEDIALOAD_SECTIONS       comma list of latency,speak,save,load (default all)
 *   MEDIALOAD_SERVER_NODE_ARGS  extra node flags for the server (e.g. --cpu-prof --cpu-prof-dir=…)
 *   MEDIALOAD_KEEP=1         keep the scratch directory (server log, SIPp traces, recordings)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import Telnyx from 'telnyx';
import { RtpPacket } from '../src/endpoints/rtp/rtp-packet.js';
import type { SipOutgoingCall } from '../src/endpoints/sip/outgoing-call.js';
import { LocalSdp, parseAnswer } from '../src/endpoints/sip/sdp.js';
import { SipUserAgent } from '../src/endpoints/sip/user-agent.js';
import { encodeWav } from '../src/media/audio/wav.js';
import { PCMA, PCMU } from '../src/media/dsp/g711.js';
import { createSpeechSynthesizer } from '../src/speech/tts/index.js';
import { percentile, round } from './lib/numbers.js';
import { ServerProcess } from './lib/server-process.js';
import { freeUdpPort } from './lib/ports.js';
import { children, killChildren, killChildrenOnExit, machineTicks, pctOfCore, processTicks, rssKb, selfTicks, runBounded, waitForQuiet } from './lib/processes.js';

// ---------------------------------------------------------------------------------------------
// Parameters

const env = (name: string): string | undefined => process.env[`MEDIALOAD_${name}`];
const steps = (env('STEPS') ?? '50,200').split(',').map((s) => wholeNumber(s, 0)).filter((n) => n > 0 && n <= 2000);
const windowSecs = wholeNumber(env('WINDOW_S'), 2);
const pairs = Math.max(1, wholeNumber(env('PAIRS'), 3));
const recordWindowSecs = Math.max(1, wholeNumber(env('RECORD_WINDOW_S'), 3));
const recordPairs = Math.max(1, wholeNumber(env('RECORD_PAIRS'), 6));
const settleMs = 500;
const playbackTrials = Math.max(30, wholeNumber(env('TRIALS'), 30));
const speakTrials = wholeNumber(env('SPEAK_TRIALS'), 8);
const saveTrials = wholeNumber(env('SAVE_TRIALS'), 24);
const recordSecs = wholeNumber(env('RECORD_S'), 1);
const rampRate = wholeNumber(env('RATE'), 50);
const recordSteps = new Set((env('RECORD_STEPS') ?? '200').split(',').map((s) => wholeNumber(s, 0)));
const recordKinds = env('RECORD_KINDS') ? new Set((env('RECORD_KINDS') as string).split(',').map((s) => s.trim())) : null;
const quietWaitSecs = wholeNumber(env('QUIET_WAIT_S'), 8);
const finalizeWaitSecs = wholeNumber(env('FINALIZE_WAIT_S'), 120);
const sections = new Set((env('SECTIONS') ?? 'latency,speak,save,load').split(',').map((s) => s.trim()));
const serverNodeArgs = (env('SERVER_NODE_ARGS') ?? '').split(/\s+/).filter(Boolean);

const TARGETS = {
  playback_start_ms: 40,
  speak_synthesis_uncached_ms: 150,
  speak_synthesis_cached_ms: 5,
  recording_cpu_overhead_pct: 10,
} as const;

const SCENARIO = fileURLToPath(new URL('./media-load/uac-until-bye.xml', import.meta.url));
const SIPP = '/usr/bin/sipp';
const SCRATCH_ROOT = '/tmp/mediaload-work';

const NUMBER = '+15550100700';
const SIPP_FROM = '+15550707000';
const APP_ID = '7000000001';
const API_KEY = 'KEYmediaload0123456789';
// Away from sip-load's ranges (server 20000-29998, SIPp from 12000) and below the ephemeral ports.
const SERVER_RTP_PORTS = '16000-19998';
const SIPP_MEDIA_PORT = 14000;
const FRAME_MS = 20;
const RATE = 8000;
const ULAW_SILENCE = PCMU.silenceCode;
/** A decoded sample this loud only comes from the test tone (amplitude 16000), never from silence. */
const LOUD = 4000;
const QUIET_MACHINE_PCT = 25;
const COMMAND_CONCURRENCY = 16;

const log = (message: string): void => void process.stderr.write(`[media-load] ${message}\n`);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const now = (): number => performance.now();

killChildrenOnExit(log);

// ---------------------------------------------------------------------------------------------
// Audio made here

/** `ms` of a sine at `hz` (8 kHz mono), optionally with a slow level swell that makes it speech-like. */
function tone(hz: number, ms: number, amplitude: number): Int16Array {
  const pcm = new Int16Array((ms * RATE) / 1000);
  for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / RATE));
  return pcm;
}

/** A few seconds of voiced-sounding audio: three partials under a 4 Hz syllable envelope with pauses. */
function speechLike(seconds: number, level: number): Int16Array {
  const pcm = new Int16Array(seconds * RATE);
  for (let i = 0; i < pcm.length; i++) {
    const t = i / RATE;
    const syllable = Math.max(0, Math.sin(2 * Math.PI * 4 * t));
    const phrase = (t % 2) < 1.6 ? 1 : 0;
    const f0 = 140 + 30 * Math.sin(2 * Math.PI * 0.7 * t);
    const voice = Math.sin(2 * Math.PI * f0 * t) + 0.5 * Math.sin(2 * Math.PI * 3 * f0 * t) + 0.25 * Math.sin(2 * Math.PI * 7 * f0 * t);
    pcm[i] = Math.round(level * syllable * phrase * voice / 1.75);
  }
  return pcm;
}

function encodeG711(pcm: Int16Array, codec: typeof PCMU): Buffer {
  const out = Buffer.alloc(pcm.length);
  codec.encodeInto(pcm, out);
  return out;
}

const CLIP_TONE = Buffer.from(encodeWav(tone(1000, 200, 16000)));
const CLIP_LOOP = Buffer.from(encodeWav(speechLike(3, 9000)));

// ---------------------------------------------------------------------------------------------
// The server under test

interface Stats {
  live_calls: number;
  media: { ticks: number; skipped_ticks: number; lateness_mean_ms: number; pass_mean_ms: number };
  /** process.cpuUsage() (every thread, workers included) and process.uptime() of the server. */
  process: { rss_bytes: number; heap_used_bytes: number; cpu_user_us: number; cpu_system_us: number; uptime_s: number };
}

/** The server's CPU between two stats readings, by its own microsecond counters and clock. */
function statsCpuPct(a: Stats, b: Stats): number | null {
  const wall = b.process.uptime_s - a.process.uptime_s;
  return wall > 0 ? (statsCpuSeconds(a, b) / wall) * 100 : null;
}

function statsSystemCpuPct(a: Stats, b: Stats): number | null {
  const wall = b.process.uptime_s - a.process.uptime_s;
  return wall > 0 ? ((b.process.cpu_system_us - a.process.cpu_system_us) / 1e6 / wall) * 100 : null;
}

function statsCpuSeconds(a: Stats, b: Stats): number {
  return (b.process.cpu_user_us + b.process.cpu_system_us - a.process.cpu_user_us - a.process.cpu_system_us) / 1e6;
}

// ---------------------------------------------------------------------------------------------
// The application: webhook receiver + SDK

interface Hook {
  type: string;
  ccid: string;
  from: string;
  payload: Record<string, unknown>;
  /** When this process had read the whole request. */
  at: number;
}

class App {
  client: Telnyx | null = null;
  readonly errors: string[] = [];
  /** SIPp's calls, answered, in answer order. */
  readonly bulk: string[] = [];
  private readonly bulkInitiated = new Set<string>();
  private readonly listeners = new Set<(hook: Hook) => void>();
  private readonly probes = new Map<string, (ccid: string) => void>();

  private constructor(private readonly server: Server, readonly url: string) {}

  static async start(): Promise<App> {
    let app: App | null = null;
    const server = createServer((req, res) => app?.receive(req, res));
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    app = new App(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks`);
    return app;
  }

  get sdk(): Telnyx {
    if (!this.client) throw new Error('no server yet');
    return this.client;
  }

  use(serverUrl: string): void {
    this.client = new Telnyx({ apiKey: API_KEY, baseURL: `${serverUrl}/v2`, maxRetries: 0, timeout: 30_000 });
  }

  /** The call from `from` will be answered; resolves with its call_control_id at call.initiated. */
  expectProbe(from: string): Promise<string> {
    return new Promise((resolve) => this.probes.set(from, resolve));
  }

  /** The next event matching `match`, or null after `timeoutMs`. Register before causing it. */
  next(match: (hook: Hook) => boolean, timeoutMs: number): Promise<Hook | null> {
    return new Promise((resolve) => {
      const listener = (hook: Hook): void => {
        if (!match(hook)) return;
        finish(hook);
      };
      const timer = setTimeout(() => finish(null), timeoutMs);
      const finish = (hook: Hook | null): void => {
        clearTimeout(timer);
        this.listeners.delete(listener);
        resolve(hook);
      };
      this.listeners.add(listener);
    });
  }

  /** Resolves when `type` has arrived for every one of `ccids` (or the time is up): how many did. */
  all(type: string, ccids: readonly string[], timeoutMs: number): { done: Promise<number>; arrivals: number[] } {
    const waiting = new Set(ccids);
    const arrivals: number[] = [];
    const done = new Promise<number>((resolve) => {
      const listener = (hook: Hook): void => {
        if (hook.type !== type || !waiting.delete(hook.ccid)) return;
        arrivals.push(hook.at);
        if (waiting.size === 0) finish();
      };
      const timer = setTimeout(() => finish(), timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        this.listeners.delete(listener);
        resolve(ccids.length - waiting.size);
      };
      this.listeners.add(listener);
      if (ccids.length === 0) finish();
    });
    return { done, arrivals };
  }

  /** Runs a command and keeps (a few of) its failures for the report. */
  async command(what: string, run: () => Promise<unknown>): Promise<boolean> {
    try {
      await run();
      return true;
    } catch (error) {
      if (this.errors.length < 12) this.errors.push(`${what}: ${String(error).slice(0, 200)}`);
      return false;
    }
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private receive(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const at = now();
      res.writeHead(200).end();
      // Signatures are not checked: the only sender is our own child on loopback.
      let data: { event_type?: string; payload?: Record<string, unknown> } | undefined;
      try {
        data = (JSON.parse(Buffer.concat(chunks).toString()) as { data?: typeof data }).data;
      } catch {
        return;
      }
      const payload = data?.payload ?? {};
      const hook: Hook = {
        type: String(data?.event_type ?? ''),
        ccid: String(payload['call_control_id'] ?? ''),
        from: String(payload['from'] ?? ''),
        payload,
        at,
      };
      if (hook.type === 'call.initiated' && hook.ccid) {
        const probe = this.probes.get(hook.from);
        if (probe || hook.from === SIPP_FROM) {
          if (probe) {
            this.probes.delete(hook.from);
            probe(hook.ccid);
          } else {
            this.bulkInitiated.add(hook.ccid);
          }
          const client = this.client;
          if (client) void this.command('answer', () => client.calls.actions.answer(hook.ccid, {}));
        }
      } else if (hook.type === 'call.answered' && this.bulkInitiated.delete(hook.ccid)) {
        this.bulk.push(hook.ccid);
      }
      for (const listener of [...this.listeners]) listener(hook);
    });
  }
}

/** Runs `fn` over `items`, at most `limit` at once. */
async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++] as T);
  }));
}

// ---------------------------------------------------------------------------------------------
// A file server for audio_url, with ETags so that cached audio is revalidated with a 304

class Files {
  requests = 0;
  notModified = 0;
  private constructor(private readonly server: Server, readonly url: string) {}

  static async start(files: Record<string, Buffer>): Promise<Files> {
    let self: Files | null = null;
    const server = createServer((req, res) => {
      if (self) self.requests++;
      const body = files[(req.url ?? '').split('?')[0] ?? ''];
      if (!body) {
        res.writeHead(404).end();
        return;
      }
      const etag = `"ml-${body.length}"`;
      if (req.headers['if-none-match'] === etag) {
        if (self) self.notModified++;
        res.writeHead(304, { etag }).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'audio/wav', etag }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    self = new Files(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return self;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

// ---------------------------------------------------------------------------------------------
// Probe caller: one SIP call from this process, PCMU, RTP on its own socket

type AudioTest = 'loud' | 'non-silent';

class Probe {
  readonly from: string;
  call: SipOutgoingCall | null = null;
  /** When the last packet carrying audio (by `watching`'s test) arrived. */
  lastAudioAt = 0;
  private readonly packet = new RtpPacket();
  private watching: AudioTest = 'loud';
  private waiter: { test: AudioTest; resolve: (at: number | null) => void; timer: NodeJS.Timeout } | null = null;
  private sender: NodeJS.Timeout | null = null;
  private outbound: Buffer = Buffer.alloc(RATE, ULAW_SILENCE);
  private ended = false;
  private endedWaiters: (() => void)[] = [];

  private constructor(private readonly socket: Socket, readonly port: number, index: number) {
    this.from = `+1555061${String(index % 10000).padStart(4, '0')}`;
    socket.on('message', (msg) => this.onRtp(msg));
  }

  static async open(index: number): Promise<Probe> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => resolve());
    });
    return new Probe(socket, socket.address().port, index);
  }

  /** Places the call; resolves once it is answered and RTP flows both ways, throws otherwise. */
  place(ua: SipUserAgent, sipPort: number, timeoutMs: number): Promise<void> {
    const body = new LocalSdp('probe').offer({ address: '127.0.0.1', port: this.port, codecs: ['PCMU'] });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`probe ${this.from}: no answer in ${timeoutMs} ms`)), timeoutMs);
      const call = ua.invite({
        to: `sip:${NUMBER}@127.0.0.1:${sipPort}`,
        from: `sip:${this.from}@127.0.0.1`,
        offer: { contentType: 'application/sdp', body },
      });
      this.call = call;
      call.on('answered', (response) => {
        clearTimeout(timer);
        const answer = parseAnswer(response.body.toString(), { codecs: ['PCMU'] });
        if (!answer.ok || answer.media.remote === null) {
          reject(new Error(`probe ${this.from}: unusable SDP answer`));
          return;
        }
        this.startSending(answer.media.remote.address, answer.media.remote.port, answer.media.codec.payloadType);
        resolve();
      });
      call.on('failed', (failure) => {
        clearTimeout(timer);
        this.markEnded();
        reject(new Error(`probe ${this.from}: ${failure.status} ${failure.reason}`));
      });
      call.on('ended', () => this.markEnded());
    });
  }

  /** What the probe says from now on: PCMU bytes, looped. */
  speak(payload: Buffer): void {
    this.outbound = payload.length >= 160 ? payload : Buffer.alloc(RATE, ULAW_SILENCE);
  }

  /**
   * Resolves with the arrival time of the first packet passing `test` from now on, or null
   * after `timeoutMs`.
   */
  expectAudio(test: AudioTest, timeoutMs: number): Promise<number | null> {
    this.cancelWait();
    this.watching = test;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        resolve(null);
      }, timeoutMs);
      this.waiter = { test, resolve, timer };
    });
  }

  /** Waits (bounded) until nothing audible has arrived for `quietMs`. */
  async quiet(test: AudioTest, quietMs: number, maxMs: number): Promise<boolean> {
    this.watching = test;
    const deadline = now() + maxMs;
    for (let i = 0; i < 1000 && now() < deadline; i++) {
      if (now() - this.lastAudioAt >= quietMs) return true;
      await sleep(10);
    }
    return false;
  }

  /** Sends BYE; resolves when the dialog has ended (or after `timeoutMs`). */
  async hangUp(timeoutMs: number): Promise<void> {
    if (!this.ended && this.call) {
      const gone = new Promise<void>((resolve) => this.endedWaiters.push(resolve));
      this.call.bye();
      await Promise.race([gone, sleep(timeoutMs)]);
    }
    this.markEnded();
  }

  close(): void {
    this.markEnded();
    this.cancelWait();
    try {
      this.socket.close();
    } catch {
      // Closed already.
    }
  }

  /** Drops the pending expectAudio (it resolves with null). */
  cancelWait(): void {
    if (!this.waiter) return;
    clearTimeout(this.waiter.timer);
    this.waiter.resolve(null);
    this.waiter = null;
  }

  private markEnded(): void {
    this.ended = true;
    if (this.sender) clearTimeout(this.sender);
    this.sender = null;
    for (const resolve of this.endedWaiters.splice(0)) resolve();
  }

  /** 20 ms packets on a fixed grid, for at most ten minutes (a bound, should a BYE get lost). */
  private startSending(address: string, port: number, payloadType: number): void {
    const out = Buffer.alloc(12 + 160);
    const packet = new RtpPacket();
    packet.payloadType = payloadType;
    packet.ssrc = (Math.random() * 0xffffffff) >>> 0;
    let at = 0;
    let due = now();
    const limit = (10 * 60 * 1000) / FRAME_MS;
    const tick = (count: number): void => {
      if (this.ended || count >= limit) return;
      const source = this.outbound;
      const offset = at % (source.length - (source.length % 160));
      packet.sequenceNumber = count & 0xffff;
      packet.timestamp = (count * 160) >>> 0;
      packet.marker = count === 0;
      packet.setPayload(source, offset, 160);
      const length = packet.serializeInto(out);
      this.socket.send(out, 0, length, port, address);
      at = offset + 160;
      due += FRAME_MS;
      this.sender = setTimeout(() => tick(count + 1), Math.max(0, due - now()));
    };
    tick(0);
  }

  private onRtp(msg: Buffer): void {
    const at = now();
    const packet = this.packet;
    if (packet.parse(msg) !== null || packet.payloadType !== 0) return;
    const data = packet.payloadData;
    const end = packet.payloadOffset + packet.payloadLength;
    let audible = false;
    const test = this.waiter?.test ?? this.watching;
    for (let i = packet.payloadOffset; i < end; i++) {
      const code = data[i] as number;
      if (test === 'non-silent' ? code !== 0xff && code !== 0x7f : Math.abs(PCMU.decodeSample(code)) >= LOUD) {
        audible = true;
        break;
      }
    }
    if (!audible) return;
    this.lastAudioAt = at;
    const waiter = this.waiter;
    if (waiter && waiter.test === test) {
      this.waiter = null;
      clearTimeout(waiter.timer);
      waiter.resolve(at);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Section 1 and 2: start latency on one probe call

interface LatencyTrial { first_audio_ms: number | null; ack_ms: number; started_event_ms: number | null }

function summarise(trials: LatencyTrial[]): Record<string, number | null> {
  const audio = trials.flatMap((t) => (t.first_audio_ms === null ? [] : [t.first_audio_ms]));
  const acks = trials.map((t) => t.ack_ms);
  const events = trials.flatMap((t) => (t.started_event_ms === null ? [] : [t.started_event_ms]));
  return {
    trials: trials.length,
    missed: trials.length - audio.length,
    p50_ms: round(percentile(audio, 0.5), 1),
    p99_ms: round(percentile(audio, 0.99), 1),
    mean_ms: round(audio.length ? audio.reduce((s, v) => s + v, 0) / audio.length : null, 1),
    min_ms: round(audio.length ? Math.min(...audio) : null, 1),
    max_ms: round(audio.length ? Math.max(...audio) : null, 1),
    command_ack_p50_ms: round(percentile(acks, 0.5), 1),
    command_ack_p99_ms: round(percentile(acks, 0.99), 1),
    started_webhook_p50_ms: round(percentile(events, 0.5), 1),
  };
}

/**
 * One start: waits for quiet, starts at a random point of the 20 ms media tick, times the first
 * audible packet, then stops what plays (when `stop`) and waits for its end event.
 */
async function startTrial(
  app: App, probe: Probe, ccid: string, kind: 'playback' | 'speak', test: AudioTest,
  start: () => Promise<unknown>,
): Promise<LatencyTrial> {
  await probe.quiet(test, 80, 5000);
  await sleep(30 + Math.random() * FRAME_MS);
  const ofCall = (type: string) => (hook: Hook): boolean => hook.type === type && hook.ccid === ccid;
  const started = app.next(ofCall(`call.${kind}.started`), 15_000);
  const ended = app.next(ofCall(`call.${kind}.ended`), 30_000);
  const audio = probe.expectAudio(test, 15_000);
  const t0 = now();
  const accepted = await app.command(`${kind} start`, start);
  const ack = now() - t0;
  if (!accepted) probe.cancelWait();
  const heard = await audio;
  const startedHook = accepted ? await started : null;
  // Speech runs for seconds: stop it once heard. A 200 ms tone just ends.
  if (kind === 'speak' && accepted) await app.command('playback_stop', () => app.sdk.calls.actions.stopPlayback(ccid, {}));
  if (accepted) await ended;
  return {
    first_audio_ms: heard === null ? null : heard - t0,
    ack_ms: ack,
    started_event_ms: startedHook === null ? null : startedHook.at - t0,
  };
}

async function openProbeCall(app: App, ua: SipUserAgent, server: ServerProcess, index: number): Promise<{ probe: Probe; ccid: string }> {
  const probe = await Probe.open(index);
  const ccidPromise = app.expectProbe(probe.from);
  const answered = app.next((hook) => hook.type === 'call.answered' && hook.from === probe.from, 10_000);
  try {
    await probe.place(ua, server.sipPort, 10_000);
  } catch (error) {
    probe.close();
    throw error;
  }
  const ccid = await Promise.race([ccidPromise, sleep(5000).then(() => '')]);
  await answered;
  if (!ccid) {
    probe.close();
    throw new Error(`no call.initiated for probe ${probe.from}`);
  }
  return { probe, ccid };
}

async function playbackLatency(app: App, ua: SipUserAgent, server: ServerProcess, files: Files): Promise<Record<string, unknown>> {
  const { probe, ccid } = await openProbeCall(app, ua, server, 1);
  const content = CLIP_TONE.toString('base64');
  const url = `${files.url}/tone.wav`;
  try {
    const inline = (): Promise<unknown> => app.sdk.calls.actions.startPlayback(ccid, { playback_content: content, audio_type: 'wav' });
    const byUrl = (): Promise<unknown> => app.sdk.calls.actions.startPlayback(ccid, { audio_url: url, audio_type: 'wav' });
    // Warm-up: the SDK's connection and the server's code paths; not counted.
    for (let i = 0; i < 3; i++) await startTrial(app, probe, ccid, 'playback', 'loud', inline);
    const inlineTrials: LatencyTrial[] = [];
    for (let i = 0; i < playbackTrials; i++) inlineTrials.push(await startTrial(app, probe, ccid, 'playback', 'loud', inline));
    log(`playback_content: ${JSON.stringify(summarise(inlineTrials))}`);
    const fetchesBefore = files.requests;
    const firstFetch = await startTrial(app, probe, ccid, 'playback', 'loud', byUrl);
    const urlTrials: LatencyTrial[] = [];
    for (let i = 0; i < playbackTrials; i++) urlTrials.push(await startTrial(app, probe, ccid, 'playback', 'loud', byUrl));
    log(`audio_url cached: ${JSON.stringify(summarise(urlTrials))}`);
    return {
      target_ms: TARGETS.playback_start_ms,
      playback_content_wav: summarise(inlineTrials),
      audio_url_cached: {
        ...summarise(urlTrials),
        revalidations_304: files.notModified,
        file_requests: files.requests - fetchesBefore,
      },
      audio_url_first_fetch_ms: round(firstFetch.first_audio_ms, 1),
    };
  } finally {
    await probe.hangUp(2000);
    probe.close();
  }
}

// Ten-word sentences, none repeated before the cached trials: 6 × 6 of them.
const OPENINGS = ['Thank you for calling', 'Welcome back to the', 'You have reached the', 'Please hold for the', 'We will connect the', 'Our records show the'];
const ENDINGS = ['billing office in a moment.', 'service desk right away now.', 'night team as soon as possible.', 'main line for your account.', 'help desk this time today.', 'store team in just minutes.'];
let sentenceIndex = 0;
function freshSentence(): string {
  const n = sentenceIndex++ % (OPENINGS.length * ENDINGS.length);
  return `${OPENINGS[n % OPENINGS.length]} ${ENDINGS[Math.floor(n / OPENINGS.length)]}`;
}

async function speakLatency(app: App, ua: SipUserAgent, server: ServerProcess, playbackP50: number | null): Promise<Record<string, unknown>> {
  const { probe, ccid } = await openProbeCall(app, ua, server, 2);
  const speak = (text: string) => (): Promise<unknown> => app.sdk.calls.actions.speak(ccid, { payload: text, voice: 'female', language: 'en-US' });
  const repeated = freshSentence();
  let cold: LatencyTrial;
  const uncached: LatencyTrial[] = [];
  const cached: LatencyTrial[] = [];
  try {
    cold = await startTrial(app, probe, ccid, 'speak', 'non-silent', speak(repeated));
    log(`speak cold: ${JSON.stringify(cold)}`);
    for (let i = 0; i < speakTrials; i++) uncached.push(await startTrial(app, probe, ccid, 'speak', 'non-silent', speak(freshSentence())));
    for (let i = 0; i < speakTrials; i++) cached.push(await startTrial(app, probe, ccid, 'speak', 'non-silent', speak(repeated)));
  } finally {
    await probe.hangUp(2000);
    probe.close();
  }
  const uncachedSummary = summarise(uncached);
  const cachedSummary = summarise(cached);
  const synthesis = await synthesisInProcess();
  const minus = (a: number | null | undefined, b: number | null): number | null => (a == null || b === null ? null : round(a - b, 1));
  return {
    targets: { synthesis_uncached_ms: TARGETS.speak_synthesis_uncached_ms, synthesis_cached_ms: TARGETS.speak_synthesis_cached_ms },
    end_to_end_first_rtp: {
      cold_ms: round(cold.first_audio_ms, 1),
      uncached: uncachedSummary,
      cached: cachedSummary,
    },
    // What speak adds over an inline playback of a decoded clip: the server-side synthesis (and cache lookup).
    server_synthesis_estimate_ms: {
      cold: minus(cold.first_audio_ms, playbackP50),
      uncached_p50: minus(uncachedSummary['p50_ms'], playbackP50),
      cached_p50: minus(cachedSummary['p50_ms'], playbackP50),
    },
    synthesis_in_bench_process: synthesis,
  };
}

/** The speak path's synthesis (whole utterance, as the server plays it) with the project's synthesizer. */
async function synthesisInProcess(): Promise<Record<string, unknown>> {
  const synth = await createSpeechSynthesizer({ espeak: false });
  try {
    const time = async (text: string): Promise<{ ms: number; leadingSilenceMs: number }> => {
      const t0 = now();
      const audio = await synth.synthesize({ payload: text, voice: 'female', language: 'en-US' });
      const ms = now() - t0;
      let first = 0;
      while (first < audio.length && isSilentUlaw(audio[first] as number)) first++;
      return { ms, leadingSilenceMs: (first / RATE) * 1000 };
    };
    const sentence = freshSentence();
    const cold = await time(sentence);
    const uncached: number[] = [];
    const leading: number[] = [cold.leadingSilenceMs];
    for (let i = 0; i < Math.max(5, speakTrials); i++) {
      const r = await time(freshSentence());
      uncached.push(r.ms);
      leading.push(r.leadingSilenceMs);
    }
    const cached: number[] = [];
    for (let i = 0; i < Math.max(5, speakTrials); i++) cached.push((await time(sentence)).ms);
    return {
      cold_ms: round(cold.ms, 1),
      uncached_p50_ms: round(percentile(uncached, 0.5), 1),
      uncached_max_ms: round(Math.max(...uncached), 1),
      cached_p50_ms: round(percentile(cached, 0.5), 3),
      cached_max_ms: round(Math.max(...cached), 3),
      // Time inside the clip before its first sample that is not µ-law silence: part of "first RTP" above.
      clip_leading_silence_ms: { min: round(Math.min(...leading), 1), max: round(Math.max(...leading), 1) },
    };
  } finally {
    await synth.close();
  }
}

function isSilentUlaw(sample: number): boolean {
  const code = PCMU.encodeSample(sample);
  return code === 0xff || code === 0x7f;
}

// ---------------------------------------------------------------------------------------------
// Section 3: hangup → call.recording.saved

const ALL_RECORDING_KINDS = [
  { name: 'wav_single', format: 'wav', channels: 'single' },
  { name: 'wav_dual', format: 'wav', channels: 'dual' },
  { name: 'mp3_single', format: 'mp3', channels: 'single' },
  { name: 'mp3_dual', format: 'mp3', channels: 'dual' },
] as const;
const RECORDING_KINDS = ALL_RECORDING_KINDS.filter((kind) => recordKinds === null || recordKinds.has(kind.name));

async function savedLatency(app: App, ua: SipUserAgent, server: ServerProcess, files: Files): Promise<Record<string, unknown>> {
  const callerAudio = encodeG711(speechLike(4, 7000), PCMU);
  const byKind = new Map<string, number[]>();
  const hangupEvents: number[] = [];
  let failures = 0;
  for (let i = 0; i < saveTrials; i++) {
    const kind = ALL_RECORDING_KINDS[i % ALL_RECORDING_KINDS.length] as (typeof ALL_RECORDING_KINDS)[number];
    let call: { probe: Probe; ccid: string };
    try {
      call = await openProbeCall(app, ua, server, 100 + i);
    } catch (error) {
      failures++;
      log(`save trial ${i}: ${String(error)}`);
      continue;
    }
    const { probe, ccid } = call;
    try {
      probe.speak(callerAudio);
      await app.command('playback_start', () => app.sdk.calls.actions.startPlayback(ccid, { audio_url: `${files.url}/loop.wav`, loop: 'infinity' }));
      const ok = await app.command('record_start', () => app.sdk.calls.actions.startRecording(ccid, { format: kind.format, channels: kind.channels }));
      if (!ok) {
        failures++;
        continue;
      }
      await sleep(recordSecs * 1000);
      const saved = app.next((hook) => hook.type === 'call.recording.saved' && hook.ccid === ccid, 30_000);
      const hungUp = app.next((hook) => hook.type === 'call.hangup' && hook.ccid === ccid, 30_000);
      const t0 = now();
      await probe.hangUp(3000);
      const [savedHook, hangupHook] = await Promise.all([saved, hungUp]);
      if (savedHook === null) {
        failures++;
        continue;
      }
      const list = byKind.get(kind.name) ?? [];
      list.push(savedHook.at - t0);
      byKind.set(kind.name, list);
      if (hangupHook) hangupEvents.push(hangupHook.at - t0);
    } finally {
      await probe.hangUp(500);
      probe.close();
    }
    await sleep(50);
  }
  const all = [...byKind.values()].flat();
  log(`hangup → saved: p50 ${round(percentile(all, 0.5), 1)} ms, p99 ${round(percentile(all, 0.99), 1)} ms over ${all.length}`);
  return {
    trials: all.length,
    failed: failures,
    recorded_s: recordSecs,
    p50_ms: round(percentile(all, 0.5), 1),
    p99_ms: round(percentile(all, 0.99), 1),
    max_ms: round(all.length ? Math.max(...all) : null, 1),
    by_kind_p50_ms: Object.fromEntries([...byKind].map(([name, v]) => [name, round(percentile(v, 0.5), 1)])),
    by_kind_max_ms: Object.fromEntries([...byKind].map(([name, v]) => [name, round(Math.max(...v), 1)])),
    hangup_webhook_p50_ms: round(percentile(hangupEvents, 0.5), 1),
  };
}

// ---------------------------------------------------------------------------------------------
// Section 4: load steps

interface Window {
  window_s: number | null;
  live_calls: number;
  server_cpu_pct: number | null;
  /** The kernel's part of server_cpu_pct (system time: sockets, file writes). */
  server_system_cpu_pct: number | null;
  sipp_cpu_pct: number | null;
  bench_cpu_pct: number | null;
  machine_cpu_pct: number | null;
  /** Machine CPU that was none of ours: other jobs distorting the window. */
  other_cpu_pct: number | null;
  /** Mean of readings every 250 ms. */
  rss_mb: number | null;
  heap_mb: number | null;
  scheduler_lateness_mean_ms: number | null;
  scheduler_pass_mean_ms: number | null;
  skipped_ticks: number;
}

async function measureWindow(name: string, server: ServerProcess, sipp: ChildProcess | null, seconds: number): Promise<Window> {
  const before = await server.stats<Stats>();
  const s0 = processTicks(server.pid);
  const p0 = processTicks(sipp?.pid);
  const b0 = selfTicks();
  const m0 = machineTicks();
  // RSS moves with every GC: its mean over the window says more than one reading.
  const rssSamples: number[] = [];
  const end = now() + seconds * 1000;
  for (let i = 0; i < seconds * 4 + 4 && now() < end; i++) {
    await sleep(Math.min(250, Math.max(0, end - now())));
    const rss = rssKb(server.pid);
    if (rss !== null) rssSamples.push(rss);
  }
  const s1 = processTicks(server.pid);
  const p1 = processTicks(sipp?.pid);
  const b1 = selfTicks();
  const m1 = machineTicks();
  const rss = rssSamples.length ? rssSamples.reduce((sum, v) => sum + v, 0) / rssSamples.length : null;
  const after = await server.stats<Stats>();
  // The server's own counters (µs) rather than /proc's 10 ms ticks: a 2 s window would move in 0.5 % steps.
  const serverPct = statsCpuPct(before, after) ?? pctOfCore(s0, s1);
  const sippPct = pctOfCore(p0, p1);
  const benchPct = pctOfCore(b0, b1);
  const machinePct = pctOfCore(m0, m1);
  const ticks = after.media.ticks - before.media.ticks;
  const windowMean = (key: 'lateness_mean_ms' | 'pass_mean_ms'): number | null =>
    ticks > 0 ? (after.media[key] * after.media.ticks - before.media[key] * before.media.ticks) / ticks : null;
  const result: Window = {
    window_s: s0 && s1 ? round((s1.at - s0.at) / 1000, 2) : null,
    live_calls: Math.min(before.live_calls, after.live_calls),
    server_cpu_pct: round(serverPct, 2),
    server_system_cpu_pct: round(statsSystemCpuPct(before, after), 2),
    sipp_cpu_pct: round(sippPct, 1),
    bench_cpu_pct: round(benchPct, 1),
    machine_cpu_pct: round(machinePct, 1),
    other_cpu_pct: machinePct === null || serverPct === null || benchPct === null
      ? null : round(Math.max(0, machinePct - serverPct - (sippPct ?? 0) - benchPct), 1),
    rss_mb: rss === null ? null : round(rss / 1024, 2),
    heap_mb: round(after.process.heap_used_bytes / 1024 / 1024, 1),
    scheduler_lateness_mean_ms: round(windowMean('lateness_mean_ms'), 3),
    scheduler_pass_mean_ms: round(windowMean('pass_mean_ms'), 3),
    skipped_ticks: after.media.skipped_ticks - before.media.skipped_ticks,
  };
  log(`  ${name}: ${JSON.stringify(result)}`);
  return result;
}

function startSipp(dir: string, sipPort: number, localPort: number, calls: number, timeoutSecs: number): { child: ChildProcess; done: Promise<number | null>; output: () => string } {
  copyFileSync(SCENARIO, join(dir, 'uac-until-bye.xml'));
  writeFileSync(join(dir, 'caller.pcma'), encodeG711(speechLike(4, 7000), PCMA));
  const args = [
    '-sf', 'uac-until-bye.xml', `127.0.0.1:${sipPort}`,
    '-i', '127.0.0.1', '-p', String(localPort),
    '-mi', '127.0.0.1', '-mp', String(SIPP_MEDIA_PORT),
    '-t', 'u1', '-s', NUMBER,
    '-m', String(calls), '-l', String(calls), '-r', String(rampRate),
    '-max_socket', String(Math.max(1024, calls * 4 + 256)),
    '-timeout', `${timeoutSecs}s`, '-timeout_error',
    '-trace_stat', '-stf', 'stat.csv', '-fd', '1',
    '-trace_err',
    '-nostdin',
  ];
  const child = spawn(SIPP, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let tail = '';
  const keep = (chunk: Buffer): void => { tail = (tail + chunk.toString()).slice(-6000); };
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
  return { child, done, output: () => tail };
}

/** Field by field mean of several windows (nulls skipped). */
function meanWindow(windows: readonly Window[]): Window {
  const mean = (key: keyof Window, digits: number): number | null => {
    const values = windows.map((w) => w[key]).filter((v): v is number => typeof v === 'number');
    return values.length ? round(values.reduce((sum, v) => sum + v, 0) / values.length, digits) : null;
  };
  return {
    window_s: mean('window_s', 2),
    live_calls: Math.min(...windows.map((w) => w.live_calls)),
    server_cpu_pct: mean('server_cpu_pct', 2),
    server_system_cpu_pct: mean('server_system_cpu_pct', 2),
    sipp_cpu_pct: mean('sipp_cpu_pct', 1),
    bench_cpu_pct: mean('bench_cpu_pct', 1),
    machine_cpu_pct: mean('machine_cpu_pct', 1),
    other_cpu_pct: mean('other_cpu_pct', 1),
    rss_mb: mean('rss_mb', 2),
    heap_mb: mean('heap_mb', 1),
    scheduler_lateness_mean_ms: mean('scheduler_lateness_mean_ms', 3),
    scheduler_pass_mean_ms: mean('scheduler_pass_mean_ms', 3),
    skipped_ticks: windows.reduce((sum, w) => sum + w.skipped_ticks, 0),
  };
}

interface Alternation {
  /** Means over the windows with the feature on and off. */
  on: Window;
  off: Window;
  on_cpu_pct: (number | null)[];
  off_cpu_pct: (number | null)[];
  /** Server CPU on − off, percent of a core: difference of the means, and median of the pairs. */
  delta_cpu_pct: number | null;
  delta_cpu_pct_median_pair: number | null;
  /** On − off of each pair (the two windows measured next to each other). */
  pair_delta_cpu_pct: number[];
  /** 95 % confidence interval of the mean pair difference (Student's t), percent of a core. */
  delta_cpu_pct_ci95: [number, number] | null;
}

/**
 * Measures a feature by switching it on and off on the same calls, `count` pairs of windows of
 * `seconds`, so that a burst of other work on the machine lands in one pair rather than in the
 * whole difference. The order is balanced (from the current state: A B B A A B …): with plain
 * A B A B a steady drift of the server's CPU (heap growth, a slowly warming JIT) would add the
 * same bias to every pair; alternating which state comes first makes it cancel.
 */
async function alternate(
  label: string, server: ServerProcess, sipp: ChildProcess, isOn: boolean,
  switchOn: () => Promise<void>, switchOff: () => Promise<void>,
  count = pairs, seconds = windowSecs,
): Promise<Alternation> {
  const on: Window[] = [];
  const off: Window[] = [];
  const pairDiffs: number[] = [];
  let state = isOn;
  for (let p = 0; p < count; p++) {
    let onCpu: number | null = null;
    let offCpu: number | null = null;
    for (let k = 2 * p; k < 2 * p + 2; k++) {
      // Window k is in the starting state when ⌊(k + 1) / 2⌋ is even: A B B A A B B A …
      const want = ((k + 1) >> 1) % 2 === 0 ? isOn : !isOn;
      if (want !== state) {
        if (state) await switchOff();
        else await switchOn();
        state = want;
        await sleep(settleMs);
      }
      const w = await measureWindow(`${label} ${state ? 'on' : 'off'} ${p + 1}`, server, sipp, seconds);
      (state ? on : off).push(w);
      if (state) onCpu = w.server_cpu_pct;
      else offCpu = w.server_cpu_pct;
    }
    if (onCpu !== null && offCpu !== null) pairDiffs.push(onCpu - offCpu);
  }
  const cpu = (w: Window): number | null => w.server_cpu_pct;
  const onMean = meanWindow(on);
  const offMean = meanWindow(off);
  return {
    on: onMean,
    off: offMean,
    on_cpu_pct: on.map(cpu),
    off_cpu_pct: off.map(cpu),
    delta_cpu_pct: onMean.server_cpu_pct === null || offMean.server_cpu_pct === null ? null : round(onMean.server_cpu_pct - offMean.server_cpu_pct, 2),
    delta_cpu_pct_median_pair: round(median(pairDiffs), 2),
    pair_delta_cpu_pct: pairDiffs.map((d) => round(d, 2) as number),
    delta_cpu_pct_ci95: confidence95(pairDiffs),
  };
}

/** Two-sided 95 % Student's t quantiles by degrees of freedom (1–10; beyond that, 2.2 or less). */
const T95 = [12.71, 4.30, 3.18, 2.78, 2.57, 2.45, 2.36, 2.31, 2.26, 2.23];

/** 95 % confidence interval of the mean of `values`; null with fewer than two. */
function confidence95(values: readonly number[]): [number, number] | null {
  const n = values.length;
  if (n < 2) return null;
  const mean = values.reduce((sum, v) => sum + v, 0) / n;
  const variance = values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / (n - 1);
  const t = T95[n - 2] ?? (n <= 30 ? 2.2 : 2.05);
  const half = t * Math.sqrt(variance / n);
  return [round(mean - half, 3) as number, round(mean + half, 3) as number];
}

/** RSS averaged over `ms` (readings every 250 ms), in kB. */
async function meanRss(pid: number | undefined, ms: number): Promise<number | null> {
  const values: number[] = [];
  for (let i = 0; i < Math.ceil(ms / 250); i++) {
    const v = rssKb(pid);
    if (v !== null) values.push(v);
    await sleep(250);
  }
  return values.length ? values.reduce((sum, v) => sum + v, 0) / values.length : null;
}

const perCall = (pct: number | null, calls: number): number | null => (pct === null || calls <= 0 ? null : round(pct / calls, 4));
const relative = (part: number | null, whole: number | null): number | null =>
  part === null || whole === null || whole <= 0 ? null : round((part / whole) * 100, 1);

async function loadStep(calls: number, scratch: string, app: App, server: ServerProcess, files: Files): Promise<Record<string, unknown>> {
  const dir = join(scratch, `step-${calls}`);
  mkdirSync(dir, { recursive: true });
  const quiet = await waitForQuiet(quietWaitSecs * 1000, QUIET_MACHINE_PCT, log);
  app.bulk.length = 0;
  const rampSecs = calls / rampRate;
  const sipp = startSipp(dir, server.sipPort, await freeUdpPort(), calls, 600);
  let sippExit: number | null | 'running' = 'running';
  void sipp.done.then((code) => { sippExit = code; });
  const result: Record<string, unknown> = { calls, machine_busy_before_pct: quiet };
  try {
    const upBy = now() + (rampSecs * 2 + 20) * 1000;
    for (let i = 0; i < 400 && now() < upBy && app.bulk.length < calls && sippExit === 'running'; i++) await sleep(250);
    const ccids = [...app.bulk];
    const n = ccids.length;
    log(`step ${calls}: ${n} calls answered`);
    result['answered'] = n;
    if (n === 0) throw new Error(`no SIPp call was answered:\n${sipp.output().slice(-2000)}`);
    await sleep(2000);
    const onAll = (what: string, run: (ccid: string) => Promise<unknown>): Promise<number> =>
      countOk(ccids, (ccid) => app.command(what, () => run(ccid)));

    // Playback: every call loops the same 3 s clip from a URL (one download and decode, shared).
    let playing = 0;
    const playbackOn = async (): Promise<void> => {
      const started = app.all('call.playback.started', ccids, 20_000);
      await onAll('playback_start (load)', (ccid) => app.sdk.calls.actions.startPlayback(ccid, { audio_url: `${files.url}/loop.wav`, loop: 'infinity' }));
      playing = await started.done;
    };
    const playbackOff = async (): Promise<void> => {
      const ended = app.all('call.playback.ended', ccids, 20_000);
      await onAll('playback_stop (load)', (ccid) => app.sdk.calls.actions.stopPlayback(ccid, {}));
      await ended.done;
    };
    const playback = await alternate('playback', server, sipp.child, false, playbackOn, playbackOff);
    result['playback_started'] = playing;
    result['idle_cpu_per_call_pct'] = perCall(playback.off.server_cpu_pct, n);
    result['playback_cpu_per_call_pct'] = perCall(playback.delta_cpu_pct, playing);
    result['playback_cpu_per_call_pct_median_pair'] = perCall(playback.delta_cpu_pct_median_pair, playing);
    result['playback_overhead_vs_idle_call_pct'] = relative(playback.delta_cpu_pct, playback.off.server_cpu_pct);
    result['playback'] = playback;

    // Recording, on top of the playback (so both channels carry sound): record_pause/resume
    // switch it off and on without finalising; record_stop at the end, finalisation timed.
    const recordings: Record<string, unknown> = {};
    const kinds = recordSteps.has(calls) ? RECORDING_KINDS : [];
    for (const kind of kinds) {
      await sleep(settleMs);
      const rssBefore = await meanRss(server.pid, 1000);
      const startedAt = now();
      const started = await onAll(`record_start ${kind.name}`, (ccid) => app.sdk.calls.actions.startRecording(ccid, { format: kind.format, channels: kind.channels }));
      await sleep(settleMs);
      const alternation = await alternate(`recording ${kind.name}`, server, sipp.child, true,
        async () => void await onAll('record_resume', (ccid) => app.sdk.calls.actions.resumeRecording(ccid, {})),
        async () => void await onAll('record_pause', (ccid) => app.sdk.calls.actions.pauseRecording(ccid, {})),
        recordPairs, recordWindowSecs);
      const saved = app.all('call.recording.saved', ccids, finalizeWaitSecs * 1000);
      const stats0 = await server.stats<Stats>();
      const stoppedAt = now();
      await onAll(`record_stop ${kind.name}`, (ccid) => app.sdk.calls.actions.stopRecording(ccid, {}));
      const savedCount = await saved.done;
      const stats1 = await server.stats<Stats>();
      const wallS = stats1.process.uptime_s - stats0.process.uptime_s;
      const cpuS = statsCpuSeconds(stats0, stats1);
      const baseline = alternation.off.server_cpu_pct;
      // Finalising ran while the calls went on playing: take the paused windows' rate away.
      const finalizeS = baseline === null ? null : Math.max(0, cpuS - (baseline / 100) * wallS);
      // Audio actually recorded: the time since record_start less the paused windows.
      const recordedS = (stoppedAt - startedAt) / 1000 - recordPairs * recordWindowSecs;
      const live = perCall(alternation.delta_cpu_pct, started);
      const callCost = perCall(baseline, n);
      const ci = alternation.delta_cpu_pct_ci95;
      const ciLow = ci === null ? null : relative(perCall(ci[0], started), callCost);
      const ciHigh = ci === null ? null : relative(perCall(ci[1], started), callCost);
      const finalizeMsPerAudioS = finalizeS === null || savedCount === 0 || recordedS <= 0 ? null : (finalizeS * 1000) / savedCount / recordedS;
      // The whole cost of a recording per second recorded, finalising included (both grow with length).
      const total = live === null || finalizeMsPerAudioS === null ? null : live + finalizeMsPerAudioS / 10;
      const last = saved.arrivals.length ? Math.max(...saved.arrivals) : null;
      // The media thread's pass per tick, recording on less paused: what one recording adds to a
      // tick, read from the scheduler's own timing (less exposed to bursts elsewhere in the server).
      const passOn = alternation.on.scheduler_pass_mean_ms;
      const passOff = alternation.off.scheduler_pass_mean_ms;
      const tickUs = passOn === null || passOff === null || started === 0 ? null : ((passOn - passOff) * 1000) / started;
      const rssDuring = alternation.on.rss_mb !== null && alternation.off.rss_mb !== null ? ((alternation.on.rss_mb + alternation.off.rss_mb) / 2) * 1024 : null;
      recordings[kind.name] = {
        recordings: started,
        saved: savedCount,
        recorded_s: round(recordedS, 1),
        live_cpu_per_recording_pct: live,
        live_cpu_per_recording_pct_median_pair: perCall(alternation.delta_cpu_pct_median_pair, started),
        live_overhead_vs_call_pct: relative(live, callCost),
        live_overhead_vs_call_pct_median_pair: relative(perCall(alternation.delta_cpu_pct_median_pair, started), callCost),
        live_overhead_vs_call_pct_ci95: ciLow === null || ciHigh === null ? null : [ciLow, ciHigh],
        live_overhead_within_target: ciHigh === null || ciLow === null ? null
          : ciHigh <= TARGETS.recording_cpu_overhead_pct ? true : ciLow > TARGETS.recording_cpu_overhead_pct ? false : null,
        live_tick_us_per_recording: round(tickUs, 2),
        live_system_cpu_per_recording_pct: alternation.on.server_system_cpu_pct === null || alternation.off.server_system_cpu_pct === null
          ? null : perCall(alternation.on.server_system_cpu_pct - alternation.off.server_system_cpu_pct, started),
        finalize_cpu_ms_per_recording: finalizeS === null || savedCount === 0 ? null : round((finalizeS * 1000) / savedCount, 1),
        finalize_cpu_ms_per_audio_s: round(finalizeMsPerAudioS, 2),
        finalize_wall_ms_all: last === null ? null : round(last - stoppedAt, 0),
        total_cpu_per_recording_pct: round(total, 4),
        total_overhead_vs_call_pct: relative(total, callCost),
        rss_per_recording_kb: rssDuring === null || rssBefore === null || started === 0 ? null : round((rssDuring - rssBefore) / started, 1),
        windows: alternation,
      };
      const { windows: _, ...headline } = recordings[kind.name] as Record<string, unknown>;
      log(`  ${kind.name}: ${JSON.stringify(headline)}`);
    }
    if (kinds.length > 0) result['recording'] = recordings;

    // The app hangs up; SIPp answers each BYE and finishes.
    const hungUp = app.all('call.hangup', ccids, 30_000);
    await onAll('hangup', (ccid) => app.sdk.calls.actions.hangup(ccid, {}));
    await hungUp.done;
    app.bulk.length = 0;
    const code = await Promise.race([sipp.done, sleep(20_000).then(() => 'timeout' as const)]);
    result['sipp_exit'] = code;
    if (code !== 0) log(`step ${calls}: SIPp exit ${String(code)}:\n${sipp.output().slice(-1500)}`);
    return result;
  } finally {
    if (sipp.child.exitCode === null && sipp.child.signalCode === null) {
      sipp.child.kill('SIGKILL');
      await sipp.done;
    }
    // Calls left up by a failure: hang them up before the next step.
    const leftover = app.bulk.splice(0);
    await eachLimited(leftover, COMMAND_CONCURRENCY, (ccid) => app.sdk.calls.actions.hangup(ccid, {}).catch(() => undefined));
    for (let i = 0; i < 40 && (await server.stats<Stats>()).live_calls > 0; i++) await sleep(250);
  }
}

async function countOk(ccids: readonly string[], run: (ccid: string) => Promise<boolean>): Promise<number> {
  let ok = 0;
  await eachLimited(ccids, COMMAND_CONCURRENCY, async (ccid) => {
    if (await run(ccid)) ok++;
  });
  return ok;
}

// ---------------------------------------------------------------------------------------------

const report: Record<string, unknown> = { benchmark: 'media-load' };
const startedAt = now();
const startCpu = process.cpuUsage();
const startMachine = machineTicks();

function finish(error?: string): string {
  const elapsedS = (now() - startedAt) / 1000;
  const cpu = process.cpuUsage(startCpu);
  report['machine'] = {
    cpus: cpus().length,
    loadavg_start: report['loadavg_start'],
    loadavg_end: loadavg().map((v) => round(v, 2)),
    busy_pct_of_core_whole_run: round(pctOfCore(startMachine, machineTicks()), 1),
    bench_process_cpu_pct_whole_run: round(((cpu.user + cpu.system) / 1e6 / elapsedS) * 100, 1),
  };
  delete report['loadavg_start'];
  report['elapsed_s'] = round(elapsedS, 1);
  report['parameters'] = { steps, record_steps: [...recordSteps].filter((n) => steps.includes(n)), window_s: windowSecs, pairs, record_window_s: recordWindowSecs, record_pairs: recordPairs, trials: playbackTrials, speak_trials: speakTrials, save_trials: saveTrials, record_s: recordSecs, ramp_cps: rampRate };
  if (error) report['error'] = error;
  return `${JSON.stringify(report)}\n`;
}

async function main(): Promise<void> {
  report['node'] = process.version;
  report['targets'] = TARGETS;
  report['loadavg_start'] = loadavg().map((v) => round(v, 2));
  mkdirSync(SCRATCH_ROOT, { recursive: true });
  const scratch = mkdtempSync(join(SCRATCH_ROOT, 'run-'));
  log(`scratch ${scratch}; sections ${[...sections].join(',')}; steps ${steps.join(',')}`);
  const app = await App.start();
  const files = await Files.start({ '/tone.wav': CLIP_TONE, '/loop.wav': CLIP_LOOP });
  const ua = new SipUserAgent({ host: '127.0.0.1', udpPort: 0, tcpPort: null, userAgent: 'media-load-probe', contactUser: 'probe' });
  await ua.start();
  let server: ServerProcess | null = null;
  try {
    report['machine_busy_before_pct'] = await waitForQuiet(quietWaitSecs * 1000, QUIET_MACHINE_PCT, log);
    server = await ServerProcess.start({
      dir: scratch, apiKey: API_KEY, rtpPorts: SERVER_RTP_PORTS, nodeArgs: serverNodeArgs,
      config: {
        applications: [{ id: APP_ID, application_name: 'media-load', webhook_event_url: app.url }],
        numbers: { [NUMBER]: APP_ID },
        webhooks: { maxRounds: 2, baseDelayMs: 200, maxDelayMs: 400, defaultTimeoutMs: 10_000 },
      },
    });
    app.use(server.url);
    log(`server pid ${server.pid}, SIP :${server.sipPort}`);
    await sleep(500);
    let playbackP50: number | null = null;
    if (sections.has('latency')) {
      const latency = await playbackLatency(app, ua, server, files);
      report['playback_start'] = latency;
      playbackP50 = (latency['playback_content_wav'] as Record<string, number | null>)['p50_ms'] ?? null;
    }
    if (sections.has('speak')) report['speak'] = await speakLatency(app, ua, server, playbackP50);
    if (sections.has('save')) report['recording_saved'] = await savedLatency(app, ua, server, files);
    if (sections.has('load')) {
      if (!existsSync(SIPP)) throw new Error(`SIPp not found at ${SIPP}`);
      const results: Record<string, unknown>[] = [];
      report['load'] = results;
      for (const calls of steps) results.push(await loadStep(calls, scratch, app, server, files));
    }
    for (const line of server.problems()) log(`server: ${line}`);
    if (app.errors.length > 0) report['command_errors'] = app.errors;
  } finally {
    await ua.stop().catch(() => undefined);
    await server?.stop();
    await files.close();
    await app.close();
    killChildren();
    if (env('KEEP') !== '1') rmSync(scratch, { recursive: true, force: true });
  }
  process.stdout.write(finish());
}

// Bounded as a whole: whatever hangs, children are killed and a partial report printed.
const recordingStepCount = steps.filter((n) => recordSteps.has(n)).length;
const limitMs = 60_000 + quietWaitSecs * (steps.length + 1) * 1000
  + steps.length * (pairs * 2 * (windowSecs + 25) + 120) * 1000
  + recordingStepCount * RECORDING_KINDS.length * (recordPairs * 2 * (recordWindowSecs + 15) + finalizeWaitSecs + 10) * 1000
  + (playbackTrials * 2 + speakTrials * 10 + saveTrials * (recordSecs + 5)) * 1000;
runBounded(main, limitMs, finish, log);

// ---------------------------------------------------------------------------------------------

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function wholeNumber(text: string | undefined, fallback: number): number {
  const n = Number(text);
  return text !== undefined && text.trim() !== '' && Number.isInteger(n) && n >= 0 ? n : fallback;
}
