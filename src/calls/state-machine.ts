import type { LegState } from './leg-record.js';

/** What can happen to a leg, from the app (commands), the far end, or a timer. */
export type LegInput = 'ring' | 'answer' | 'hangup';

/**
 * The legal moves of a leg. Anything absent is illegal: the engine turns that into a Telnyx error
 * (a command) or ignores it (a late signal from the far end).
 *
 *   initiated --ring--> ringing        (outgoing only: the far end alerts)
 *   initiated --answer--> answered     (incoming answered by the app; outgoing answered without alerting)
 *   ringing  --answer--> answered
 *   any but ended --hangup--> ended
 */
const transitions: Record<LegState, Partial<Record<LegInput, LegState>>> = {
  initiated: { ring: 'ringing', answer: 'answered', hangup: 'ended' },
  ringing: { answer: 'answered', hangup: 'ended' },
  answered: { hangup: 'ended' },
  ended: {},
};

export class IllegalTransition extends Error {
  constructor(readonly from: LegState, readonly input: LegInput) {
    super(`leg cannot ${input} while ${from}`);
  }
}

export function nextState(from: LegState, input: LegInput): LegState {
  const to = transitions[from][input];
  if (!to) throw new IllegalTransition(from, input);
  return to;
}

export function canTransition(from: LegState, input: LegInput): boolean {
  return transitions[from][input] !== undefined;
}
