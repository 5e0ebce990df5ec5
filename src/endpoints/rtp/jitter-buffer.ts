import type { G711Codec } from '../../media/dsp/g711.js';
import { FRAME_SAMPLES, SAMPLE_RATE } from '../../media/frame.js';

/**
 * Playout buffer between the network and the 20 ms media clock.
 *
 * Packets are placed by RTP timestamp into a ring of decoded samples, so reordering, duplicates
 * and senders that do not packetise at exactly 20 ms all come out as contiguous frames. Playout
 * runs `depthMs` behind the first packet of the stream and holds that delay, adapting at the
 * edges:
 *  - a packet that arrives just behind the playout point (its slot was concealed a moment ago:
 *    the sender or the network fell behind by more than the depth) moves playout back so it
 *    still plays; the delay this adds is given back later by skipping quiet frames;
 *  - a backlog that persists is dropped;
 *  - a stream that keeps arriving later still (the sender's clock is slower, or its timestamps
 *    jumped) is re-anchored.
 * Sequence numbers drive the statistics (RFC 3550 A.1) and duplicate detection.
 */

export type FrameKind =
  /** Nothing has been received yet; `out` was not touched. */
  | 'none'
  /** Every sample came from a packet. */
  | 'audio'
  /** Some samples came from packets, the holes are zeros. */
  | 'partial'
  /** No packet: the last good frame repeated, fading (PLC-lite). */
  | 'concealed'
  /** No packet: silence. */
  | 'silence';

export type InsertOutcome = 'ok' | 'duplicate' | 'late' | 'resync' | 'invalid';

export interface JitterBufferOptions {
  /** Playout delay behind the first packet; 40-60 ms suits most networks. */
  depthMs?: number;
  /** Backlog beyond the depth that is tolerated before it is dropped (clock drift, bursts). */
  maxExcessMs?: number;
  /** How long the backlog must persist before it is dropped; short bursts drain by themselves. */
  excessHoldMs?: number;
  /** Consecutive late packets that mean the stream moved rather than a few packets got delayed. */
  resyncAfterLate?: number;
  /**
   * How far behind the playout point a packet may arrive and still be played, by moving playout
   * back (adding delay). Default 60 ms; 0 drops every late packet.
   */
  maxSlipMs?: number;
  concealment?: 'repeat' | 'silence';
  /** Ring size in samples, a power of two; bounds reordering and timestamp jumps. */
  capacitySamples?: number;
}

export interface JitterBufferStats {
  /** Packets accepted (not duplicates), RFC 3550 "received". */
  received: number;
  /** Expected minus received from the extended sequence numbers (RFC 3550 A.3), never negative. */
  lost: number;
  late: number;
  duplicate: number;
  /** Frames played with no data (concealed or silent) after playout had started. */
  concealedFrames: number;
  /** Frames thrown away to cut a persistent backlog. */
  droppedFrames: number;
  /** Frames of delay added to play packets that came just too late rather than lose them. */
  slippedFrames: number;
  /** Quiet frames skipped to give that delay back. */
  skippedQuietFrames: number;
  resyncs: number;
  /** Interarrival jitter (RFC 3550 A.8) in timestamp units and in milliseconds. */
  jitter: number;
  jitterMs: number;
  /** Audio buffered ahead of the playout point. */
  bufferedMs: number;
}

const RTP_SEQ_MOD = 0x10000;
const MAX_DROPOUT = 3000;
const MAX_MISORDER = 100;
const SEQ_WINDOW = 64;
// Below about −45 dBm0 a frame is a pause, and skipping it to take back added delay is inaudible.
const QUIET_FRAME_ENERGY = FRAME_SAMPLES * 8000;
// Repeating the last frame is only plausible briefly; after that it sounds like a stuck record.
const CONCEAL_GAINS = [0.8, 0.5, 0.25] as const;

export class JitterBuffer {
  private readonly depth: number;
  private readonly maxExcess: number;
  private readonly excessHoldFrames: number;
  private readonly resyncAfterLate: number;
  private readonly maxSlip: number;
  private readonly concealment: 'repeat' | 'silence';
  private readonly mask: number;
  private readonly ring: Int16Array;
  private readonly valid: Uint8Array;
  private readonly lastGood = new Int16Array(FRAME_SAMPLES);
  private readonly seenSeq = new Int32Array(SEQ_WINDOW).fill(-1);

  private started = false;
  private playedAudio = false;
  private playTs = 0;
  private highestEnd = 0;
  private consecutiveLate = 0;
  private excessFrames = 0;
  private missingRun = 0;
  /** Delay added by slips and not yet given back, in samples. */
  private addedDelay = 0;

  // RFC 3550 A.1 sequence state.
  private baseSeq = 0;
  private maxSeq = 0;
  private badSeq = RTP_SEQ_MOD + 1;
  private cycles = 0;
  private seqInitialized = false;
  private streamReceived = 0;
  private receivedTotal = 0;
  // Loss counted on streams before the last reset or sequence restart.
  private lostBefore = 0;
  // RFC 3550 A.8 jitter state.
  private lastArrival = 0;
  private lastTimestamp = 0;
  private jitter = 0;

  private late = 0;
  private duplicate = 0;
  private concealedFrames = 0;
  private droppedFrames = 0;
  private slippedFrames = 0;
  private skippedQuietFrames = 0;
  private resyncs = 0;

  constructor(options: JitterBufferOptions = {}) {
    const perMs = SAMPLE_RATE / 1000;
    const capacity = options.capacitySamples ?? 4096;
    if (capacity < 4 * FRAME_SAMPLES || (capacity & (capacity - 1)) !== 0) {
      throw new RangeError('capacitySamples must be a power of two of at least four frames');
    }
    this.depth = Math.round(Math.max(0, Math.min(options.depthMs ?? 60, 200)) * perMs);
    this.maxExcess = Math.round(Math.max(FRAME_SAMPLES / perMs, options.maxExcessMs ?? 80) * perMs);
    this.excessHoldFrames = Math.max(1, Math.round((options.excessHoldMs ?? 500) / 20));
    this.resyncAfterLate = Math.max(1, options.resyncAfterLate ?? 4);
    this.maxSlip = Math.round(Math.max(0, Math.min(options.maxSlipMs ?? 60, 200)) * perMs);
    this.concealment = options.concealment ?? 'repeat';
    if (this.depth + this.maxExcess + 2 * FRAME_SAMPLES > capacity / 2) {
      throw new RangeError('capacitySamples is too small for the depth and excess');
    }
    this.mask = capacity - 1;
    this.ring = new Int16Array(capacity);
    this.valid = new Uint8Array(capacity);
  }

  /** Adds a packet of linear PCM. */
  insert(seq: number, timestamp: number, pcm: Int16Array, count: number, arrivalMs: number): InsertOutcome {
    const outcome = this.admit(seq, timestamp, count, arrivalMs);
    if (outcome === 'ok' || outcome === 'resync') {
      for (let i = 0; i < count; i++) this.put(timestamp + i, pcm[i] as number);
    }
    return outcome;
  }

  /** Adds a packet of G.711, decoding straight into the ring. */
  insertEncoded(
    seq: number, timestamp: number, codec: G711Codec, data: Uint8Array, offset: number, length: number, arrivalMs: number,
  ): InsertOutcome {
    const outcome = this.admit(seq, timestamp, length, arrivalMs);
    if (outcome === 'ok' || outcome === 'resync') {
      const start = timestamp & this.mask;
      const first = Math.min(length, this.ring.length - start);
      codec.decodeInto(data, this.ring, offset, first, start);
      if (first < length) codec.decodeInto(data, this.ring, offset + first, length - first, 0);
      this.valid.fill(1, start, start + first);
      if (first < length) this.valid.fill(1, 0, length - first);
    }
    return outcome;
  }

  /** Produces the next 20 ms frame into `out` (FRAME_SAMPLES long). Call once per media tick. */
  pop(out: Int16Array): FrameKind {
    if (!this.started) return 'none';
    this.trimBacklog();
    if (this.addedDelay >= FRAME_SAMPLES) this.giveBackDelay();
    const present = this.takeFrame(out);
    this.playTs = (this.playTs + FRAME_SAMPLES) >>> 0;
    if (present === FRAME_SAMPLES) {
      this.lastGood.set(out);
      this.playedAudio = true;
      this.missingRun = 0;
      return 'audio';
    }
    if (present > 0) {
      this.playedAudio = true;
      this.missingRun = 0;
      return 'partial';
    }
    if (!this.playedAudio) return 'silence';
    this.concealedFrames++;
    const gain = this.concealment === 'repeat' ? CONCEAL_GAINS[this.missingRun] : undefined;
    this.missingRun++;
    if (gain === undefined) return 'silence';
    for (let i = 0; i < FRAME_SAMPLES; i++) out[i] = Math.round((this.lastGood[i] as number) * gain);
    return 'concealed';
  }

  /**
   * Moves the frame at the playout point from the ring into `out`, silence where nothing came;
   * returns how many samples were there. A whole frame that does not wrap the ring is the usual
   * case, and goes as one copy.
   */
  private takeFrame(out: Int16Array): number {
    const ring = this.ring;
    const valid = this.valid;
    const start = this.playTs & this.mask;
    const end = start + FRAME_SAMPLES;
    if (end <= ring.length) {
      const gap = valid.indexOf(0, start);
      if (gap === -1 || gap >= end) {
        out.set(ring.subarray(start, end));
        valid.fill(0, start, end);
        return FRAME_SAMPLES;
      }
    }
    const mask = this.mask;
    let present = 0;
    for (let i = 0; i < FRAME_SAMPLES; i++) {
      const idx = (start + i) & mask;
      if (valid[idx] === 1) {
        out[i] = ring[idx] as number;
        valid[idx] = 0;
        present++;
      } else {
        out[i] = 0;
      }
    }
    return present;
  }

  /** Forgets the stream (a new SSRC starts a new sequence and timestamp space). Counters stay. */
  reset(): void {
    this.lostBefore += this.streamLost();
    this.seqInitialized = false;
    this.started = false;
    this.playedAudio = false;
    this.valid.fill(0);
    this.seenSeq.fill(-1);
    this.consecutiveLate = 0;
    this.excessFrames = 0;
    this.missingRun = 0;
    this.addedDelay = 0;
  }

  stats(): JitterBufferStats {
    return {
      received: this.receivedTotal,
      lost: this.lostBefore + this.streamLost(),
      late: this.late,
      duplicate: this.duplicate,
      concealedFrames: this.concealedFrames,
      droppedFrames: this.droppedFrames,
      slippedFrames: this.slippedFrames,
      skippedQuietFrames: this.skippedQuietFrames,
      resyncs: this.resyncs,
      jitter: this.jitter,
      jitterMs: this.jitter / (SAMPLE_RATE / 1000),
      bufferedMs: this.started ? Math.max(0, (this.highestEnd - this.playTs) | 0) / (SAMPLE_RATE / 1000) : 0,
    };
  }

  /**
   * A packet of this stream that carries no audio (an RFC 4733 event shares the audio's sequence
   * numbers): it counts as received, so loss statistics do not report it as missing audio.
   */
  countSequence(seq: number): void {
    seq &= 0xffff;
    const slot = seq % SEQ_WINDOW;
    if (!this.seqInitialized || this.seenSeq[slot] === seq) return;
    this.seenSeq[slot] = seq;
    const udelta = (seq - this.maxSeq) & 0xffff;
    if (udelta < MAX_DROPOUT) {
      if (seq < this.maxSeq) this.cycles += RTP_SEQ_MOD;
      this.maxSeq = seq;
    } else if (udelta <= RTP_SEQ_MOD - MAX_MISORDER) {
      return;
    }
    this.streamReceived++;
    this.receivedTotal++;
  }

  private admit(seq: number, timestamp: number, count: number, arrivalMs: number): InsertOutcome {
    if (count <= 0 || count > this.ring.length / 2) return 'invalid';
    seq &= 0xffff;
    timestamp >>>= 0;
    const slot = seq % SEQ_WINDOW;
    if (this.seenSeq[slot] === seq) {
      this.duplicate++;
      return 'duplicate';
    }
    this.seenSeq[slot] = seq;
    this.updateStats(seq, timestamp, arrivalMs);

    if (!this.started) {
      this.anchor(timestamp, count);
      return 'ok';
    }
    const offset = (timestamp - this.playTs) | 0;
    if (offset < 0 && -offset <= this.maxSlip && this.playedAudio) {
      // One frame of margin behind it, so the packets that follow it are not late in turn.
      const back = FRAME_SAMPLES - offset;
      this.playTs = (this.playTs - back) >>> 0;
      this.addedDelay += back;
      this.slippedFrames += Math.round(back / FRAME_SAMPLES);
      this.consecutiveLate = 0;
      return 'ok';
    }
    if (offset < 0) {
      this.late++;
      if (++this.consecutiveLate < this.resyncAfterLate) return 'late';
      this.resync(timestamp, count);
      return 'resync';
    }
    this.consecutiveLate = 0;
    if (offset + count > this.ring.length - FRAME_SAMPLES) {
      this.resync(timestamp, count);
      return 'resync';
    }
    if (((timestamp + count - this.highestEnd) | 0) > 0) this.highestEnd = (timestamp + count) >>> 0;
    return 'ok';
  }

  private anchor(timestamp: number, count: number): void {
    this.started = true;
    this.addedDelay = 0;
    this.playTs = (timestamp - this.depth) >>> 0;
    this.highestEnd = (timestamp + count) >>> 0;
    this.consecutiveLate = 0;
    this.excessFrames = 0;
  }

  private resync(timestamp: number, count: number): void {
    this.resyncs++;
    this.valid.fill(0);
    this.anchor(timestamp, count);
  }

  private put(timestamp: number, sample: number): void {
    const idx = timestamp & this.mask;
    this.ring[idx] = sample;
    this.valid[idx] = 1;
  }

  /**
   * Skips the frame due now if it is quiet and the frames behind it keep the configured depth:
   * delay added by slips goes back in the caller's pauses, never mid-word.
   */
  private giveBackDelay(): void {
    const buffered = (this.highestEnd - this.playTs) | 0;
    if (buffered < this.depth + 2 * FRAME_SAMPLES) return;
    let energy = 0;
    for (let i = 0; i < FRAME_SAMPLES; i++) {
      const idx = (this.playTs + i) & this.mask;
      if (this.valid[idx] !== 1) return;
      const s = this.ring[idx] as number;
      energy += s * s;
    }
    if (energy >= QUIET_FRAME_ENERGY) return;
    for (let i = 0; i < FRAME_SAMPLES; i++) this.valid[(this.playTs + i) & this.mask] = 0;
    this.playTs = (this.playTs + FRAME_SAMPLES) >>> 0;
    this.addedDelay -= FRAME_SAMPLES;
    this.skippedQuietFrames++;
  }

  /** Drops the oldest audio when more than depth + maxExcess has been queued for a while. */
  private trimBacklog(): void {
    const buffered = (this.highestEnd - this.playTs) | 0;
    if (buffered <= this.depth + FRAME_SAMPLES + this.maxExcess) {
      this.excessFrames = 0;
      return;
    }
    if (++this.excessFrames < this.excessHoldFrames) return;
    this.excessFrames = 0;
    const target = (this.highestEnd - this.depth - FRAME_SAMPLES) >>> 0;
    const skip = (target - this.playTs) | 0;
    for (let i = 0; i < skip; i++) this.valid[(this.playTs + i) & this.mask] = 0;
    this.droppedFrames += Math.floor(skip / FRAME_SAMPLES);
    this.playTs = target;
  }

  private updateStats(seq: number, timestamp: number, arrivalMs: number): void {
    const arrival = arrivalMs * (SAMPLE_RATE / 1000);
    if (!this.seqInitialized) {
      this.initSeq(seq);
    } else {
      const udelta = (seq - this.maxSeq) & 0xffff;
      if (udelta < MAX_DROPOUT) {
        if (seq < this.maxSeq) this.cycles += RTP_SEQ_MOD;
        this.maxSeq = seq;
      } else if (udelta <= RTP_SEQ_MOD - MAX_MISORDER) {
        if (seq !== this.badSeq) {
          // A big jump: wait for the next packet to confirm the sender restarted its numbering.
          this.badSeq = (seq + 1) & 0xffff;
          return;
        }
        this.lostBefore += this.streamLost();
        this.initSeq(seq);
      }
      if (this.streamReceived > 0) {
        const d = arrival - this.lastArrival - ((timestamp - this.lastTimestamp) | 0);
        this.jitter += (Math.abs(d) - this.jitter) / 16;
      }
    }
    this.streamReceived++;
    this.receivedTotal++;
    this.lastArrival = arrival;
    this.lastTimestamp = timestamp;
  }

  private streamLost(): number {
    if (!this.seqInitialized) return 0;
    return Math.max(0, this.cycles + this.maxSeq - this.baseSeq + 1 - this.streamReceived);
  }

  private initSeq(seq: number): void {
    this.seqInitialized = true;
    this.baseSeq = seq;
    this.maxSeq = seq;
    this.badSeq = RTP_SEQ_MOD + 1;
    this.cycles = 0;
    this.streamReceived = 0;
  }
}
