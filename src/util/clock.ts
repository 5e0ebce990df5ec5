/**
 * Every timer in the engine goes through a Clock so that call logic can be driven by a
 * virtual clock in tests: deterministic, and fast in wall time.
 */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  setTimer(delayMs: number, fire: () => void): Timer;
}

export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }

  setTimer(delayMs: number, fire: () => void): Timer {
    const handle = setTimeout(fire, Math.max(0, delayMs));
    handle.unref?.();
    return { cancel: () => clearTimeout(handle) };
  }
}

interface PendingTimer {
  due: number;
  order: number;
  fire: () => void;
  cancelled: boolean;
}

/** A clock that only moves when told to. Timers fire in due order, ties in creation order. */
export class VirtualClock implements Clock {
  private current: number;
  private pending: PendingTimer[] = [];
  private created = 0;

  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimer(delayMs: number, fire: () => void): Timer {
    const timer: PendingTimer = { due: this.current + Math.max(0, delayMs), order: this.created++, fire, cancelled: false };
    this.pending.push(timer);
    return { cancel: () => { timer.cancelled = true; } };
  }

  /** Moves time forward, firing every timer that falls due on the way (including ones they create). */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      this.pending = this.pending.filter((t) => !t.cancelled);
      let next: PendingTimer | undefined;
      for (const t of this.pending) {
        if (t.due <= target && (!next || t.due < next.due || (t.due === next.due && t.order < next.order))) next = t;
      }
      if (!next) break;
      this.current = next.due;
      next.cancelled = true;
      next.fire();
    }
    this.current = target;
  }

  get pendingCount(): number {
    return this.pending.filter((t) => !t.cancelled).length;
  }
}
