import { performance } from 'node:perf_hooks';
import type { DueEvent, OutboxRepository } from '../store/outbox-repository.js';
import type { Clock, Timer } from '../util/clock.js';
import { postWebhook, type WebhookPost } from './http-post.js';
import { defaultRetryPolicy, retryDelayMs, validateRetryPolicy, type RetryPolicy } from './retry-policy.js';
import type { WebhookSigner } from './signing.js';

export interface WebhookDispatcherOptions {
  outbox: OutboxRepository;
  signer: Pick<WebhookSigner, 'headers'>;
  clock: Clock;
  policy?: RetryPolicy;
  /** How a webhook is sent; node:http(s) unless a test substitutes its own. */
  post?: WebhookPost;
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
 *
 * Finding work costs O(log n) per event: new events are read by seq from a cursor, and a key's
 * next event by an index seek when its round ends. The O(pending) heads scan runs only at start,
 * when the retry timer fires, and after a failed outbox read.
 */
export class WebhookDispatcher {
  private readonly outbox: OutboxRepository;
  private readonly signer: Pick<WebhookSigner, 'headers'>;
  private readonly clock: Clock;
  private readonly policy: RetryPolicy;
  private readonly send: WebhookPost;
  private readonly log: (msg: string, fields?: object) => void;
  private readonly concurrency: number;
  private readonly wallNow: () => number;

  /** One round in progress per order key; the promise settles after its outcome is stored. */
  private readonly inFlight = new Map<string, Promise<void>>();
  /**
   * Keys not in flight that may have a due head, longest waiting first. Needed because "due heads
   * not in flight" has no index: without it, every freed slot would need the heads scan. It is
   * only a hint about where to look, never about what to send: each key's head is read from the
   * outbox before launching, so a stale key costs one index seek, and a scan rebuilds the set.
   */
  private readonly ready = new Set<string>();
  /** Every pending event with seq <= this has been routed (into `ready`, in flight, or the scan). */
  private seenSeq = 0;
  /** The next pump rebuilds `ready` and the timer from the outbox instead of trusting them. */
  private rescan = true;
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
    this.send = opts.post ?? postWebhook;
    this.log = opts.log ?? (() => {});
    this.concurrency = opts.concurrency ?? 32;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) throw new RangeError('concurrency must be an integer >= 1');
    this.wallNow = opts.wallNow ?? Date.now;
  }

  /** Begins delivering, starting with whatever a previous process left pending. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.rescan = true;
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
      const now = this.clock.now();
      if (this.rescan) this.scan(now);
      else this.collectNew();
      this.fill(now);
    } catch (err) {
      // Nothing is lost: the rows stay pending, and the next kick, completion or restart rescans
      // (a key may have left `ready` before its head could be read).
      this.rescan = true;
      this.log('webhook dispatcher could not read the outbox', { error: errorText(err) });
    }
  }

  /** O(pending): finds every due head (e.g. left by a previous process) and the next retry time. */
  private scan(now: number): void {
    this.seenSeq = this.outbox.lastSeq();
    this.ready.clear();
    for (const key of this.outbox.dueKeys(now)) if (!this.inFlight.has(key)) this.ready.add(key);
    this.setTimer(this.outbox.nextWakeMs(now), now);
    this.rescan = false;
  }

  /** Routes events enqueued since the last look. A key in flight is skipped: its round's end looks again. */
  private collectNew(): void {
    for (const { seq, orderKey } of this.outbox.pendingSince(this.seenSeq)) {
      this.seenSeq = seq;
      if (!this.inFlight.has(orderKey)) this.ready.add(orderKey);
    }
  }

  /** Launches ready keys whose head is due while slots are free; a head not yet due goes to the timer. */
  private fill(now: number): void {
    for (const key of this.ready) {
      if (this.inFlight.size >= this.concurrency) return;
      this.ready.delete(key);
      if (this.inFlight.has(key)) continue;
      const head = this.outbox.head(key);
      if (!head) continue;
      if (head.nextAttemptMs > now) this.wakeAt(head.nextAttemptMs, now);
      else this.launch(head);
    }
  }

  private launch(event: DueEvent): void {
    const task = this.deliverRound(event)
      .catch((err: unknown) => this.onRoundCrashed(event, err))
      .finally(() => {
        this.inFlight.delete(event.orderKey);
        // The key's next event, or this one rescheduled, is read when a slot takes the key.
        this.ready.add(event.orderKey);
        // Through kick() so that rounds finishing together share one pump.
        this.kick();
      });
    this.inFlight.set(event.orderKey, task);
  }

  /**
   * Keeps the single timer at or before `dueMs`. When it fires, a scan launches every head due by
   * then and re-arms for the earliest later one, so later retries need not be tracked here.
   */
  private wakeAt(dueMs: number, now: number): void {
    if (this.timer && this.timerDueMs !== null && this.timerDueMs <= dueMs) return;
    this.setTimer(dueMs, now);
  }

  /** Sets the single timer to `dueMs` (null: none). Only future times: a due head needs a slot, not a timer. */
  private setTimer(dueMs: number | null, now: number): void {
    if (dueMs === null) {
      this.cancelTimer();
      return;
    }
    if (this.timer && this.timerDueMs === dueMs) return;
    this.cancelTimer();
    this.timerDueMs = dueMs;
    this.timer = this.clock.setTimer(dueMs - now, () => {
      this.timer = null;
      this.timerDueMs = null;
      this.rescan = true;
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
      const { statusCode, location } = await this.send(url, body, headers, timeoutMs);
      const succeeded = statusCode >= 200 && statusCode < 300;
      // A redirect would resend a signed event somewhere the application never configured.
      const error = statusCode >= 300 && statusCode < 400 ? `redirect not followed${location ? ` (to ${location})` : ''}` : null;
      return { statusCode, error, succeeded };
    } catch (err) {
      return { statusCode: null, error: postErrorText(err), succeeded: false };
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

function postErrorText(err: unknown): string {
  if (err instanceof Error && err.cause instanceof Error) return `${err.message}: ${err.cause.message}`;
  return errorText(err);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
