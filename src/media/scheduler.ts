import { performance } from 'node:perf_hooks';
import type { Timer } from '../util/clock.js';
import { FRAME_MS } from './frame.js';
import { LatenessHistogram } from './lateness-histogram.js';

/** Anything that does 20 ms of media work per tick: an RTP session, a mixer, a player. */
export interface MediaSession {
  tick(): void;
  /**
   * Work of the same tick that need not be on time, run once every session's `tick` is done:
   * a session that sends packets in `tick` and analyses what it received here keeps its packets
   * on the 20 ms grid however long the analysis of the sessions before it takes.
   */
  afterTick?(): void;
}

/**
 * Time for the media clock. `now()` must be monotonic (milliseconds, fractions allowed): wall time
 * can step backwards or forwards under NTP, which would bunch or starve ticks. The engine's
 * VirtualClock fits this shape, so tests drive the scheduler deterministically.
 */
export interface MediaTimeSource {
  now(): number;
  setTimer(delayMs: number, fire: () => void): Timer;
}

export const monotonicTime: MediaTimeSource = {
  now: () => performance.now(),
  setTimer(delayMs, fire) {
    const handle = setTimeout(fire, Math.max(0, delayMs));
    // Sockets keep the process alive while there are calls; the media clock alone should not.
    handle.unref();
    return { cancel: () => clearTimeout(handle) };
  },
};

export interface MediaSchedulerOptions {
  time?: MediaTimeSource;
  intervalMs?: number;
  /**
   * Missed ticks run back to back when the loop was blocked, at most this many per timer (media
   * goes before signalling); the rest follow on the next turn of the event loop, after its I/O.
   */
  maxCatchUpTicks?: number;
  /**
   * A backlog longer than this many ticks is an outage, not a delay: its oldest ticks are skipped
   * rather than let the delay of every stream grow. Up to it, late packets still go out, as a
   * burst the far end's jitter buffer absorbs.
   */
  maxBacklogTicks?: number;
  /** A timer that fires this little early still runs the tick; timers have 1 ms granularity. */
  earlyToleranceMs?: number;
  /** A session's tick threw. The session stays registered; the other sessions still run. */
  onError?: (error: unknown, session: MediaSession) => void;
}

/** Work that belongs to a pass as a whole rather than to one session. */
export interface PassHooks {
  /**
   * Before any session ticks: bring in what arrived, so no tick plays out ahead of it.
   * `lateByMs` is how far past its due time the pass starts (negative when the timer fired
   * within its early tolerance).
   */
  beforeTicks?(lateByMs: number): void;
  /** Once every session's `tick` is done, before any `afterTick`: hand on what the ticks queued. */
  afterSends?(): void;
}

/** Opaque handle returned by register; pass it to unregister. */
export interface MediaRegistration {
  readonly session: MediaSession;
}

interface Entry extends MediaRegistration {
  index: number;
  active: boolean;
}

export interface MediaSchedulerStats {
  sessions: number;
  ticks: number;
  /** Ticks dropped because the loop was further behind than maxBacklogTicks. */
  skippedTicks: number;
  /** Timer firings that found more than one tick due. */
  catchUps: number;
  errors: number;
  latenessMeanMs: number;
  latenessP50Ms: number;
  latenessP99Ms: number;
  latenessMaxMs: number;
  /** Time spent inside one pass over all sessions. */
  passMeanMs: number;
  passMaxMs: number;
}

/**
 * One timer for every media session in the process. Ticks are due on a fixed grid
 * (start + k × 20 ms) measured on a monotonic clock, so timer lateness never accumulates into
 * drift; when the event loop stalls, the missed ticks run late, a few back to back per turn of
 * the event loop, so RTP keeps its rate; only a backlog beyond `maxBacklogTicks` is skipped.
 * A pass runs every session's `tick`, then every session's `afterTick`. Sessions registered during
 * a pass start on the next one; unregistering is O(1) and safe from inside a tick.
 */
export class MediaScheduler {
  private readonly time: MediaTimeSource;
  private readonly interval: number;
  private readonly maxCatchUp: number;
  private readonly maxBacklog: number;
  private readonly earlyTolerance: number;
  private readonly onError: ((error: unknown, session: MediaSession) => void) | undefined;
  private readonly entries: Entry[] = [];
  private readonly passHooks: PassHooks[] = [];
  private timer: Timer | null = null;
  private nextDue = 0;
  private inPass = false;
  private firing = false;
  private halted = false;
  private removedDuringPass = false;

  private ticks = 0;
  private skippedTicks = 0;
  private catchUps = 0;
  private errors = 0;
  private readonly lateness = new LatenessHistogram();
  private passSum = 0;
  private passMax = 0;

  constructor(options: MediaSchedulerOptions = {}) {
    this.time = options.time ?? monotonicTime;
    this.interval = options.intervalMs ?? FRAME_MS;
    this.maxCatchUp = Math.max(1, options.maxCatchUpTicks ?? 5);
    // 160 ms: a skipped tick is a gap in the audio both ways, while a burst this long is still
    // played by the far end; a longer lag would also look like a backlog to our own jitter
    // buffers (depth plus allowed excess), which would cut it and then run dry as the ticks catch up.
    this.maxBacklog = Math.max(this.maxCatchUp, options.maxBacklogTicks ?? 8);
    this.earlyTolerance = Math.max(0, options.earlyToleranceMs ?? 1);
    this.onError = options.onError;
  }

  get size(): number {
    return this.entries.length;
  }

  get running(): boolean {
    return this.timer !== null;
  }

  /** Adds a session; the timer starts with the first one so an idle server does not wake up. */
  register(session: MediaSession): MediaRegistration {
    const entry: Entry = { session, index: this.entries.length, active: true };
    this.entries.push(entry);
    // Inside the timer callback the next timer is set on the way out; starting one here would double it.
    this.halted = false;
    if (this.timer === null && !this.firing) this.start();
    return entry;
  }

  /** Adds work to every pass (see PassHooks); returns its removal. */
  addPassHooks(hooks: PassHooks): () => void {
    this.passHooks.push(hooks);
    return () => {
      const at = this.passHooks.indexOf(hooks);
      if (at >= 0) this.passHooks.splice(at, 1);
    };
  }

  unregister(registration: MediaRegistration): void {
    const entry = registration as Entry;
    if (!entry.active) return;
    entry.active = false;
    if (this.inPass) {
      // Compacting now would move an unvisited entry behind the loop index; do it after the pass.
      this.removedDuringPass = true;
      return;
    }
    this.removeAt(entry.index);
    if (this.entries.length === 0 && !this.firing) this.stop();
  }

  stats(): MediaSchedulerStats {
    const n = this.ticks;
    const lateness = this.lateness.summary();
    return {
      sessions: this.entries.length,
      ticks: n,
      skippedTicks: this.skippedTicks,
      catchUps: this.catchUps,
      errors: this.errors,
      latenessMeanMs: lateness.meanMs,
      latenessP50Ms: lateness.p50Ms,
      latenessP99Ms: lateness.p99Ms,
      latenessMaxMs: lateness.maxMs,
      passMeanMs: n > 0 ? this.passSum / n : 0,
      passMaxMs: this.passMax,
    };
  }

  /** Stops the timer; sessions stay registered and a later register() starts it again. */
  stop(): void {
    this.halted = true;
    this.timer?.cancel();
    this.timer = null;
  }

  private start(): void {
    this.halted = false;
    this.nextDue = this.time.now() + this.interval;
    this.timer = this.time.setTimer(this.interval, this.onTimer);
  }

  private readonly onTimer = (): void => {
    this.timer = null;
    this.firing = true;
    try {
      this.fire();
    } finally {
      this.firing = false;
    }
    if (this.entries.length > 0 && !this.halted) {
      this.timer = this.time.setTimer(Math.max(0, this.nextDue - this.time.now()), this.onTimer);
    }
  };

  private fire(): void {
    const now = this.time.now();
    if (now + this.earlyTolerance >= this.nextDue) {
      let due = Math.floor((now + this.earlyTolerance - this.nextDue) / this.interval) + 1;
      if (due > this.maxBacklog) {
        this.skippedTicks += due - this.maxBacklog;
        this.nextDue += (due - this.maxBacklog) * this.interval;
        due = this.maxBacklog;
      }
      if (due > 1) this.catchUps++;
      // The rest of a long backlog is due at once: onTimer sets a zero delay for it.
      const run = Math.min(due, this.maxCatchUp);
      for (let i = 0; i < run; i++) {
        this.lateness.record(now - this.nextDue);
        this.runPass();
        this.nextDue += this.interval;
      }
    }
  }

  private runPass(): void {
    const started = this.time.now();
    if (this.passHooks.length > 0) {
      const lateBy = started - this.nextDue;
      for (const hooks of this.passHooks) hooks.beforeTicks?.(lateBy);
    }
    this.inPass = true;
    const count = this.entries.length;
    for (let i = 0; i < count; i++) {
      const entry = this.entries[i];
      if (entry === undefined || !entry.active) continue;
      try {
        entry.session.tick();
      } catch (error) {
        this.errors++;
        this.onError?.(error, entry.session);
      }
    }
    for (const hooks of this.passHooks) hooks.afterSends?.();
    for (let i = 0; i < count; i++) {
      const entry = this.entries[i];
      if (entry === undefined || !entry.active || entry.session.afterTick === undefined) continue;
      try {
        entry.session.afterTick();
      } catch (error) {
        this.errors++;
        this.onError?.(error, entry.session);
      }
    }
    this.inPass = false;
    if (this.removedDuringPass) this.compact();
    this.ticks++;
    const took = this.time.now() - started;
    this.passSum += took;
    if (took > this.passMax) this.passMax = took;
  }

  private compact(): void {
    this.removedDuringPass = false;
    for (let i = this.entries.length - 1; i >= 0; i--) {
      if (!(this.entries[i] as Entry).active) this.removeAt(i);
    }
  }

  /** Swap-remove: O(1), order of ticking within a pass is not significant. */
  private removeAt(index: number): void {
    const last = this.entries.pop();
    if (last === undefined || index >= this.entries.length) return;
    this.entries[index] = last;
    last.index = index;
  }
}
