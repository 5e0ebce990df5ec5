import { FRAME_SAMPLES } from '../frame.js';
import type { AudioSource } from './audio-source.js';

/** How a queued clip ended. `file_not_found` and `failed` come from its loading. */
export type PlaybackEndStatus = 'completed' | 'cancelled' | 'call_hangup' | 'file_not_found' | 'failed';

/** A loading failure that knows how it should be reported. */
export class PlaybackLoadError extends Error {
  constructor(readonly status: 'file_not_found' | 'failed', readonly detail: string) {
    super(detail);
  }
}

export interface PlaybackItem {
  /** Mixed on top of the main track instead of queued on it. */
  readonly overlay: boolean;
  /** Times to play; Infinity loops until stopped. */
  readonly loops: number;
  /** 8 kHz mono PCM, or its loading. The item keeps its place in the queue while it loads. */
  readonly audio: Int16Array | Promise<Int16Array>;
  /** The first frame of it is about to be heard. */
  onStart(): void;
  /** Called once, for items that started (or failed to load when their turn came). */
  onEnd(status: PlaybackEndStatus, detail: string): void;
}

/** Stops one item wherever it is: playing, or still waiting in the queue. */
export interface PlaybackHandle {
  stop(status?: PlaybackEndStatus): void;
}

interface Entry {
  readonly item: PlaybackItem;
  clip: Int16Array | null;
  failure: PlaybackLoadError | null;
  position: number;
  loopsLeft: number;
  started: boolean;
  done: boolean;
}

/** One queue: a main track or the overlay. The head plays; the rest wait their turn. */
class Track {
  private readonly queue: Entry[] = [];

  get busy(): boolean {
    return this.queue.length > 0;
  }

  /** True when the head has started playing (not just waiting to load). */
  get playing(): boolean {
    return this.queue[0]?.started ?? false;
  }

  add(entry: Entry): void {
    this.queue.push(entry);
  }

  /** Ends the head (it plays next otherwise) or everything. Items that never started end silently. */
  stop(which: 'current' | 'all', status: PlaybackEndStatus): void {
    const ended = which === 'all' ? this.queue.splice(0) : this.queue.splice(0, 1);
    for (const entry of ended) finish(entry, status, '');
  }

  remove(entry: Entry, status: PlaybackEndStatus): void {
    const at = this.queue.indexOf(entry);
    if (at < 0) return;
    this.queue.splice(at, 1);
    finish(entry, status, '');
  }

  /**
   * Writes (or adds, when `mix`) up to one frame of the head into `out`. Returns false when it
   * produced nothing: an empty queue, or a head still loading. The frame that finishes an item
   * ends it; the next item starts on the following frame.
   */
  render(out: Int16Array, mix: boolean): boolean {
    for (;;) {
      const entry = this.queue[0];
      if (!entry) return false;
      if (entry.failure) {
        this.queue.shift();
        finish(entry, entry.failure.status, entry.failure.detail, true);
        continue;
      }
      const clip = entry.clip;
      if (!clip) return false;
      if (!entry.started) {
        entry.started = true;
        entry.item.onStart();
        // onStart may stop the item (e.g. the call hung up in the callback).
        if (entry.done) continue;
      }
      if (clip.length === 0) {
        this.queue.shift();
        finish(entry, 'completed', '');
        continue;
      }
      this.fill(entry, clip, out, mix);
      return true;
    }
  }

  private fill(entry: Entry, clip: Int16Array, out: Int16Array, mix: boolean): void {
    let written = 0;
    while (written < FRAME_SAMPLES) {
      const n = Math.min(FRAME_SAMPLES - written, clip.length - entry.position);
      if (mix) {
        for (let i = 0; i < n; i++) {
          const sum = (out[written + i] as number) + (clip[entry.position + i] as number);
          out[written + i] = sum > 32767 ? 32767 : sum < -32768 ? -32768 : sum;
        }
      } else {
        out.set(clip.subarray(entry.position, entry.position + n), written);
      }
      written += n;
      entry.position += n;
      if (entry.position < clip.length) continue;
      entry.loopsLeft--;
      if (entry.loopsLeft > 0) {
        entry.position = 0;
        continue;
      }
      if (!mix) out.fill(0, written);
      this.queue.shift();
      finish(entry, 'completed', '');
      return;
    }
  }
}

function finish(entry: Entry, status: PlaybackEndStatus, detail: string, reportUnstarted = false): void {
  if (entry.done) return;
  entry.done = true;
  if (entry.started || reportUnstarted) entry.item.onEnd(status, detail);
}

/**
 * What a leg plays to its far end: a main queue (playback and speech take turns, in order) and
 * an overlay queue mixed on top. Pulled once per 20 ms tick by the leg's media; one scratch frame,
 * no allocation per tick.
 */
export class PromptPlayer implements AudioSource {
  private readonly main = new Track();
  private readonly overlay = new Track();
  private readonly frame = new Int16Array(FRAME_SAMPLES);
  private closed = false;

  /** Whether the main track is playing or has something queued. */
  get busy(): boolean {
    return this.main.busy;
  }

  /** Whether a main-track item is audible now (overlay needs one). */
  get playing(): boolean {
    return this.main.playing;
  }

  enqueue(item: PlaybackItem): PlaybackHandle {
    const entry: Entry = {
      item, clip: null, failure: null, position: 0, loopsLeft: Math.max(1, item.loops), started: false, done: false,
    };
    const track = item.overlay ? this.overlay : this.main;
    if (this.closed) {
      entry.done = true;
      return { stop: () => undefined };
    }
    if (item.audio instanceof Int16Array) {
      entry.clip = item.audio;
    } else {
      item.audio.then(
        (clip) => { entry.clip = clip; },
        (error: unknown) => {
          entry.failure = error instanceof PlaybackLoadError ? error : new PlaybackLoadError('failed', String(error instanceof Error ? error.message : error));
        },
      );
    }
    track.add(entry);
    return { stop: (status = 'cancelled') => track.remove(entry, status) };
  }

  stop(which: 'current' | 'all', overlay: boolean): void {
    (overlay ? this.overlay : this.main).stop(which, 'cancelled');
  }

  /** The call is over: whatever plays ends with `call_hangup`, the rest is dropped. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.main.stop('all', 'call_hangup');
    this.overlay.stop('all', 'call_hangup');
  }

  /** The next 20 ms to send, or null when there is nothing to play. The frame is reused. */
  nextFrame(): Int16Array | null {
    const frame = this.frame;
    const hasMain = this.main.render(frame, false);
    if (!hasMain) {
      if (!this.overlay.busy) return null;
      // An overlay that outlives the main track plays out on its own.
      frame.fill(0);
    }
    const hasOverlay = this.overlay.render(frame, true);
    return hasMain || hasOverlay ? frame : null;
  }
}
