/**
 * Shared vocabulary of the four transaction state machines (RFC 3261 §17). Each machine is a
 * pure function `(state, event) -> { state, effects }`; a driver executes the effects (timers on
 * the injected Clock, sends through the transport) and feeds events back. Events a state does
 * not expect produce an `ignored` effect instead of an exception.
 */
export interface SipTimers {
  /** RTT estimate, default 500 ms (§17.1.1.1). */
  T1: number;
  /** Maximum retransmit interval for non-INVITE requests and INVITE responses, default 4 s. */
  T2: number;
  /** Maximum time a message stays in the network, default 5 s. */
  T4: number;
  /** Timer D on unreliable transports: "at least 32 seconds" (§17.1.1.2). */
  D: number;
}

export const DEFAULT_TIMERS: Readonly<SipTimers> = { T1: 500, T2: 4000, T4: 5000, D: 32000 };

export function resolveTimers(partial: Partial<SipTimers> = {}): SipTimers {
  return { ...DEFAULT_TIMERS, ...partial };
}

export type TimerName = 'A' | 'B' | 'D' | 'E' | 'F' | 'K' | 'G' | 'H' | 'I' | 'J';

export interface MachineConfig {
  reliable: boolean;
  timers: SipTimers;
}

export type Effect =
  /** Client: send the request (again). */
  | { type: 'send-request' }
  /** INVITE client: send the ACK for the non-2xx final response (again). */
  | { type: 'send-ack' }
  /** INVITE server: send 100 Trying. */
  | { type: 'send-trying' }
  /** Server: send the response the TU just passed down and remember it. */
  | { type: 'send-response' }
  /** Server: resend the last response. */
  | { type: 'resend-response' }
  | { type: 'start-timer'; timer: TimerName; ms: number }
  | { type: 'cancel-timer'; timer: TimerName }
  /** Client: hand the response to the TU. */
  | { type: 'deliver-response' }
  /** Client: no final response in time (408 semantics). INVITE server: no ACK in time. */
  | { type: 'timeout' }
  | { type: 'transport-error' }
  | { type: 'terminate' }
  | { type: 'ignored'; reason: string };

export interface Transition<S> {
  state: S;
  effects: Effect[];
}

export function ignore<S>(state: S, reason: string): Transition<S> {
  return { state, effects: [{ type: 'ignored', reason }] };
}

export const startTimer = (timer: TimerName, ms: number): Effect => ({ type: 'start-timer', timer, ms });
export const cancelTimer = (timer: TimerName): Effect => ({ type: 'cancel-timer', timer });
