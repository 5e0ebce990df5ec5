import type { HangupInfo } from './leg-record.js';

/**
 * The far end of a leg: a virtual phone today, a SIP dialog tomorrow. The engine tells it what
 * the application did; it reports back through the engine's `remote*` methods, never re-entrantly
 * from inside these calls.
 */
export interface RemoteParty {
  /** Outgoing legs: start alerting the far end. */
  ring(): void;
  /** Incoming legs: the application answered. */
  answered(): void;
  /** Switchboard ended the call (application hangup, timer, shutdown). */
  ended(info: HangupInfo): void;
  /** The application sends DTMF towards the far end. */
  dtmf(digits: string): void;
}

/** Finds the far end for an outbound dial; null when nothing answers to that address. */
export interface OutboundRouter {
  route(to: string, from: string, callControlId: string): RemoteParty | null;
}
