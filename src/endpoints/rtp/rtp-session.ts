import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { PCMA, PCMU, g711Codec, type G711Codec, type G711Name } from '../../media/dsp/g711.js';
import { FRAME_SAMPLES } from '../../media/frame.js';
import type { MediaRegistration, MediaScheduler, MediaSession } from '../../media/scheduler.js';
import { JitterBuffer, type FrameKind, type JitterBufferOptions, type JitterBufferStats } from './jitter-buffer.js';
import type { PortAllocator } from './port-allocator.js';
import { RtpPacket } from './rtp-packet.js';
import {
  TELEPHONE_EVENT_LENGTH, TelephoneEventReceiver, TelephoneEventSender, encodeTelephoneEvent,
  type OutgoingTelephoneEvent, type TelephoneEventReceiverStats, type TelephoneEventSenderOptions,
} from './telephone-event.js';
import { UdpTransport, type RtpTransport } from './udp-transport.js';

export type MediaDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
export type RtpFormat = G711Name | 'telephone-event';

export interface MediaAddress {
  address: string;
  port: number;
}

/** What offer/answer settled on, from our side. sdp.ts produces it; applyMedia consumes it. */
export interface RtpMediaConfig {
  /** Where the far end wants media; null when it gave none (port 0, c=0.0.0.0). */
  remote: MediaAddress | null;
  /** The codec we send, with the payload type the far end expects. */
  codec: { name: G711Name; payloadType: number };
  /** The payload type we send DTMF with; null when the far end takes no telephone-events. */
  telephoneEvent: { payloadType: number } | null;
  /** Payload types we accept from the far end. */
  payloadTypes: readonly { payloadType: number; format: RtpFormat }[];
  /** Our direction: whether we send, receive, both or neither. */
  direction: MediaDirection;
}

export interface RtpSessionOptions {
  /** Registers the session for 20 ms ticks; without one the owner calls tick() itself. */
  scheduler?: MediaScheduler;
  /** Monotonic milliseconds, for latching, DTMF timeouts and jitter. */
  now?: () => number;
  jitter?: JitterBufferOptions;
  dtmf?: TelephoneEventSenderOptions & { idleTimeoutMs?: number };
  /** When the latched source has been quiet this long, a packet from a new source re-latches. */
  relatchAfterMs?: number;
  /** What to send on ticks with no outbound frame: silence keeps NAT bindings and the far end's latch alive. */
  idleAudio?: 'silence' | 'none';
  /** Outbound frames queueOutbound can hold (20 ms each). */
  outboundQueueFrames?: number;
  ssrc?: number;
  initialSequence?: number;
  initialTimestamp?: number;
  onFrame?: (frame: Int16Array, kind: FrameKind) => void;
  onDtmf?: (digit: string, durationMs: number) => void;
  onDtmfStart?: (digit: string) => void;
}

export interface RtpSessionStats {
  packetsSent: number;
  bytesSent: number;
  dtmfPacketsSent: number;
  packetsReceived: number;
  bytesReceived: number;
  malformed: number;
  unknownPayloadType: number;
  /**
   * Packets from a source other than the latched one, dropped. Only those the transport still
   * delivers: once narrowed to the latched source (setPeer), a UDP socket drops them unseen.
   */
  foreignSource: number;
  /** Packets from the previous SSRC just after a change (stragglers), dropped. */
  staleSsrc: number;
  ssrcChanges: number;
  relatches: number;
  outboundOverflow: number;
  latchedTo: MediaAddress | null;
  jitter: JitterBufferStats;
  dtmf: TelephoneEventReceiverStats;
}

const KIND_NONE = 0;
const KIND_PCMU = 1;
const KIND_PCMA = 2;
const KIND_EVENT = 3;
// Packets of the old SSRC arriving this soon after a change are reordered stragglers.
const STALE_SSRC_WINDOW_MS = 200;
const SEND_BUFFER = 12 + FRAME_SAMPLES;

/**
 * One leg's RTP: a socket, symmetric RTP with latching, G.711 at the edges, RFC 4733 DTMF and a
 * jitter buffer, ticked every 20 ms by the shared scheduler.
 *
 * Latching rule: until the first accepted packet we send to the SDP address. The first packet with
 * a negotiated payload type latches the session to its source address and port, and we send there
 * from then on (this is what gets media through NAT). Packets from any other source are dropped.
 * The latch is released only when (a) applyMedia brings a different SDP address or port (the far
 * end moved its media by re-INVITE), or (b) the latched source has been silent for
 * `relatchAfterMs`, in which case the next packet from a new source latches (NAT rebinding).
 * While the latched source keeps sending, the transport is narrowed to it (a connected UDP socket:
 * cheaper sends, strangers dropped by the kernel) and opened again when it falls quiet.
 */
export class RtpSession implements MediaSession {
  onFrame: ((frame: Int16Array, kind: FrameKind) => void) | null;
  onDtmf: ((digit: string, durationMs: number) => void) | null;
  onDtmfStart: ((digit: string) => void) | null;

  private readonly now: () => number;
  private readonly relatchAfterMs: number;
  private readonly idleAudio: 'silence' | 'none';
  private readonly scheduler: MediaScheduler | null;
  private readonly registration: MediaRegistration | null;
  private config: RtpMediaConfig | null = null;
  private readonly kinds = new Uint8Array(128);
  private sendCodec: G711Codec = PCMU;
  private canSend = false;
  private canReceive = false;
  private closed = false;

  private readonly ssrc: number;
  private sequence: number;
  private timestamp: number;
  private needMarker = true;
  private readonly outPacket = new RtpPacket();
  private readonly outPayload = new Uint8Array(FRAME_SAMPLES);
  private readonly sendBuffer = new Uint8Array(SEND_BUFFER);
  private readonly outQueue: Int16Array;
  private readonly outQueueFrames: number;
  private outHead = 0;
  private outCount = 0;
  private outboundSource: (() => Int16Array | null) | null = null;
  private readonly dtmfSender: TelephoneEventSender;
  private readonly dtmfOut: OutgoingTelephoneEvent = { event: 0, end: false, volume: 0, duration: 0, marker: false, timestamp: 0 };

  private readonly inPacket = new RtpPacket();
  private readonly jitter: JitterBuffer;
  private readonly dtmfReceiver: TelephoneEventReceiver;
  private readonly frame = new Int16Array(FRAME_SAMPLES);
  private latched: MediaAddress | null = null;
  private lastFromLatchedMs = 0;
  // The transport is narrowed to the latched source while it keeps sending.
  private peered = false;
  private audioSsrc = 0;
  private hasAudioSsrc = false;
  private previousSsrc = 0;
  private ssrcChangedAtMs = Number.NEGATIVE_INFINITY;

  private readonly counters = {
    packetsSent: 0, bytesSent: 0, dtmfPacketsSent: 0, packetsReceived: 0, bytesReceived: 0, malformed: 0,
    unknownPayloadType: 0, foreignSource: 0, staleSsrc: 0, ssrcChanges: 0, relatches: 0, outboundOverflow: 0,
  };

  constructor(private readonly transport: RtpTransport, options: RtpSessionOptions = {}) {
    const seed = randomBytes(10);
    this.ssrc = (options.ssrc ?? seed.readUInt32BE(0)) >>> 0;
    this.sequence = (options.initialSequence ?? seed.readUInt16BE(4)) & 0xffff;
    this.timestamp = (options.initialTimestamp ?? seed.readUInt32BE(6)) >>> 0;
    this.now = options.now ?? (() => performance.now());
    this.relatchAfterMs = options.relatchAfterMs ?? 2000;
    this.idleAudio = options.idleAudio ?? 'silence';
    this.outQueueFrames = Math.max(1, options.outboundQueueFrames ?? 10);
    this.outQueue = new Int16Array(this.outQueueFrames * FRAME_SAMPLES);
    this.onFrame = options.onFrame ?? null;
    this.onDtmf = options.onDtmf ?? null;
    this.onDtmfStart = options.onDtmfStart ?? null;
    this.jitter = new JitterBuffer(options.jitter);
    this.dtmfSender = new TelephoneEventSender(options.dtmf);
    this.dtmfReceiver = new TelephoneEventReceiver({
      idleTimeoutMs: options.dtmf?.idleTimeoutMs,
      onDigit: (digit, ms) => this.onDtmf?.(digit, ms),
      onDigitStart: (digit) => this.onDtmfStart?.(digit),
    });
    transport.onPacket = (data, length, address, port) => this.receive(data, length, address, port);
    // The scheduler sends every session's packet before it plays out anyone's received audio.
    this.registration = options.scheduler?.register({ tick: () => this.sendPhase(), afterTick: () => this.receivePhase() }) ?? null;
    this.scheduler = options.scheduler ?? null;
  }

  /** Binds a UDP socket from the port range and creates the session on it. */
  static async open(
    options: RtpSessionOptions & { bindAddress: string; ports: PortAllocator; onSocketError?: (error: Error) => void },
  ): Promise<RtpSession> {
    const transport = await UdpTransport.open({ bindAddress: options.bindAddress, ports: options.ports, onError: options.onSocketError });
    return new RtpSession(transport, options);
  }

  get localAddress(): string {
    return this.transport.localAddress;
  }

  get localPort(): number {
    return this.transport.localPort;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Applies the result of an offer/answer (initial or re-INVITE: hold, resume, new address). */
  applyMedia(config: RtpMediaConfig): void {
    const previous = this.config?.remote ?? null;
    const remote = config.remote;
    if (previous === null || remote === null || previous.address !== remote.address || previous.port !== remote.port) {
      this.unlatch();
    }
    this.config = config;
    this.kinds.fill(KIND_NONE);
    for (const { payloadType, format } of config.payloadTypes) {
      if (payloadType < 0 || payloadType > 127) continue;
      this.kinds[payloadType] = format === 'PCMU' ? KIND_PCMU : format === 'PCMA' ? KIND_PCMA : KIND_EVENT;
    }
    this.sendCodec = g711Codec(config.codec.name);
    const couldSend = this.canSend;
    const couldReceive = this.canReceive;
    this.canSend = (config.direction === 'sendrecv' || config.direction === 'sendonly') && remote !== null && remote.port > 0;
    this.canReceive = config.direction === 'sendrecv' || config.direction === 'recvonly';
    if (this.canSend && !couldSend) this.needMarker = true;
    // After a pause the far end's numbering may have moved on or not: start playout afresh.
    if (this.canReceive && !couldReceive) this.jitter.reset();
    if (config.telephoneEvent === null) this.dtmfSender.clear();
  }

  /** Queues one 20 ms frame to send (copied). False when the queue is full and the frame was dropped. */
  queueOutbound(frame: Int16Array): boolean {
    if (this.outCount === this.outQueueFrames) {
      this.counters.outboundOverflow++;
      return false;
    }
    const at = ((this.outHead + this.outCount) % this.outQueueFrames) * FRAME_SAMPLES;
    const n = Math.min(frame.length, FRAME_SAMPLES);
    this.outQueue.set(frame.subarray(0, n), at);
    if (n < FRAME_SAMPLES) this.outQueue.fill(0, at + n, at + FRAME_SAMPLES);
    this.outCount++;
    return true;
  }

  /** A pull source asked for a frame on ticks when the queue is empty; null means nothing to send. */
  setOutboundSource(source: (() => Int16Array | null) | null): void {
    this.outboundSource = source;
  }

  /**
   * Sends digits (0-9 * # A-D, w/W pauses) as RFC 4733 events, audio paused meanwhile. False when
   * the far end did not negotiate telephone-event or the string holds other characters.
   */
  sendDtmf(digits: string, durationMs?: number): boolean {
    if (this.closed || this.config?.telephoneEvent == null) return false;
    return this.dtmfSender.enqueue(digits, durationMs);
  }

  get sendingDtmf(): boolean {
    return this.dtmfSender.busy;
  }

  /** One 20 ms step, for owners without a scheduler: send a packet, play out a frame, expire DTMF. */
  tick(): void {
    this.sendPhase();
    this.receivePhase();
  }

  private sendPhase(): void {
    if (this.closed) return;
    this.sendTick();
    this.timestamp = (this.timestamp + FRAME_SAMPLES) >>> 0;
  }

  private receivePhase(): void {
    if (this.closed) return;
    if (this.canReceive) {
      const kind = this.jitter.pop(this.frame);
      if (kind !== 'none') this.onFrame?.(this.frame, kind);
    }
    const now = this.now();
    this.dtmfReceiver.tick(now);
    this.checkLatchSilence(now);
  }

  stats(): RtpSessionStats {
    return {
      ...this.counters,
      latchedTo: this.latched && { ...this.latched },
      jitter: this.jitter.stats(),
      dtmf: { ...this.dtmfReceiver.stats },
    };
  }

  /** Idempotent: stops ticking, closes the socket and frees its port. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.registration && this.scheduler) this.scheduler.unregister(this.registration);
    this.transport.onPacket = null;
    this.transport.close();
    this.dtmfSender.clear();
  }

  private takeOutbound(): Int16Array | null {
    if (this.outCount > 0) {
      const start = this.outHead * FRAME_SAMPLES;
      this.outHead = (this.outHead + 1) % this.outQueueFrames;
      this.outCount--;
      return this.outQueue.subarray(start, start + FRAME_SAMPLES);
    }
    return this.outboundSource?.() ?? null;
  }

  private sendTick(): void {
    // Taken even when not sending, so the producer's frames stay in step with the clock.
    const frame = this.takeOutbound();
    const destination = this.latched ?? this.config?.remote ?? null;
    if (!this.canSend || destination === null) {
      this.needMarker = true;
      return;
    }
    const event = this.config?.telephoneEvent ?? null;
    if (event !== null && this.dtmfSender.busy) {
      if (this.dtmfSender.next(this.timestamp, this.dtmfOut)) {
        encodeTelephoneEvent(this.dtmfOut, this.outPayload);
        this.counters.dtmfPacketsSent++;
        this.send(destination, event.payloadType, this.dtmfOut.marker, this.dtmfOut.timestamp, TELEPHONE_EVENT_LENGTH);
        return;
      }
    }
    if (frame !== null) {
      const n = this.sendCodec.encodeInto(frame, this.outPayload, 0, FRAME_SAMPLES);
      if (n < FRAME_SAMPLES) this.outPayload.fill(this.sendCodec.silenceCode, n);
    } else if (this.idleAudio === 'silence') {
      this.outPayload.fill(this.sendCodec.silenceCode);
    } else {
      // Not transmitting: the next packet starts a talk spurt.
      this.needMarker = true;
      return;
    }
    const marker = this.needMarker;
    this.needMarker = false;
    this.send(destination, this.config?.codec.payloadType ?? this.sendCodec.payloadType, marker, this.timestamp, FRAME_SAMPLES);
  }

  private send(to: MediaAddress, payloadType: number, marker: boolean, timestamp: number, payloadLength: number): void {
    const p = this.outPacket;
    p.payloadType = payloadType;
    p.marker = marker;
    p.sequenceNumber = this.sequence;
    p.timestamp = timestamp;
    p.ssrc = this.ssrc;
    p.csrcCount = 0;
    p.setPayload(this.outPayload, 0, payloadLength);
    const length = p.serializeInto(this.sendBuffer, 0);
    this.sequence = (this.sequence + 1) & 0xffff;
    this.counters.packetsSent++;
    this.counters.bytesSent += length;
    this.transport.send(this.sendBuffer, length, to.port, to.address);
  }

  private receive(data: Uint8Array, length: number, address: string, port: number): void {
    if (this.closed) return;
    const p = this.inPacket;
    if (p.parse(data, length) !== null) {
      this.counters.malformed++;
      return;
    }
    this.counters.packetsReceived++;
    this.counters.bytesReceived += length;
    const kind = this.config === null ? KIND_NONE : (this.kinds[p.payloadType] as number);
    if (kind === KIND_NONE) {
      // RTCP multiplexed on this port also lands here (its PT field reads 72-76).
      this.counters.unknownPayloadType++;
      return;
    }
    const now = this.now();
    if (!this.acceptSource(address, port, now)) return;
    if (!this.canReceive) return;
    if (kind === KIND_EVENT) {
      if (this.hasAudioSsrc && p.ssrc === this.audioSsrc) this.jitter.countSequence(p.sequenceNumber);
      this.dtmfReceiver.receive(p.ssrc, p.timestamp, p.payloadData, p.payloadOffset, p.payloadLength, now);
      return;
    }
    if (!this.acceptAudioSsrc(p.ssrc, now)) return;
    const codec = kind === KIND_PCMU ? PCMU : PCMA;
    this.jitter.insertEncoded(p.sequenceNumber, p.timestamp, codec, p.payloadData, p.payloadOffset, p.payloadLength, now);
  }

  private acceptSource(address: string, port: number, now: number): boolean {
    const latched = this.latched;
    if (latched !== null && (latched.address !== address || latched.port !== port)) {
      if (now - this.lastFromLatchedMs < this.relatchAfterMs) {
        this.counters.foreignSource++;
        return false;
      }
      this.counters.relatches++;
      this.unlatch();
    }
    if (this.latched === null) this.latched = { address, port };
    this.lastFromLatchedMs = now;
    if (!this.peered && this.transport.setPeer) {
      this.peered = true;
      this.transport.setPeer(this.latched);
    }
    return true;
  }

  private unlatch(): void {
    this.latched = null;
    if (this.peered) {
      this.peered = false;
      this.transport.setPeer?.(null);
    }
  }

  /**
   * A narrowed transport no longer hears other sources, so relatching (NAT rebinding) needs it
   * opened up again once the latched source has been quiet for `relatchAfterMs`; the latch itself
   * stays, and the source's next packet narrows it again.
   */
  private checkLatchSilence(now: number): void {
    if (this.peered && now - this.lastFromLatchedMs >= this.relatchAfterMs) {
      this.peered = false;
      this.transport.setPeer?.(null);
    }
  }

  private acceptAudioSsrc(ssrc: number, now: number): boolean {
    if (this.hasAudioSsrc && ssrc === this.audioSsrc) return true;
    if (this.hasAudioSsrc && ssrc === this.previousSsrc && now - this.ssrcChangedAtMs < STALE_SSRC_WINDOW_MS) {
      this.counters.staleSsrc++;
      return false;
    }
    if (this.hasAudioSsrc) {
      this.previousSsrc = this.audioSsrc;
      this.ssrcChangedAtMs = now;
      this.counters.ssrcChanges++;
    }
    this.jitter.reset();
    this.audioSsrc = ssrc;
    this.hasAudioSsrc = true;
    return true;
  }
}
