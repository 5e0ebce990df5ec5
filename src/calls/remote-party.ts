import type { AudioSource } from '../media/player/audio-source.js';
import type { AudioTap, HeardPrompt } from './leg-audio.js';
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
  /** The application sends DTMF towards the far end, each digit lasting `durationMs`. */
  dtmf(digits: string, durationMs: number): void;
  /** From answer to hangup: what to send the far end, pulled one 20 ms frame per tick. */
  setAudioSource?(source: AudioSource | null): void;
  /** What the far end started or stopped hearing (virtual phones keep a log of it). */
  heard?(prompt: HeardPrompt): void;
  /** From answer to hangup: gets both directions of the leg's audio once per tick. */
  setAudioTap?(tap: AudioTap | null): void;
  /** Whether something collects the caller's digits now: far ends may listen harder meanwhile. */
  collectingDigits?(active: boolean): void;
  /** Whether audio flows yet (a SIP leg answered without SDP waits for the far end's answer). */
  readonly audioStarted?: boolean;
}

/** What a far end may report to the engine, each call keyed by the leg's call_control_id. */
export interface FarEndSignals {
  remoteRinging(callControlId: string): void;
  remoteAnswered(callControlId: string): void;
  remoteHangup(callControlId: string): HangupInfo | null;
  remoteRefused(callControlId: string, sipStatus: number): HangupInfo | null;
  remoteDtmf(callControlId: string, digit: string): void;
}

/** Finds the far end for an outbound dial; null when nothing answers to that address. */
export interface OutboundRouter {
  route(to: string, from: string, callControlId: string): RemoteParty | null;
}

/** Asks each router in turn; the first that knows the address takes the call. */
export function firstRouter(...routers: readonly OutboundRouter[]): OutboundRouter {
  return {
    route(to, from, callControlId) {
      for (const router of routers) {
        const remote = router.route(to, from, callControlId);
        if (remote) return remote;
      }
      return null;
    },
  };
}
