import { ignore, startTimer } from './types.js';
import type { MachineConfig, Transition } from './types.js';

/**
 * Non-INVITE server transaction, RFC 3261 §17.2.2 (Figure 8).
 *
 *   state       event              next        effects
 *   trying      request again      trying      discard
 *   trying/     TU 1xx             proceeding  send
 *    proceeding
 *   trying/     TU 200-699         completed   send; J=64*T1 (0 if reliable)
 *    proceeding
 *   proceeding  request again      proceeding  resend last provisional
 *   completed   request again      completed   resend final response
 *   completed   TU response        completed   ignored
 *   completed   timer J            terminated
 *   any         transport error    terminated  report (§17.2.4)
 */
export type NonInviteServerPhase = 'trying' | 'proceeding' | 'completed' | 'terminated';

export interface NonInviteServerState {
  phase: NonInviteServerPhase;
}

export type NonInviteServerEvent =
  | { type: 'request' }
  | { type: 'tu-response'; status: number }
  | { type: 'timer'; timer: 'J' }
  | { type: 'transport-error' };

export function nonInviteServerInitial(): NonInviteServerState {
  return { phase: 'trying' };
}

export function nonInviteServerTransition(
  state: NonInviteServerState,
  event: NonInviteServerEvent,
  config: MachineConfig,
): Transition<NonInviteServerState> {
  const { phase } = state;
  switch (event.type) {
    case 'request':
      if (phase === 'proceeding' || phase === 'completed') return { state, effects: [{ type: 'resend-response' }] };
      return ignore(state, `retransmission discarded in ${phase}`);
    case 'tu-response':
      if (phase !== 'trying' && phase !== 'proceeding') return ignore(state, `TU response ${event.status} in ${phase}`);
      if (event.status < 200) return { state: { phase: 'proceeding' }, effects: [{ type: 'send-response' }] };
      if (config.reliable) return { state: { phase: 'terminated' }, effects: [{ type: 'send-response' }, { type: 'terminate' }] };
      return { state: { phase: 'completed' }, effects: [{ type: 'send-response' }, startTimer('J', 64 * config.timers.T1)] };
    case 'timer':
      if (phase === 'completed') return { state: { phase: 'terminated' }, effects: [{ type: 'terminate' }] };
      return ignore(state, `timer J in ${phase}`);
    case 'transport-error':
      if (phase === 'terminated') return ignore(state, 'transport error after termination');
      return { state: { phase: 'terminated' }, effects: [{ type: 'transport-error' }, { type: 'terminate' }] };
  }
}
