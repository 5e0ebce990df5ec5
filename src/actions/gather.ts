/**
 * DTMF gather: collects digits for the `gather` command and decides how it ends.
 *
 * Pure logic: the call engine feeds digits in and learns the single outcome through a
 * callback. Reporting each digit to the application (call.dtmf.received) is the engine's job.
 *
 * ## Parameters (Telnyx names; defaults in `gatherDefaults`)
 * - `minimum_digits` (1), `maximum_digits` (128)
 * - `timeout_millis` (60000): limit for the whole gather, counted from when its timers start.
 * - `initial_timeout_millis` (5000): wait for the first digit.
 * - `inter_digit_timeout_millis` (5000): wait for each following digit.
 * - `valid_digits` ("0123456789#*"), `terminating_digit` ("#"; "" means no terminator).
 * - `gather_id` (1-40 chars): generated when absent.
 *
 * ## Semantics
 * - Timers: the initial timer and the overall timer start when the gather starts. The first
 *   digit cancels the initial timer; every digit (re)starts the inter-digit timer.
 * - Terminator: a digit equal to a non-empty `terminating_digit` ends the gather and is not
 *   included in `digits`. Status `valid` if minimum_digits <= count <= maximum_digits, else `invalid`.
 * - Invalid digit: a digit not in `valid_digits` (and not the terminator) is appended and the
 *   gather ends at once with `invalid`, so the application can re-prompt right away.
 * - Otherwise the digit is appended; when the count reaches `maximum_digits` the gather ends `valid`.
 * - Initial timeout (no digits yet): `timeout`, digits "".
 * - Inter-digit timeout: `valid` if count >= minimum_digits, else `invalid`.
 * - Overall timeout: `timeout` if no digits, else `valid` if count >= minimum_digits, else `invalid`.
 * - gather_stop: `cancelled` with the digits so far. A new gather replacing a running one
 *   stops the old one first, so it also ends `cancelled`.
 * - Hangup: `call_hangup` with the digits so far.
 * - After the end there is exactly one outcome, no timer left running, and further digits,
 *   stops and hangups are ignored.
 * - Accepted DTMF symbols: 0-9, *, #, A-D (RFC 4733 events 0-15).
 *
 * ## Use with a prompt (gather_using_audio / gather_using_speak)
 * With `startTimersNow: false` the timers wait for `armTimers()`, called when the prompt ends,
 * so the timeouts count from the end of the prompt. `onFirstDigit` fires on the first digit
 * so the prompt can be cut short (barge-in); a digit that arrives before `armTimers()` starts
 * the overall timer itself, since the barge-in ends the prompt at that moment.
 */
import type { Clock, Timer } from '../util/clock.js';

export interface GatherParams {
  minimum_digits: number;
  maximum_digits: number;
  timeout_millis: number;
  initial_timeout_millis: number;
  inter_digit_timeout_millis: number;
  valid_digits: string;
  terminating_digit: string;
  gather_id: string;
}

export const gatherDefaults = {
  minimum_digits: 1,
  maximum_digits: 128,
  timeout_millis: 60_000,
  initial_timeout_millis: 5_000,
  inter_digit_timeout_millis: 5_000,
  valid_digits: '0123456789#*',
  terminating_digit: '#',
} as const satisfies Omit<GatherParams, 'gather_id'>;

/** A request body as received; range checks (e.g. min <= max) belong to the request schema. */
export type GatherRequest = { [K in keyof GatherParams]?: GatherParams[K] | undefined };

export function resolveGatherParams(body: GatherRequest, newId: () => string): GatherParams {
  return {
    minimum_digits: body.minimum_digits ?? gatherDefaults.minimum_digits,
    maximum_digits: body.maximum_digits ?? gatherDefaults.maximum_digits,
    timeout_millis: body.timeout_millis ?? gatherDefaults.timeout_millis,
    initial_timeout_millis: body.initial_timeout_millis ?? gatherDefaults.initial_timeout_millis,
    inter_digit_timeout_millis: body.inter_digit_timeout_millis ?? gatherDefaults.inter_digit_timeout_millis,
    valid_digits: body.valid_digits ?? gatherDefaults.valid_digits,
    // "" is meaningful (no terminator), so only a missing value takes the default.
    terminating_digit: body.terminating_digit ?? gatherDefaults.terminating_digit,
    gather_id: body.gather_id ?? newId(),
  };
}

export const DTMF_SYMBOLS = '0123456789*#ABCD';

export type GatherStatus = 'valid' | 'invalid' | 'timeout' | 'cancelled' | 'call_hangup';

export interface GatherOutcome {
  status: GatherStatus;
  digits: string;
  gatherId: string;
}

export interface GatherOptions {
  params: GatherParams;
  clock: Clock;
  /** Called exactly once. The gather is already ended when it runs, so calls back into it are ignored. */
  onEnd: (outcome: GatherOutcome) => void;
  /** Called once, before the first digit is processed (barge-in). */
  onFirstDigit?: () => void;
  /** Default true. False leaves the timers to `armTimers()`, e.g. until a prompt has finished. */
  startTimersNow?: boolean;
}

export class DtmfGather {
  private readonly params: GatherParams;
  private readonly clock: Clock;
  private readonly onEnd: (outcome: GatherOutcome) => void;
  private readonly onFirstDigit: (() => void) | undefined;
  private collected = '';
  private sawDigit = false;
  private armed = false;
  private finished: GatherOutcome | null = null;
  private initialTimer: Timer | null = null;
  private interDigitTimer: Timer | null = null;
  private overallTimer: Timer | null = null;

  constructor(options: GatherOptions) {
    this.params = options.params;
    this.clock = options.clock;
    this.onEnd = options.onEnd;
    this.onFirstDigit = options.onFirstDigit;
    if (options.startTimersNow ?? true) this.armTimers();
  }

  get gatherId(): string {
    return this.params.gather_id;
  }

  get digits(): string {
    return this.collected;
  }

  get ended(): boolean {
    return this.finished !== null;
  }

  get outcome(): GatherOutcome | null {
    return this.finished;
  }

  /** Starts the initial and overall timers. Does nothing if already started or ended. */
  armTimers(): void {
    if (this.armed || this.finished) return;
    this.armed = true;
    this.overallTimer = this.clock.setTimer(this.params.timeout_millis, () => this.onOverallTimeout());
    if (!this.sawDigit) {
      this.initialTimer = this.clock.setTimer(this.params.initial_timeout_millis, () => this.finish('timeout'));
    }
  }

  /** Returns false if the digit was not consumed: not a DTMF symbol, or the gather has ended. */
  digit(symbol: string): boolean {
    if (this.finished || symbol.length !== 1 || !DTMF_SYMBOLS.includes(symbol)) return false;
    const { params } = this;

    if (!this.sawDigit) {
      this.sawDigit = true;
      this.onFirstDigit?.();
      // The barge-in handler may have stopped us (e.g. the call hung up meanwhile).
      if (this.finished) return false;
      this.initialTimer?.cancel();
      this.initialTimer = null;
      this.armTimers();
    }

    if (params.terminating_digit !== '' && symbol === params.terminating_digit) {
      const count = this.collected.length;
      this.finish(count >= params.minimum_digits && count <= params.maximum_digits ? 'valid' : 'invalid');
      return true;
    }

    this.collected += symbol;
    if (!params.valid_digits.includes(symbol)) {
      this.finish('invalid');
    } else if (this.collected.length >= params.maximum_digits) {
      this.finish('valid');
    } else {
      this.interDigitTimer?.cancel();
      this.interDigitTimer = this.clock.setTimer(params.inter_digit_timeout_millis, () => this.finish(this.countStatus()));
    }
    return true;
  }

  /** gather_stop, or replacement by a new gather. Returns false if already ended. */
  stop(): boolean {
    return this.finish('cancelled');
  }

  /** Returns false if already ended. */
  hangup(): boolean {
    return this.finish('call_hangup');
  }

  private onOverallTimeout(): void {
    this.finish(this.collected === '' ? 'timeout' : this.countStatus());
  }

  private countStatus(): GatherStatus {
    return this.collected.length >= this.params.minimum_digits ? 'valid' : 'invalid';
  }

  private finish(status: GatherStatus): boolean {
    if (this.finished) return false;
    const outcome: GatherOutcome = { status, digits: this.collected, gatherId: this.params.gather_id };
    // Mark ended and drop timers before the callback, so anything it triggers sees a finished gather.
    this.finished = outcome;
    for (const timer of [this.initialTimer, this.interDigitTimer, this.overallTimer]) timer?.cancel();
    this.initialTimer = this.interDigitTimer = this.overallTimer = null;
    this.onEnd(outcome);
    return true;
  }
}
