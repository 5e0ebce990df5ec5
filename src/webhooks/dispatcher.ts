import { performance } from 'node:perf_hooks';
import type { DueEvent, OutboxRepository } from '../store/outbox-repository.js';
import type { Clock, Timer } from '../util/clock.js';
import { defaultRetryPolicy, retryDelayMs, validateRetryPolicy, type RetryPolicy } from './retry-policy.js';
import type { WebhookSigner } from './signing.js';

export interface WebhookDispatcherOptions {
  outbox: OutboxRepository;
  signer: Pick<WebhookSigner, 'headers'>;
  clock: Clock;
  policy?: RetryPolicy;
  fetch?: typeof fetch;
  log?: (msg: string, fields?: object) => void;
  /** Order keys delivered at the same time. Default 32. */
  concurrency?: number;
  /**
   * Wall-clock source for signature timestamps. Receivers check those against their own clock
   * (±300 s), so they must be real time even when the engine runs on a VirtualClock.
   */
  wallNow?: () => number;
}

interface AttemptOutcome {
  statusCode: number | null;
  error: string | null;
  succeeded: boolean;
}

/**
 * Delivers outbox events to application webhooks: strictly one event at a time per order key
 * (a call leg), many keys in parallel, with failover and back-off. All state lives in the
 * outbox, so a restarted dispatcher carries on where the last one stopped; an event whose
 * attempt was cut short by a crash is sent again (at least once, as with Telnyx).
 */
export class WebhookDispatcher {
  private readonly outbox: OutboxRepository;
  private readonly signer: Pick<WebhookSigner, 'headers'>;
  private readonly clock: Clock;
  private readonly policy: RetryPolicy;
  private readonly fetchImpl: typeof fetch;
  private readonly log: (msg: string, fields?: object) => void;
  private readonly concurrency: number;
  private readonly wallNow: () => number;

  /** One round in progress per order key; the promise settles after its outcome is stored. */
  private readonly inFlight = new Map<string, Promise<void>>();
  private running = false;
  private pumpQueued = false;
  private timer: Timer | null = null;
  private timerDueMs: number | null = null;

  constructor(opts: WebhookDispatcherOptions) {
    this.outbox = opts.outbox;
    this.signer = opts.signer;
    this.clock = opts.clock;
    this.policy = { ...(opts.policy ?? defaultRetryPolicy) };
    validateRetryPolicy(this.policy);
    this.fetchImpl = opts.fetch ?? fetch;
    this.log = opts.log ?? (() => {});
    this.concurrency = opts.concurrency ?? 32;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) throw new RangeError('concurrency must be an integer >= 1');
    this.wallNow = opts.wallNow ?? Date.now;
  }

  /** Begins delivering, starting with whatever a previous process left pending. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.pump();
  }

  /** Call after enqueueing; delivery starts on the next microtask, batched across calls. */
  kick(): void {
    if (!this.running || this.pumpQueued) return;
    this.pumpQueued = true;
    queueMicrotask(() => {
      this.pumpQueued = false;
      this.pump();
    });
  }

  /**
   * Stops taking new work and waits for rounds in flight to be recorded. That wait is bounded by
   * the events' own timeouts: at most one primary and one failover attempt per round.
   */
  async stop(): Promise<void> {
    this.running = false;
    this.cancelTimer();
    await Promise.allSettled([...this.inFlight.values()]);
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  private pump(): void {
    if (!this.running) return;
    try {
      const free = this.concurrency - this.inFlight.size;
      if (free > 0) {
        // Heads of in-flight keys come back too (they are still pending), so ask for enough
        // rows that skipping them can still fill every free slot.
        const due = this.outbox.nextDue(this.clock.now(), this.inFlight.size + free);
        for (const event of due) {
          if (this.inFlight.size >= this.concurrency) break;
          if (this.inFlight.has(event.orderKey)) continue;
          this.launch(event);
        }
      }
      this.armTimer();
    } catch (err) {
      // Nothing is lost: the rows stay pending and the next kick, completion or restart retries.
      this.log('webhook dispatcher could not read the outbox', { error: errorText(err) });
    }
  }

  private launch(event: DueEvent): void {
    const task = this.deliverRound(event)
      .catch((err: unknown) => this.onRoundCrashed(event, err))
      .finally(() => {
        this.inFlight.delete(event.orderKey);
        // Through kick() so that rounds finishing together share one outbox query.
        this.kick();
      });
    this.inFlight.set(event.orderKey, task);
  }

  /** Keeps a single timer, set for the earliest future retry among heads not already due. */
  private armTimer(): void {
    const now = this.clock.now();
    const wake = this.outbox.nextWakeMs(now);
    if (wake === null) {
      this.cancelTimer();
      return;
    }
    if (this.timer && this.timerDueMs === wake) return;
    this.cancelTimer();
    this.timerDueMs = wake;
    this.timer = this.clock.setTimer(wake - now, () => {
      this.timer = null;
      this.timerDueMs = null;
      this.pump();
    });
  }

  private cancelTimer(): void {
    this.timer?.cancel();
    this.timer = null;
    this.timerDueMs = null;
  }

  private async deliverRound(event: DueEvent): Promise<void> {
    const urls = event.failoverUrl !== null && event.failoverUrl !== event.url ? [event.url, event.failoverUrl] : [event.url];
    let attempt = event.attemptCount;
    for (const url of urls) {
      attempt += 1;
      if ((await this.attempt(event, url, attempt)).succeeded) {
        this.outbox.markDelivered(event.id, this.clock.now());
        return;
      }
    }
    // Every failed round makes exactly urls.length attempts, so the count gives the round number
    // without another column. A round cut short by a crash counts as a whole one: better to give
    // up a little early than to retry for ever.
    const failedRounds = Math.ceil(attempt / urls.length);
    const now = this.clock.now();
    if (failedRounds >= this.policy.maxRounds) {
      this.outbox.markFailed(event.id, now);
      this.log('webhook delivery given up', { event_id: event.id, event_type: event.eventType, attempts: attempt, rounds: failedRounds });
      return;
    }
    const delay = retryDelayMs(this.policy, failedRounds);
    this.outbox.reschedule(event.id, now + delay);
  }

  private async attempt(event: DueEvent, url: string, attempt: number): Promise<AttemptOutcome> {
    // Same bytes as JSON.stringify({ data, meta }) (stored data is JSON.stringify output), without
    // parsing the event back just to serialise it again.
    const body = `{"data":${event.dataJson},"meta":${JSON.stringify({ attempt, delivered_to: url })}}`;
    const headers = this.signer.headers(body, this.wallNow(), event.id);
    const startedMs = this.clock.now();
    // Duration is real elapsed time even under a VirtualClock, which does not move during I/O.
    const t0 = performance.now();
    const outcome = await this.post(url, body, headers, event.timeoutMs);
    const durationMs = performance.now() - t0;
    this.outbox.recordAttempt(event.id, { attempt, url, startedMs, durationMs, ...outcome });
    if (!outcome.succeeded) {
      this.log('webhook attempt failed', {
        event_id: event.id, event_type: event.eventType, attempt, url, status_code: outcome.statusCode, error: outcome.error,
      });
    }
    return outcome;
  }

  private async post(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<AttemptOutcome> {
    try {
      const res = await this.fetchImpl(url, {
        method: 'POST',
        headers,
        body,
        // A redirect would resend a signed event somewhere the application never configured.
        redirect: 'manual',
        // Real time, not the Clock: this bounds network I/O, which a virtual clock does not drive.
        signal: AbortSignal.timeout(timeoutMs),
      });
      // Only the status matters; discard the body so the connection is released.
      await res.body?.cancel().catch(() => {});
      const succeeded = res.status >= 200 && res.status < 300;
      let error: string | null = null;
      if (res.status >= 300 && res.status < 400) error = `redirect not followed${locationOf(res)}`;
      else if (res.type === 'opaqueredirect') error = 'redirect not followed';
      return { statusCode: res.status === 0 ? null : res.status, error, succeeded };
    } catch (err) {
      return { statusCode: null, error: fetchErrorText(err, timeoutMs), succeeded: false };
    }
  }

  private onRoundCrashed(event: DueEvent, err: unknown): void {
    this.log('webhook delivery round crashed', { event_id: event.id, error: errorText(err) });
    // Push the event back so a persistent fault (e.g. the database) cannot turn into a hot loop.
    try {
      this.outbox.reschedule(event.id, this.clock.now() + retryDelayMs(this.policy, 1));
    } catch {
      // Already logged; the row stays pending and is retried on the next pump or restart.
    }
  }
}

function locationOf(res: Response): string {
  const location = res.headers.get('location');
  return location ? ` (to ${location})` : '';
}

function fetchErrorText(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && err.name === 'TimeoutError') return `timed out after ${timeoutMs} ms`;
  if (err instanceof Error && err.cause instanceof Error) return `${err.message}: ${err.cause.message}`;
  return errorText(err);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
