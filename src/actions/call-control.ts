import type { CallEngine } from '../calls/call-engine.js';
import type { CallAction } from '../calls/command-router.js';

const ok = { result: 'ok' };

/** answer, hangup and send_dtmf: the actions that drive the leg itself. */
export function callControlActions(engine: CallEngine): Record<string, CallAction> {
  return {
    answer: {
      precondition: 'unanswered-incoming',
      run: ({ leg }) => {
        engine.answer(leg.callControlId);
        return { ...ok };
      },
    },
    hangup: {
      precondition: 'any',
      run: ({ leg }) => {
        engine.hangup(leg.callControlId);
        return { ...ok };
      },
    },
    send_dtmf: {
      precondition: 'answered',
      run: ({ leg, body }) => {
        engine.sendDtmf(leg.callControlId, String(body['digits']), Number(body['duration_millis'] ?? 250));
        return { ...ok };
      },
    },
  };
}
