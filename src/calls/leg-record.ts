export type Direction = 'incoming' | 'outgoing';

/**
 * initiated: an incoming call waiting for answer (Telnyx "parked"), or an outgoing call being set up.
 * ringing: an outgoing call the far end is alerting. answered: media flows. ended: final.
 */
export type LegState = 'initiated' | 'ringing' | 'answered' | 'ended';

export type HangupCause =
  | 'call_rejected' | 'normal_clearing' | 'originator_cancel' | 'timeout' | 'time_limit'
  | 'user_busy' | 'not_found' | 'no_answer' | 'unspecified';

export type HangupSource = 'caller' | 'callee' | 'unknown';

export interface HangupInfo {
  cause: HangupCause;
  source: HangupSource;
  /** The SIP status that ended the call, or "unspecified" when none did. */
  sipCause: string;
}

/** The persistent facts of one call leg. */
export interface LegRecord {
  callControlId: string;
  callLegId: string;
  callSessionId: string;
  connectionId: string;
  direction: Direction;
  from: string;
  to: string;
  state: LegState;
  clientState: string | null;
  startMs: number;
  answerMs: number | null;
  endMs: number | null;
  hangup: HangupInfo | null;
  /** Per-call override of the application's webhook URLs (dial's webhook_url). */
  webhookUrl: string | null;
  webhookFailoverUrl: string | null;
}
