import { cancelTimer, ignore, startTimer } from './types.js';
import type { Effect, MachineConfig, Transition } from './types.js';

/**
 * INVITE server transaction, RFC 3261 §17.2.1 (Figure 7).
 *
 *   state       event              next        effects
 *   proceeding  start              proceeding  send 100 Trying
 *   proceeding  request again      proceeding  resend last provisional
 *   proceeding  TU 1xx             proceeding  send
 *   proceeding  TU 2xx             terminated  send (the TU retransmits 2xx itself, §13.3.1.4)
 *   proceeding  TU 300-699         completed   send; H=64*T1; G=T1 (unreliable only)
 *   completed   request again      completed   resend final response
 *   completed   timer G            completed   resend; G=min(2G, T2)
 *   completed   timer H            terminated  timeout (no ACK)
 *   completed   ACK                confirmed   cancel G, H; I=T4 (0 if reliable)
 *   confirmed   ACK / request      confirmed   absorb
 *   confirmed   timer I            terminated
 *   any         transport error    terminated  report (§17.2.4)
 */
export type InviteServerPhase = 'proceeding' | 'completed' | 'confirmed' | 'terminated';

export interface InviteServerState {
  phase: InviteServerPhase;
  intervalG: number;
}

export type InviteServerEvent =
  | { type: 'start' }
  | { type: 'request' }
  | { type: 'ack' }
  | { type: 'tu-response'; status: number }
  | { type: 'timer'; timer: 'G' | 'H' | 'I' }
  | { type: 'transport-error' };

export function inviteServerInitial(config: MachineConfig): InviteServerState {
  return { phase: 'proceeding', intervalG: config.timers.T1 };
}

export function inviteServerTransition(
  state: InviteServerState,
  event: InviteServerEvent,
  config: MachineConfig,
): Transition<InviteServerState> {
  const { phase } = state;
  switch (event.type) {
    case 'start':
      return phase === 'proceeding' ? { state, effects: [{ type: 'send-trying' }] } : ignore(state, 'already started');
    case 'request':
      if (phase === 'proceeding' || phase === 'completed') return { state, effects: [{ type: 'resend-response' }] };
      return ignore(state, `retransmission absorbed in ${phase}`);
    case 'ack':
      return onAck(state, config);
    case 'tu-response':
      return onTuResponse(state, event.status, config);
    case 'timer':
      return onTimer(state, event.timer, config);
    case 'transport-error':
      if (phase === 'terminated') return ignore(state, 'transport error after termination');
      return { state: { ...state, phase: 'terminated' }, effects: [{ type: 'transport-error' }, { type: 'terminate' }] };
  }
}

function onTuResponse(state: InviteServerState, status: number, config: MachineConfig): Transition<InviteServerState> {
  if (state.phase !== 'proceeding') return ignore(state, `TU response ${status} in ${state.phase}`);
  if (status < 200) return { state, effects: [{ type: 'send-response' }] };
  if (status < 300) return { state: { ...state, phase: 'terminated' }, effects: [{ type: 'send-response' }, { type: 'terminate' }] };
  const effects: Effect[] = [{ type: 'send-response' }, startTimer('H', 64 * config.timers.T1)];
  if (!config.reliable) effects.push(startTimer('G', state.intervalG));
  return { state: { ...state, phase: 'completed' }, effects };
}

function onAck(state: InviteServerState, config: MachineConfig): Transition<InviteServerState> {
  if (state.phase === 'confirmed') return ignore(state, 'ACK retransmission absorbed');
  if (state.phase !== 'completed') return ignore(state, `ACK in ${state.phase}`);
  const effects: Effect[] = [cancelTimer('G'), cancelTimer('H')];
  if (config.reliable) return { state: { ...state, phase: 'terminated' }, effects: [...effects, { type: 'terminate' }] };
  return { state: { ...state, phase: 'confirmed' }, effects: [...effects, startTimer('I', config.timers.T4)] };
}

function onTimer(state: InviteServerState, timer: 'G' | 'H' | 'I', config: MachineConfig): Transition<InviteServerState> {
  if (timer === 'G' && state.phase === 'completed') {
    const intervalG = Math.min(state.intervalG * 2, config.timers.T2);
    return { state: { ...state, intervalG }, effects: [{ type: 'resend-response' }, startTimer('G', intervalG)] };
  }
  if (timer === 'H' && state.phase === 'completed') {
    return { state: { ...state, phase: 'terminated' }, effects: [cancelTimer('G'), { type: 'timeout' }, { type: 'terminate' }] };
  }
  if (timer === 'I' && state.phase === 'confirmed') return { state: { ...state, phase: 'terminated' }, effects: [{ type: 'terminate' }] };
  return ignore(state, `timer ${timer} in ${state.phase}`);
}
