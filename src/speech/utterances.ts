import { VoiceActivityDetector } from '../media/dsp/vad.js';
import { FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE } from '../media/frame.js';
import { MIN_TALKSPURT_FRAMES } from '../media/recording/speech-range.js';

/**
 * Silence after speech that ends a caller's turn, unless told otherwise. Short enough that the
 * reply can start within half a second of the caller's last word; a caller who pauses longer
 * mid-answer is cut there, so deployments whose callers do can raise it.
 */
export const DEFAULT_END_SILENCE_MS = 300;

export interface UtteranceOptions {
  /** Silence after speech that ends the caller's turn (endpointing). Default DEFAULT_END_SILENCE_MS. */
  endSilenceMs?: number;
  /** Audio kept from before speech was confirmed, so the first syllable is not cut. Default 300 ms. */
  preRollMs?: number;
  /** A turn longer than this is cut and handed over as it is. Default 15 s. */
  maxUtteranceMs?: number;
  /**
   * The caller started talking (confirmed speech): barge-in. `preRoll` is the turn's audio so
   * far, from just before speech started; valid only during the call.
   */
  onSpeechStart?: (preRoll: Int16Array) => void;
  /** Each frame of a turn after its pre-roll, as it arrives, for live transcription. */
  onTurnAudio?: (frame: Int16Array) => void;
  /** One turn of the caller's speech, from just before it started to its end. */
  onUtterance: (pcm: Int16Array) => void;
}

/**
 * Cuts a caller's audio into turns: speech confirmed by the voice activity detector (a talkspurt
 * of at least five speech-like frames, so a beep or a click is not a turn) starts one, and
 * `endSilenceMs` without speech ends it. One preallocated buffer per listener; nothing is
 * allocated per frame except the copy handed out with each finished turn.
 */
export class UtteranceDetector {
  private readonly vad = new VoiceActivityDetector();
  private readonly buffer: Int16Array;
  private readonly preRollFrames: number;
  private readonly endFrames: number;
  private readonly silent = new Int16Array(FRAME_SAMPLES);
  /** Samples written; the buffer is a ring while waiting for speech, linear during a turn. */
  private written = 0;
  private inTurn = false;
  private turnStart = 0;
  private quietFrames = 0;

  constructor(private readonly options: UtteranceOptions) {
    const maxMs = options.maxUtteranceMs ?? 15_000;
    this.preRollFrames = Math.round((options.preRollMs ?? 300) / FRAME_MS);
    this.endFrames = Math.max(1, Math.round((options.endSilenceMs ?? DEFAULT_END_SILENCE_MS) / FRAME_MS));
    this.buffer = new Int16Array(Math.round((maxMs / 1000) * SAMPLE_RATE) + this.preRollFrames * FRAME_SAMPLES);
  }

  /** Whether the caller is mid-turn. */
  get speaking(): boolean {
    return this.inTurn;
  }

  /** One 20 ms frame of the caller's audio; null is silence. */
  push(frame: Int16Array | null): void {
    const samples = frame ?? this.silent;
    const speech = this.vad.process(samples);
    const confirmed = speech && this.vad.speechLike && this.vad.talkspurtSpeechFrames >= MIN_TALKSPURT_FRAMES;
    if (!this.inTurn) {
      this.keepPreRoll(samples);
      if (confirmed) this.startTurn();
      return;
    }
    this.append(samples);
    this.options.onTurnAudio?.(samples);
    this.quietFrames = confirmed || this.vad.speechLike ? 0 : this.quietFrames + 1;
    if (this.quietFrames >= this.endFrames || this.written >= this.buffer.length) this.endTurn();
  }

  /** Drops a turn in progress (e.g. the assistant stopped listening). */
  reset(): void {
    this.inTurn = false;
    this.written = 0;
    this.quietFrames = 0;
  }

  private keepPreRoll(samples: Int16Array): void {
    // While waiting, the first preRoll frames of the buffer form a ring of recent audio.
    const ringSamples = Math.max(1, this.preRollFrames) * FRAME_SAMPLES;
    const at = this.written % ringSamples;
    this.buffer.set(samples.subarray(0, FRAME_SAMPLES), at);
    this.written += FRAME_SAMPLES;
  }

  private startTurn(): void {
    // Unroll the ring so the turn starts with the pre-roll in time order.
    const ringSamples = Math.max(1, this.preRollFrames) * FRAME_SAMPLES;
    const kept = Math.min(this.written, ringSamples);
    const oldest = this.written > ringSamples ? this.written % ringSamples : 0;
    const ordered = new Int16Array(kept);
    for (let i = 0; i < kept; i++) ordered[i] = this.buffer[(oldest + i) % ringSamples] as number;
    this.buffer.set(ordered, 0);
    this.written = kept;
    this.turnStart = kept;
    this.inTurn = true;
    this.quietFrames = 0;
    this.options.onSpeechStart?.(this.buffer.subarray(0, kept));
  }

  private append(samples: Int16Array): void {
    const room = this.buffer.length - this.written;
    const n = Math.min(room, FRAME_SAMPLES);
    this.buffer.set(samples.subarray(0, n), this.written);
    this.written += n;
  }

  private endTurn(): void {
    // Keep a little of the trailing silence; the rest is the detector's hangover and the wait.
    const trailing = Math.max(0, this.quietFrames - 5) * FRAME_SAMPLES;
    const end = Math.max(this.turnStart, this.written - trailing);
    const pcm = this.buffer.slice(0, end);
    this.reset();
    this.options.onUtterance(pcm);
  }
}
