import { errors } from '../api/errors.js';
import type { CommandRepository } from '../store/command-repository.js';
import type { Clock } from '../util/clock.js';
import type { CallEngine } from './call-engine.js';
import type { LegRecord } from './leg-record.js';

/** What a call action needs from the leg before it may run. */
export type Precondition = 'any' | 'answered' | 'unanswered-incoming';

export interface ActionContext {
  leg: LegRecord;
  body: Record<string, unknown>;
}

export interface CallAction {
  precondition: Precondition;
  /** Returns the response `data`; throws ApiError to refuse. Must not change anything before it is sure to succeed. */
  run(ctx: ActionContext): Record<string, unknown>;
}

export interface RouterDeps {
  engine: CallEngine;
  commands: CommandRepository;
  clock: Clock;
}

/**
 * The command flow after validation: find the leg (90015 unknown, 90018 ended), check its state
 * (90034 not answered), acknowledge a repeated command_id without running it again, apply
 * client_state, then run the action.
 */
export class CommandRouter {
  constructor(private readonly deps: RouterDeps) {}

  execute(callControlId: string, action: CallAction, body: Record<string, unknown>): Record<string, unknown> {
    const { engine, commands, clock } = this.deps;
    const leg = engine.find(callControlId);
    if (!leg) throw errors.invalidCallControlId();

    const commandId = typeof body['command_id'] === 'string' ? body['command_id'] : undefined;
    if (commandId !== undefined) {
      // A retried command gets the answer the first one got, even if the call has ended since.
      const previous = commands.recent(callControlId, commandId, clock.now());
      if (previous !== undefined) return previous as Record<string, unknown>;
    }

    if (!engine.isLive(callControlId)) throw errors.callEnded();
    checkPrecondition(action.precondition, leg);

    const clientState = body['client_state'];
    const previousClientState = leg.clientState;
    if (typeof clientState === 'string') engine.setClientState(callControlId, clientState);
    let result: Record<string, unknown>;
    try {
      result = action.run({ leg, body });
    } catch (err) {
      // A refused command changes nothing, client_state included.
      if (typeof clientState === 'string' && engine.isLive(callControlId)) engine.setClientState(callControlId, previousClientState);
      throw err;
    }
    if (commandId !== undefined) commands.remember(callControlId, commandId, clock.now(), result);
    return result;
  }
}

function checkPrecondition(precondition: Precondition, leg: LegRecord): void {
  switch (precondition) {
    case 'any':
      return;
    case 'answered':
      if (leg.state !== 'answered') throw errors.callNotAnswered();
      return;
    case 'unanswered-incoming':
      if (leg.direction !== 'incoming') throw errors.answerOutgoing();
      if (leg.state === 'answered') throw errors.callAlreadyAnswered();
      return;
  }
}
