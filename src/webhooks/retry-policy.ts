/**
 * How long to keep trying one event before giving up on it.
 *
 * A round is one try at the primary URL, followed straight away by one at the failover URL
 * when the primary fails and a failover exists. Rounds are separated by exponential back-off.
 */
export interface RetryPolicy {
  /** Rounds before the event is marked failed, the first included. At least 1. */
  maxRounds: number;
  /** Wait after the first failed round. */
  baseDelayMs: number;
  /** Each later wait is the previous one times this. */
  multiplier: number;
  /** No single wait is longer than this. */
  maxDelayMs: number;
}

/**
 * Six rounds, 1 s doubling: waits of 1, 2, 4, 8 and 16 s, about half a minute of back-off in all.
 *
 * Telnyx caps per-command retry policies at 5 retries and 60 s in total, so an application
 * tuned against Telnyx sees nothing more patient than it is used to. The horizon is short on
 * purpose: events of a leg are delivered strictly in order, so while one is being retried
 * every later event of that call waits behind it, and call control that arrives minutes late
 * is of no use to a live call. A receiver that blips (deploy, restart) gets the whole half minute.
 */
export const defaultRetryPolicy: Readonly<RetryPolicy> = Object.freeze({
  maxRounds: 6,
  baseDelayMs: 1_000,
  multiplier: 2,
  maxDelayMs: 30_000,
});

/** The wait after `failedRounds` rounds have failed (1 for the first failure). */
export function retryDelayMs(policy: RetryPolicy, failedRounds: number): number {
  const exponent = Math.max(0, failedRounds - 1);
  const delay = policy.baseDelayMs * policy.multiplier ** exponent;
  return Math.max(0, Math.min(policy.maxDelayMs, Math.round(delay)));
}

/** Throws on a policy that would never deliver or never stop. */
export function validateRetryPolicy(policy: RetryPolicy): void {
  if (!Number.isInteger(policy.maxRounds) || policy.maxRounds < 1) throw new RangeError('maxRounds must be an integer >= 1');
  if (!(policy.baseDelayMs >= 0) || !(policy.maxDelayMs >= 0)) throw new RangeError('delays must be >= 0');
  if (!(policy.multiplier >= 1) || !Number.isFinite(policy.multiplier)) throw new RangeError('multiplier must be a finite number >= 1');
}
