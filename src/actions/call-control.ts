import type { CallEngine } from '../calls/call-engine.js';
import type { CallAction } from '../calls/command-router.js';
import type { RecordingService } from '../recordings/recording-service.js';
import { recordFromAnswerRequest } from './recording-actions.js';

const ok = { result: 'ok' };

/** answer, hangup and send_dtmf: the actions that drive the leg itself. */
export function callControlActions(engine: CallEngine, recordings: RecordingService): Record<string, CallAction> {
  return {
    answer: {
      precondition: 'unanswered-incoming',
      run: ({ leg, body }) => {
        engine.answer(leg.callControlId);
        const record = recordFromAnswerRequest(body);
        if (!record) return { ...ok };
        // The answer itself succeeded; a recording that cannot start is reported, not refused.
        return { ...ok, recording_id: recordings.start(leg, record) };
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
