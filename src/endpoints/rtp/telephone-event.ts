/**
 * RFC 4733 telephone-events: the payload codec, a receiver that turns a stream of event packets
 * into each key press exactly once, and a sender that produces the packets for a digit string.
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |     event     |E|R| volume    |          duration             |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * All packets of one event share its RTP timestamp (the event's start); duration grows as the
 * key stays down; the last packet has E set and is sent three times because UDP may lose it.
 */

export const TELEPHONE_EVENT_LENGTH = 4;
const END_BIT = 0x80;
const VOLUME_MASK = 0x3f;
const MAX_DURATION = 0xffff;

const DIGITS = '0123456789*#ABCD';

export interface TelephoneEvent {
  event: number;
  end: boolean;
  /** Power level in -dBm0, 0..63. */
  volume: number;
  /** Samples since the event's timestamp. */
  duration: number;
}

/** Event code for a DTMF symbol (0-9 * # A-D, case-insensitive), or -1. */
export function dtmfEventCode(digit: string): number {
  return digit.length === 1 ? DIGITS.indexOf(digit.toUpperCase()) : -1;
}

/** DTMF symbol for an event code, or null for non-DTMF events such as flash (16). */
export function dtmfDigit(event: number): string | null {
  return event >= 0 && event < DIGITS.length ? (DIGITS[event] as string) : null;
}

export function encodeTelephoneEvent(ev: TelephoneEvent, buf: Uint8Array, offset = 0): number {
  const duration = Math.max(0, Math.min(MAX_DURATION, Math.round(ev.duration)));
  buf[offset] = ev.event & 0xff;
  buf[offset + 1] = (ev.end ? END_BIT : 0) | (ev.volume & VOLUME_MASK);
  buf[offset + 2] = duration >>> 8;
  buf[offset + 3] = duration & 0xff;
  return TELEPHONE_EVENT_LENGTH;
}

/** Fills `out`; false when the payload is too short to be an event. Extra bytes are ignored. */
export function decodeTelephoneEvent(data: Uint8Array, offset: number, length: number, out: TelephoneEvent): boolean {
  if (length < TELEPHONE_EVENT_LENGTH || offset + TELEPHONE_EVENT_LENGTH > data.length) return false;
  const flags = data[offset + 1] as number;
  out.event = data[offset] as number;
  out.end = (flags & END_BIT) !== 0;
  out.volume = flags & VOLUME_MASK;
  out.duration = ((data[offset + 2] as number) << 8) | (data[offset + 3] as number);
  return true;
}

/** True when 32-bit RTP timestamp a is before b, across wraparound. */
function timestampBefore(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

export interface TelephoneEventReceiverOptions {
  /** Called once per key press, when it ends (E bit, timeout, or replaced by the next event). */
  onDigit(digit: string, durationMs: number): void;
  /** Called once per key press, on the first packet that arrives for it. */
  onDigitStart?(digit: string): void;
  /**
   * An event that has had no packet for this long is ended with the duration seen so far; it
   * covers a lost end. Senders refresh at least every 50 ms while a key is down.
   */
  idleTimeoutMs?: number;
  clockRate?: number;
}

export interface TelephoneEventReceiverStats {
  events: number;
  endedByTimeout: number;
  endedByReplacement: number;
  ignoredPackets: number;
  malformedPackets: number;
}

// Timestamps of recently finished events: their retransmitted end packets must not start a press.
const ENDED_HISTORY = 8;

/**
 * Events are identified by (SSRC, timestamp). A packet with a timestamp not seen before and not
 * older than the newest event starts a press, whichever packet of that event arrives first (so a
 * lost start packet does not lose the digit); the E bit, the idle timeout or a newer event ends it.
 */
export class TelephoneEventReceiver {
  private readonly idleTimeoutMs: number;
  private readonly samplesPerMs: number;
  private readonly decoded: TelephoneEvent = { event: 0, end: false, volume: 0, duration: 0 };
  private ssrc = 0;
  private hasSsrc = false;
  private active = false;
  private activeTimestamp = 0;
  private activeEvent = 0;
  private activeDuration = 0;
  private lastPacketMs = 0;
  private newestTimestamp = 0;
  private readonly ended = new Uint32Array(ENDED_HISTORY);
  private endedCount = 0;
  private readonly counters: TelephoneEventReceiverStats = {
    events: 0, endedByTimeout: 0, endedByReplacement: 0, ignoredPackets: 0, malformedPackets: 0,
  };

  constructor(private readonly options: TelephoneEventReceiverOptions) {
    this.idleTimeoutMs = options.idleTimeoutMs ?? 250;
    this.samplesPerMs = (options.clockRate ?? 8000) / 1000;
  }

  get stats(): Readonly<TelephoneEventReceiverStats> {
    return this.counters;
  }

  /** Whether a key is currently held down as far as the packets tell. */
  get inEvent(): boolean {
    return this.active;
  }

  receive(ssrc: number, timestamp: number, data: Uint8Array, offset: number, length: number, nowMs: number): void {
    const ev = this.decoded;
    if (!decodeTelephoneEvent(data, offset, length, ev)) {
      this.counters.malformedPackets++;
      return;
    }
    if (!this.hasSsrc || ssrc !== this.ssrc) {
      // A new source has its own timestamp space: nothing remembered about the old one applies.
      if (this.active) this.finish();
      this.ssrc = ssrc;
      this.hasSsrc = true;
      this.endedCount = 0;
      this.newestTimestamp = timestamp;
    }
    if (this.active && timestamp === this.activeTimestamp) {
      if (ev.event !== this.activeEvent) {
        this.counters.ignoredPackets++;
        return;
      }
      if (ev.duration > this.activeDuration) this.activeDuration = ev.duration;
      this.lastPacketMs = nowMs;
      if (ev.end) this.finish();
      return;
    }
    // While a key is down, an older timestamp is a straggler of an earlier press. Once it is up,
    // an unseen older timestamp is a new press from a sender that restarted its timestamps
    // (replayed captures do this); retransmitted ends are caught by the ended history.
    if (this.wasEnded(timestamp) || (this.active && timestampBefore(timestamp, this.newestTimestamp))) {
      this.counters.ignoredPackets++;
      return;
    }
    if (this.active) {
      this.counters.endedByReplacement++;
      this.finish();
    }
    this.active = true;
    this.activeTimestamp = timestamp;
    this.activeEvent = ev.event;
    this.activeDuration = ev.duration;
    this.lastPacketMs = nowMs;
    this.newestTimestamp = timestamp;
    this.counters.events++;
    const digit = dtmfDigit(ev.event);
    if (digit !== null) this.options.onDigitStart?.(digit);
    if (ev.end) this.finish();
  }

  /** Ends an event whose end packets never came. Call at least every 20 ms. */
  tick(nowMs: number): void {
    if (this.active && nowMs - this.lastPacketMs >= this.idleTimeoutMs) {
      this.counters.endedByTimeout++;
      this.finish();
    }
  }

  /** Forgets everything, e.g. when the session is re-negotiated. An active event is ended. */
  reset(): void {
    if (this.active) this.finish();
    this.hasSsrc = false;
    this.endedCount = 0;
  }

  private wasEnded(timestamp: number): boolean {
    const n = Math.min(this.endedCount, ENDED_HISTORY);
    for (let i = 0; i < n; i++) {
      if (this.ended[i] === timestamp) return true;
    }
    return false;
  }

  private finish(): void {
    this.active = false;
    this.ended[this.endedCount % ENDED_HISTORY] = this.activeTimestamp;
    this.endedCount++;
    const digit = dtmfDigit(this.activeEvent);
    if (digit !== null) this.options.onDigit(digit, Math.round(this.activeDuration / this.samplesPerMs));
  }
}

/** One packet the sender wants on the wire this tick. */
export interface OutgoingTelephoneEvent extends TelephoneEvent {
  marker: boolean;
  /** The RTP timestamp for the packet: the event's start, the same for all its packets. */
  timestamp: number;
}

export interface TelephoneEventSenderOptions {
  /** How long each key is held; Telnyx's send_dtmf default is 250 ms. */
  durationMs?: number;
  /** Quiet time after each digit's end packets, before the next digit starts. */
  gapMs?: number;
  volume?: number;
  endRepeats?: number;
  frameMs?: number;
  clockRate?: number;
}

interface QueuedItem {
  /** Event code, or -1 for a pause ('w' = 500 ms, 'W' = 1 s, as in Telnyx's send_dtmf). */
  code: number;
  ticks: number;
}

/**
 * Produces the packets for queued digits, one call per media tick. The caller supplies the RTP
 * timestamp of the tick, so the event's timestamp lines up with the audio it replaces.
 */
export class TelephoneEventSender {
  private readonly frameMs: number;
  private readonly frameSamples: number;
  private readonly durationTicks: number;
  private readonly gapTicks: number;
  private readonly volume: number;
  private readonly endRepeats: number;
  private readonly queue: QueuedItem[] = [];
  private current: QueuedItem | null = null;
  private eventTimestamp = 0;
  private elapsedTicks = 0;
  private endsSent = 0;
  private waitTicks = 0;

  constructor(options: TelephoneEventSenderOptions = {}) {
    this.frameMs = options.frameMs ?? 20;
    this.frameSamples = ((options.clockRate ?? 8000) * this.frameMs) / 1000;
    this.durationTicks = this.ticksFor(options.durationMs ?? 250);
    this.gapTicks = Math.max(0, Math.round((options.gapMs ?? 100) / this.frameMs));
    this.volume = Math.max(0, Math.min(63, options.volume ?? 10));
    this.endRepeats = Math.max(1, options.endRepeats ?? 3);
  }

  /**
   * Queues digits (0-9 * # A-D, 'w'/'W' pauses). Returns false and queues nothing when the string
   * holds anything else.
   */
  enqueue(digits: string, durationMs?: number): boolean {
    const ticks = durationMs === undefined ? this.durationTicks : this.ticksFor(durationMs);
    const items: QueuedItem[] = [];
    for (const ch of digits) {
      if (ch === 'w') items.push({ code: -1, ticks: 500 / this.frameMs });
      else if (ch === 'W') items.push({ code: -1, ticks: 1000 / this.frameMs });
      else {
        const code = dtmfEventCode(ch);
        if (code < 0) return false;
        items.push({ code, ticks });
      }
    }
    this.queue.push(...items);
    return true;
  }

  /** True while an event is on the wire or more digits are queued; audio should pause meanwhile. */
  get busy(): boolean {
    return this.current !== null || this.queue.length > 0 || this.waitTicks > 0;
  }

  clear(): void {
    this.queue.length = 0;
    this.current = null;
    this.waitTicks = 0;
  }

  /** Call once per tick. Fills `out` and returns true when a packet is due this tick. */
  next(timestamp: number, out: OutgoingTelephoneEvent): boolean {
    if (this.waitTicks > 0) {
      this.waitTicks--;
      return false;
    }
    if (this.current === null) {
      const item = this.queue.shift();
      if (item === undefined) return false;
      if (item.code < 0) {
        this.waitTicks = Math.max(0, item.ticks - 1);
        return false;
      }
      this.current = item;
      this.eventTimestamp = timestamp >>> 0;
      this.elapsedTicks = 0;
      this.endsSent = 0;
    }
    const item = this.current;
    const first = this.elapsedTicks === 0;
    if (this.endsSent === 0) this.elapsedTicks++;
    const end = this.elapsedTicks >= item.ticks;
    out.event = item.code;
    out.end = end;
    out.volume = this.volume;
    out.duration = Math.min(MAX_DURATION, this.elapsedTicks * this.frameSamples);
    out.marker = first;
    out.timestamp = this.eventTimestamp;
    if (end && ++this.endsSent >= this.endRepeats) {
      this.current = null;
      this.waitTicks = this.gapTicks;
    }
    return true;
  }

  private ticksFor(durationMs: number): number {
    // The 16-bit duration field caps one event at about 8 s; 40 ms is the shortest reliable press.
    const ms = Math.max(40, Math.min(8000, durationMs));
    return Math.max(1, Math.round(ms / this.frameMs));
  }
}
