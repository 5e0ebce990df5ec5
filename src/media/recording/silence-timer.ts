/**
 * `timeout_secs`: ends a recording once someone has spoken and then been silent for that long.
 * The timer only starts at the first speech (a recording of a line nobody talks on runs until
 * stopped or `max_length`), and any later speech restarts it.
 *
 * It counts 20 ms frames, not wall time, so it agrees with the audio: frames not fed (a paused
 * recording) do not count, and a slow event loop cannot make it fire early. Speech means a
 * talkspurt with at least five speech-like frames, so the first frames of a DTMF digit or a
 * beep, which the detector may take for speech for a moment (see TONES in vad.ts), neither
 * start nor restart it. Silence is counted from the last speech-like frame, so the detector's
 * 300 ms hangover is part of the timeout, not added to it.
 */
import { FRAME_MS } from '../frame.js';
import { MIN_TALKSPURT_FRAMES } from './speech-range.js';

/** The parts of a VoiceActivityDetector's state the timer reads after each `process`. */
export interface SpeechDecision {
  readonly speech: boolean;
  readonly speechLike: boolean;
  readonly talkspurtSpeechFrames: number;
}

export class SilenceTimer {
  readonly timeoutFrames: number;
  private heard = false;
  private silentFrames = 0;
  private fired = false;

  constructor(timeoutMs: number) {
    if (!(timeoutMs > 0)) throw new RangeError('timeoutMs must be positive');
    this.timeoutFrames = Math.ceil(timeoutMs / FRAME_MS);
  }

  /** Call once per frame, after the detector has processed it; true from the frame the timeout expires. */
  update(vad: SpeechDecision): boolean {
    if (this.fired) return true;
    if (vad.speech && vad.speechLike && vad.talkspurtSpeechFrames >= MIN_TALKSPURT_FRAMES) {
      this.heard = true;
      this.silentFrames = 0;
      return false;
    }
    if (!this.heard) return false;
    if (++this.silentFrames >= this.timeoutFrames) this.fired = true;
    return this.fired;
  }

  /** Speech has been heard since the start (or the last reset). */
  get speechHeard(): boolean {
    return this.heard;
  }

  get expired(): boolean {
    return this.fired;
  }

  /** Silence since the last speech, ms (0 before any speech). */
  get silenceMs(): number {
    return this.silentFrames * FRAME_MS;
  }

  reset(): void {
    this.heard = false;
    this.silentFrames = 0;
    this.fired = false;
  }
}
