import { cancelTimer, ignore, startTimer } from './types.js';
import type { Effect, MachineConfig, Transition } from './types.js';

/**
 * Non-INVITE client transaction, RFC 3261 §17.1.2 (Figure 6).
 *
 *   state       event              next        effects
 *   trying      start              trying      send request; F=64*T1; E=T1 (unreliable only)
 *   trying      timer E            trying      resend; E=min(2E, T2)
 *   proceeding  timer E            proceeding  resend; E=T2
 *   trying/     timer F            terminated  timeout (408 to the TU)
 *    proceeding
 *   trying/     1xx                proceeding  deliver
 *    proceeding
 *   trying/     200-699            completed   cancel E, F; deliver; K=T4 (0 if reliable)
 *    proceeding
 *   completed   any response       completed   absorb
 *   completed   timer K            terminated
 *   trying/     transport error    terminated  report (§17.1.4)
 *    proceeding
 */
export type NonInviteClientPhase = 'trying' | 'proceeding' | 'completed' | 'terminated';

export interface NonInviteClientState {
  phase: NonInviteClientPhase;
  intervalE: number;
}

export type NonInviteClientEvent =
  | { type: 'start' }
  | { type: 'timer'; timer: 'E' | 'F' | 'K' }
  | { type: 'response'; status: number }
  | { type: 'transport-error' };

export function nonInviteClientInitial(config: MachineConfig): NonInviteClientState {
  return { phase: 'trying', intervalE: config.timers.T1 };
}

export function nonInviteClientTransition(
  state: NonInviteClientState,
  event: NonInviteClientEvent,
  config: MachineConfig,
): Transition<NonInviteClientState> {
  const open = state.phase === 'trying' || state.phase === 'proceeding';
  switch (event.type) {
    case 'start': {
      if (state.phase !== 'trying') return ignore(state, 'already started');
      const effects: Effect[] = [{ type: 'send-request' }, startTimer('F', 64 * config.timers.T1)];
      if (!config.reliable) effects.push(startTimer('E', state.intervalE));
      return { state, effects };
    }
    case 'timer':
      return onTimer(state, event.timer, config);
    case 'response':
      if (state.phase === 'completed') return ignore(state, 'retransmitted response absorbed');
      if (!open) return ignore(state, `response in ${state.phase}`);
      if (event.status < 200) return { state: { ...state, phase: 'proceeding' }, effects: [{ type: 'deliver-response' }] };
      return complete(state, config);
    case 'transport-error':
      if (!open) return ignore(state, `transport error in ${state.phase}`);
      return { state: { ...state, phase: 'terminated' }, effects: [{ type: 'transport-error' }, { type: 'terminate' }] };
  }
}

function onTimer(state: NonInviteClientState, timer: 'E' | 'F' | 'K', config: MachineConfig): Transition<NonInviteClientState> {
  const { phase } = state;
  if (timer === 'E' && (phase === 'trying' || phase === 'proceeding')) {
    const intervalE = phase === 'trying' ? Math.min(state.intervalE * 2, config.timers.T2) : config.timers.T2;
    return { state: { ...state, intervalE }, effects: [{ type: 'send-request' }, startTimer('E', intervalE)] };
  }
  if (timer === 'F' && (phase === 'trying' || phase === 'proceeding')) {
    return { state: { ...state, phase: 'terminated' }, effects: [cancelTimer('E'), { type: 'timeout' }, { type: 'terminate' }] };
  }
  if (timer === 'K' && phase === 'completed') return { state: { ...state, phase: 'terminated' }, effects: [{ type: 'terminate' }] };
  return ignore(state, `timer ${timer} in ${phase}`);
}

function complete(state: NonInviteClientState, config: MachineConfig): Transition<NonInviteClientState> {
  const effects: Effect[] = [cancelTimer('E'), cancelTimer('F'), { type: 'deliver-response' }];
  if (config.reliable) return { state: { ...state, phase: 'terminated' }, effects: [...effects, { type: 'terminate' }] };
  return { state: { ...state, phase: 'completed' }, effects: [...effects, startTimer('K', config.timers.T4)] };
}
