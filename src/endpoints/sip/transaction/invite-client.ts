import { cancelTimer, ignore, startTimer } from './types.js';
import type { Effect, MachineConfig, Transition } from './types.js';

/**
 * INVITE client transaction, RFC 3261 §17.1.1 (Figure 5).
 *
 *   state       event              next        effects
 *   calling     start              calling     send request; B=64*T1; A=T1 (unreliable only)
 *   calling     timer A            calling     resend request; A doubles (no cap for INVITE)
 *   calling     timer B            terminated  timeout (408 to the TU)
 *   calling     1xx                proceeding  cancel A, B; deliver
 *   proceeding  1xx                proceeding  deliver
 *   calling/    2xx                terminated  deliver (the TU acks 2xx itself, §13.2.2.4)
 *    proceeding
 *   calling/    300-699            completed   cancel A, B; send ACK; deliver; D=32s (0 if reliable)
 *    proceeding
 *   completed   300-699            completed   resend ACK (absorb the retransmission)
 *   completed   timer D            terminated
 *   calling/    transport error    terminated  report (§17.1.4)
 *    proceeding
 */
export type InviteClientPhase = 'calling' | 'proceeding' | 'completed' | 'terminated';

export interface InviteClientState {
  phase: InviteClientPhase;
  intervalA: number;
}

export type InviteClientEvent =
  | { type: 'start' }
  | { type: 'timer'; timer: 'A' | 'B' | 'D' }
  | { type: 'response'; status: number }
  | { type: 'transport-error' };

export function inviteClientInitial(config: MachineConfig): InviteClientState {
  return { phase: 'calling', intervalA: config.timers.T1 };
}

export function inviteClientTransition(
  state: InviteClientState,
  event: InviteClientEvent,
  config: MachineConfig,
): Transition<InviteClientState> {
  const { phase } = state;
  const T1 = config.timers.T1;
  switch (event.type) {
    case 'start': {
      if (phase !== 'calling') return ignore(state, 'already started');
      const effects: Effect[] = [{ type: 'send-request' }, startTimer('B', 64 * T1)];
      if (!config.reliable) effects.push(startTimer('A', state.intervalA));
      return { state, effects };
    }
    case 'timer':
      return onTimer(state, event.timer);
    case 'response':
      return onResponse(state, event.status, config);
    case 'transport-error':
      if (phase === 'calling' || phase === 'proceeding') {
        return { state: { ...state, phase: 'terminated' }, effects: [{ type: 'transport-error' }, { type: 'terminate' }] };
      }
      return ignore(state, `transport error in ${phase}`);
  }
}

function onTimer(state: InviteClientState, timer: 'A' | 'B' | 'D'): Transition<InviteClientState> {
  if (timer === 'A' && state.phase === 'calling') {
    const intervalA = state.intervalA * 2;
    return { state: { ...state, intervalA }, effects: [{ type: 'send-request' }, startTimer('A', intervalA)] };
  }
  if (timer === 'B' && state.phase === 'calling') {
    return { state: { ...state, phase: 'terminated' }, effects: [{ type: 'timeout' }, { type: 'terminate' }] };
  }
  if (timer === 'D' && state.phase === 'completed') {
    return { state: { ...state, phase: 'terminated' }, effects: [{ type: 'terminate' }] };
  }
  return ignore(state, `timer ${timer} in ${state.phase}`);
}

function onResponse(state: InviteClientState, status: number, config: MachineConfig): Transition<InviteClientState> {
  const { phase } = state;
  const open = phase === 'calling' || phase === 'proceeding';
  if (status < 200) {
    if (!open) return ignore(state, `${status} in ${phase}`);
    const effects: Effect[] = phase === 'calling' ? [cancelTimer('A'), cancelTimer('B')] : [];
    return { state: { ...state, phase: 'proceeding' }, effects: [...effects, { type: 'deliver-response' }] };
  }
  if (status < 300) {
    if (!open) return ignore(state, `${status} in ${phase}`);
    return { state: { ...state, phase: 'terminated' }, effects: [{ type: 'deliver-response' }, { type: 'terminate' }] };
  }
  if (phase === 'completed') return { state, effects: [{ type: 'send-ack' }] };
  if (!open) return ignore(state, `${status} in ${phase}`);
  const effects: Effect[] = [cancelTimer('A'), cancelTimer('B'), { type: 'send-ack' }, { type: 'deliver-response' }];
  if (config.reliable) return { state: { ...state, phase: 'terminated' }, effects: [...effects, { type: 'terminate' }] };
  return { state: { ...state, phase: 'completed' }, effects: [...effects, startTimer('D', config.timers.D)] };
}
