import type { DigitCollector } from '../calls/call-engine.js';
import type { PlayRequest } from '../calls/leg-audio.js';
import type { PlaybackHandle } from '../media/player/prompt-player.js';
import type { Clock } from '../util/clock.js';
import { DtmfGather, type GatherOutcome, type GatherParams } from './gather.js';

export interface PromptedGatherOptions {
  /** Digit rules; `timeout_millis` is the wait for input after each prompt ends. */
  params: Pick<GatherParams, 'minimum_digits' | 'maximum_digits' | 'timeout_millis' | 'inter_digit_timeout_millis' | 'valid_digits' | 'terminating_digit' | 'gather_id'>;
  maximumTries: number;
  clock: Clock;
  /** A fresh request for the prompt, for each try; null gathers with no prompt. */
  prompt: (() => PlayRequest) | null;
  /** Played before the prompt of a try that follows invalid input. */
  invalidPrompt: (() => PlayRequest) | null;
  play: (request: PlayRequest) => PlaybackHandle;
  report: (outcome: GatherOutcome) => void;
}

/**
 * gather_using_audio and gather_using_speak: plays the prompt and collects digits, up to
 * `maximumTries` times.
 *
 * - Each try plays the prompt (after the invalid-input prompt when the previous try's input was
 *   invalid); the wait for input (`timeout_millis`) starts when the prompt ends.
 * - The first digit stops the prompt at once (barge-in) and starts the digit timers.
 * - A try that ends `valid`, or the last try, ends the gather. `timeout` and `invalid` tries are
 *   retried; `cancelled` (gather_stop, a new gather) and `call_hangup` end it at once.
 */
export class PromptedGather implements DigitCollector {
  private tries = 0;
  private attempt: DtmfGather | null = null;
  private prompts: PlaybackHandle[] = [];
  private finished = false;

  constructor(private readonly options: PromptedGatherOptions) {
    this.nextTry(false);
  }

  digit(symbol: string): boolean {
    return this.attempt?.digit(symbol) ?? false;
  }

  stop(): boolean {
    return this.end((attempt) => attempt.stop());
  }

  hangup(): boolean {
    return this.end((attempt) => attempt.hangup());
  }

  private end(how: (attempt: DtmfGather) => boolean): boolean {
    if (this.finished || !this.attempt) return false;
    this.stopPrompts();
    return how(this.attempt);
  }

  private nextTry(afterInvalid: boolean): void {
    const { params, clock } = this.options;
    this.tries++;
    const attempt = new DtmfGather({
      params: {
        ...params,
        // There is no separate wait for the first digit: timeout_millis is it.
        initial_timeout_millis: params.timeout_millis,
        // Once digits flow, the inter-digit timer governs; the overall limit only backs it up.
        timeout_millis: params.timeout_millis + params.inter_digit_timeout_millis * (params.maximum_digits + 1),
      },
      clock,
      startTimersNow: false,
      onFirstDigit: () => this.stopPrompts(),
      onEnd: (outcome) => this.tryEnded(attempt, outcome),
    });
    this.attempt = attempt;
    const requests = afterInvalid && this.options.invalidPrompt ? [this.options.invalidPrompt()] : [];
    const prompt = this.options.prompt?.();
    if (prompt) {
      requests.push({
        ...prompt,
        onEnded: (status) => {
          prompt.onEnded?.(status);
          attempt.armTimers();
        },
      });
    }
    this.prompts = requests.map((request) => this.options.play(request));
    if (!prompt) attempt.armTimers();
  }

  private tryEnded(attempt: DtmfGather, outcome: GatherOutcome): void {
    if (attempt !== this.attempt) return;
    const retry = (outcome.status === 'timeout' || outcome.status === 'invalid') && this.tries < this.options.maximumTries;
    if (retry) {
      this.nextTry(outcome.status === 'invalid');
      return;
    }
    this.finished = true;
    this.stopPrompts();
    this.options.report(outcome);
  }

  private stopPrompts(): void {
    const prompts = this.prompts;
    this.prompts = [];
    for (const prompt of prompts) prompt.stop('cancelled');
  }
}
