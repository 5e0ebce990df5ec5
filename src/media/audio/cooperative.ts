/**
 * Long audio jobs are written once as generators that `yield` at safe points, then either run
 * straight through (for synchronous callers) or slice by slice with the event loop getting a turn
 * in between — decoding a long file must not stall the 20 ms media clock sharing the thread.
 */
export type Job<T> = Generator<void, T, void>;

export function runToCompletion<T>(job: Job<T>): T {
  for (;;) {
    const step = job.next();
    if (step.done === true) return step.value;
  }
}

export async function runCooperatively<T>(job: Job<T>): Promise<T> {
  for (;;) {
    const step = job.next();
    if (step.done === true) return step.value;
    await yieldToEventLoop();
  }
}

/** Resolves after pending I/O and timers have had a turn (setImmediate, not a microtask). */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
