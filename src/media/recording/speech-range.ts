/**
 * Where the speech in a recording starts and ends, for `trim: "trim-silence"`.
 *
 * Each channel gets its own voice activity detector (in a dual recording the two sides talk
 * over different backgrounds, and one side's silence must not hide the other's speech); the kept
 * range runs from the first speech in any channel to the last, widened by a margin (200 ms by
 * default) so that soft onsets the detector confirms a frame or two late, and trailing
 * consonants, are not clipped.
 *
 * Only talkspurts with at least five speech-like frames count (see TONES in vad.ts): the first
 * frames of a beep or a DTMF tone can pass for speech for a moment, and a recording that is
 * nothing but a beep and silence should trim to nothing rather than to the beep. Trimming only
 * ever removes audio from the two ends: pauses between utterances stay as they were.
 */
import { FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE } from '../frame.js';
import { VoiceActivityDetector } from '../dsp/vad.js';

/** Speech-like frames a talkspurt needs before it counts (100 ms). */
export const MIN_TALKSPURT_FRAMES = 5;
export const DEFAULT_TRIM_MARGIN_MS = 200;

export interface SampleRange {
  /** First kept sample frame. */
  start: number;
  /** One past the last kept sample frame; equal to `start` when nothing is kept. */
  end: number;
}

export class SpeechRangeFinder {
  readonly channels: 1 | 2;
  private readonly detectors: VoiceActivityDetector[];
  private readonly marginFrames: number;
  private firstSpeechFrame = -1;
  private lastSpeechFrame = -1;
  /** 20 ms frames analysed so far. */
  private frames = 0;
  /** A part frame left over from the previous chunk. */
  private readonly carry: Int16Array;
  private carried = 0;

  constructor(channels: 1 | 2, marginMs = DEFAULT_TRIM_MARGIN_MS) {
    if (!(marginMs >= 0)) throw new RangeError('marginMs must be ≥ 0');
    this.channels = channels;
    this.detectors = Array.from({ length: channels }, () => new VoiceActivityDetector());
    this.marginFrames = Math.round((marginMs * SAMPLE_RATE) / 1000);
    this.carry = new Int16Array(FRAME_SAMPLES * channels);
  }

  /**
   * Analyses the next `sampleFrames` sample frames of `interleaved` (`channels` samples each).
   * Chunks may be of any length: a part frame at the end of one is completed by the next. A part
   * frame at the very end of the recording is too short to judge and is left out of the
   * analysis (the margin can still keep it).
   */
  push(interleaved: Int16Array, sampleFrames: number): void {
    const ch = this.channels;
    let at = 0;
    if (this.carried > 0) {
      const take = Math.min(FRAME_SAMPLES - this.carried, sampleFrames);
      this.carry.set(interleaved.subarray(0, take * ch), this.carried * ch);
      this.carried += take;
      at = take;
      if (this.carried < FRAME_SAMPLES) return;
      this.analyse(this.carry, 0);
      this.carried = 0;
    }
    for (; at + FRAME_SAMPLES <= sampleFrames; at += FRAME_SAMPLES) this.analyse(interleaved, at * ch);
    if (at < sampleFrames) {
      this.carry.set(interleaved.subarray(at * ch, sampleFrames * ch));
      this.carried = sampleFrames - at;
    }
  }

  private analyse(interleaved: Int16Array, offset: number): void {
    const ch = this.channels;
    const frame = this.frames++;
    for (let c = 0; c < ch; c++) {
      const vad = this.detectors[c] as VoiceActivityDetector;
      vad.process(interleaved, offset + c, ch);
      if (!vad.speech || vad.talkspurtSpeechFrames < MIN_TALKSPURT_FRAMES) continue;
      if (this.firstSpeechFrame < 0 || vad.talkspurtStart < this.firstSpeechFrame) this.firstSpeechFrame = vad.talkspurtStart;
      if (vad.lastSpeechLikeFrame > this.lastSpeechFrame) this.lastSpeechFrame = vad.lastSpeechLikeFrame;
    }
  }

  /** The range to keep out of `totalSampleFrames`. */
  range(totalSampleFrames: number): SampleRange {
    if (this.firstSpeechFrame < 0) return { start: 0, end: 0 };
    const start = Math.max(0, this.firstSpeechFrame * FRAME_SAMPLES - this.marginFrames);
    const end = Math.min(totalSampleFrames, (this.lastSpeechFrame + 1) * FRAME_SAMPLES + this.marginFrames);
    return { start, end: Math.max(start, end) };
  }

  /** Milliseconds of audio analysed (for diagnostics). */
  get analysedMs(): number {
    return this.frames * FRAME_MS;
  }
}
