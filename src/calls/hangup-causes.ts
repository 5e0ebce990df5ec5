import type { HangupCause } from './leg-record.js';

/**
 * The Telnyx hangup_cause for a final SIP response that refused an outgoing call. Telnyx's enum is
 * coarse, so each SIP class maps to the cause an application would act on: retry later (busy),
 * fix the number (not found), try another time (no answer), or give up (rejected).
 */
export function causeForSipStatus(status: number): HangupCause {
  switch (status) {
    case 486:
    case 600:
      return 'user_busy';
    case 404:
    case 410:
    case 484:
    case 604:
      return 'not_found';
    case 408:
    case 480:
      return 'no_answer';
    case 487:
      return 'originator_cancel';
    default:
      return status >= 500 && status < 600 ? 'unspecified' : 'call_rejected';
  }
}
