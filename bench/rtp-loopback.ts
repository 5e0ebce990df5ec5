/**
 * N RTP sessions on 127.0.0.1, in pairs sending G.711 to each other, all ticked by one shared
 * MediaScheduler on wall time. Prints one JSON object: send-interval jitter (how far each
 * session's packet spacing strays from 20 ms), packet loss, scheduler lateness, CPU and memory.
 *
 *   npx tsx bench/rtp-loopback.ts [sessions=200] [seconds=10]
 */
import { performance } from 'node:perf_hooks';
import { PortAllocator } from '../src/endpoints/rtp/port-allocator.js';
import { RtpSession, type RtpMediaConfig } from '../src/endpoints/rtp/rtp-session.js';
import { UdpTransport, type RtpTransport } from '../src/endpoints/rtp/udp-transport.js';
import { FRAME_SAMPLES } from '../src/media/frame.js';
import { MediaScheduler } from '../src/media/scheduler.js';

const requested = Number(process.argv[2] ?? 200);
const sessions = Math.max(2, Math.min(2000, Math.floor(requested / 2) * 2 || 200));
const seconds = Math.max(1, Math.min(60, Number(process.argv[3] ?? 10) || 10));
const PORT_BASE = 42000;
const maxPackets = Math.ceil((seconds * 1000) / 20) + 50;

/** Records when each packet leaves, to measure the spacing the scheduler actually achieves. */
class TimedTransport implements RtpTransport {
  readonly intervals: Float64Array;
  count = 0;
  private last = -1;
  constructor(private readonly inner: UdpTransport) {
    this.intervals = new Float64Array(maxPackets);
  }
  get localAddress(): string { return this.inner.localAddress; }
  get localPort(): number { return this.inner.localPort; }
  get onPacket() { return this.inner.onPacket; }
  set onPacket(handler) { this.inner.onPacket = handler; }
  send(data: Uint8Array, length: number, port: number, address: string): void {
    const now = performance.now();
    if (this.last >= 0 && this.count < this.intervals.length) this.intervals[this.count++] = now - this.last;
    this.last = now;
    this.inner.send(data, length, port, address);
  }
  close(): void { this.inner.close(); }
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

const round = (n: number, digits = 3): number => Number(n.toFixed(digits));

const rssBefore = process.memoryUsage().rss;
const ports = new PortAllocator({ min: PORT_BASE, max: PORT_BASE + sessions * 2 + 200 });
const scheduler = new MediaScheduler();
const tone = Int16Array.from({ length: FRAME_SAMPLES }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 8000)));
const transports: TimedTransport[] = [];
const all: RtpSession[] = [];
let framesReceived = 0;

for (let i = 0; i < sessions; i++) {
  const transport = new TimedTransport(await UdpTransport.open({ bindAddress: '127.0.0.1', ports }));
  const session = new RtpSession(transport, {
    jitter: { depthMs: 60 },
    onFrame: (_frame, kind) => {
      if (kind === 'audio') framesReceived++;
    },
  });
  session.setOutboundSource(() => tone);
  transports.push(transport);
  all.push(session);
}
for (let i = 0; i < sessions; i++) {
  const peer = all[i ^ 1] as RtpSession;
  const media: RtpMediaConfig = {
    remote: { address: '127.0.0.1', port: peer.localPort },
    codec: { name: 'PCMU', payloadType: 0 },
    telephoneEvent: { payloadType: 101 },
    payloadTypes: [{ payloadType: 0, format: 'PCMU' }, { payloadType: 101, format: 'telephone-event' }],
    direction: 'sendrecv',
  };
  (all[i] as RtpSession).applyMedia(media);
}
const rssSetup = process.memoryUsage().rss;

// Sessions join the one scheduler together, so every pass ticks all of them.
const registrations = all.map((s) => scheduler.register(s));
const cpuStart = process.cpuUsage();
const wallStart = performance.now();
await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
const wallMs = performance.now() - wallStart;
const cpu = process.cpuUsage(cpuStart);
const rssRunning = process.memoryUsage().rss;
for (const r of registrations) scheduler.unregister(r);
// Let the last packets in flight land before counting loss.
await new Promise((resolve) => setTimeout(resolve, 200));

let sent = 0;
let received = 0;
let duplicates = 0;
let framesConcealed = 0;
let late = 0;
let intervalCount = 0;
for (let i = 0; i < sessions; i++) {
  const s = (all[i] as RtpSession).stats();
  sent += s.packetsSent;
  received += s.jitter.received;
  duplicates += s.jitter.duplicate;
  framesConcealed += s.jitter.concealedFrames;
  late += s.jitter.late;
  intervalCount += (transports[i] as TimedTransport).count;
}
const intervals = new Float64Array(intervalCount);
const deviations = new Float64Array(intervalCount);
let k = 0;
for (const t of transports) {
  for (let i = 0; i < t.count; i++) {
    const v = t.intervals[i] as number;
    intervals[k] = v;
    deviations[k++] = Math.abs(v - 20);
  }
}
intervals.sort();
deviations.sort();
const sched = scheduler.stats();
for (const s of all) s.close();

console.log(JSON.stringify({
  sessions,
  seconds,
  packetsSent: sent,
  packetsReceived: received,
  packetLoss: sent > 0 ? round((sent - received) / sent, 6) : 0,
  duplicates,
  framesReceived,
  framesConcealed,
  latePackets: late,
  sendIntervalMs: { p50: round(percentile(intervals, 0.5)), p99: round(percentile(intervals, 0.99)), max: round(intervals[intervals.length - 1] ?? 0) },
  sendJitterMs: { p50: round(percentile(deviations, 0.5)), p99: round(percentile(deviations, 0.99)) },
  schedulerLatenessMs: { mean: round(sched.latenessMeanMs), p50: round(sched.latenessP50Ms), p99: round(sched.latenessP99Ms), max: round(sched.latenessMaxMs) },
  schedulerPassMs: { mean: round(sched.passMeanMs), max: round(sched.passMaxMs) },
  schedulerTicks: sched.ticks,
  skippedTicks: sched.skippedTicks,
  cpuPercent: round(((cpu.user + cpu.system) / 1000 / wallMs) * 100, 1),
  rssMB: round(rssRunning / 1048576, 1),
  rssPerSessionKB: round((rssRunning - rssBefore) / sessions / 1024, 1),
  rssSetupPerSessionKB: round((rssSetup - rssBefore) / sessions / 1024, 1),
  node: process.version,
}));
