import type { FastifyInstance } from 'fastify';
import type { CallEngine } from '../../calls/call-engine.js';
import type { CallAction, CommandRouter } from '../../calls/command-router.js';
import type { LegRecord } from '../../calls/leg-record.js';
import type { ApplicationRepository } from '../../store/application-repository.js';
import type { CommandRepository } from '../../store/command-repository.js';
import type { Clock } from '../../util/clock.js';
import { isoMicros } from '../../util/time.js';
import { errors, fieldError } from '../errors.js';
import type { RequestValidator } from '../validation.js';

export interface CallRoutesDeps {
  engine: CallEngine;
  router: CommandRouter;
  applications: ApplicationRepository;
  commands: CommandRepository;
  clock: Clock;
  validator: RequestValidator;
  /** Implemented actions by path name. Validated actions missing here answer "not implemented". */
  actions: Record<string, CallAction>;
  /** Sees every new outbound leg with its request (e.g. to record it from answer). */
  dialed?: (leg: LegRecord, body: Record<string, unknown>) => void;
}

/** Dial, call status, and every `/calls/{id}/actions/{name}` command. */
export function registerCallRoutes(app: FastifyInstance, deps: CallRoutesDeps): void {
  const { engine, router, applications, commands, clock, validator, actions } = deps;

  app.post('/v2/calls', async (request) => {
    const body = validator.validate('dial', request.body);
    const commandId = typeof body['command_id'] === 'string' ? body['command_id'] : undefined;
    if (commandId !== undefined) {
      const previous = commands.recent('', commandId, clock.now());
      if (previous !== undefined) return previous;
    }
    const connectionId = String(body['connection_id']);
    if (!applications.get(connectionId)) throw errors.invalidConnection();
    const to = dialDestination(body['to']);
    let linkTo: LegRecord | null = null;
    if (typeof body['link_to'] === 'string') {
      linkTo = engine.find(body['link_to']) ?? null;
      if (!linkTo) throw errors.validation([fieldError.invalid('/link_to', 'The link_to call_control_id does not identify a call.')]);
    }
    const leg = engine.dial({
      connectionId,
      to,
      from: String(body['from']),
      clientState: typeof body['client_state'] === 'string' ? body['client_state'] : null,
      timeoutSecs: typeof body['timeout_secs'] === 'number' ? body['timeout_secs'] : 30,
      timeLimitSecs: typeof body['time_limit_secs'] === 'number' ? body['time_limit_secs'] : 14_400,
      webhookUrl: typeof body['webhook_url'] === 'string' ? body['webhook_url'] : null,
      webhookFailoverUrl: null,
      linkTo,
    });
    deps.dialed?.(leg, body);
    const response = { data: { ...callView(leg, clock.now()), is_alive: false } };
    if (commandId !== undefined) commands.remember('', commandId, clock.now(), response);
    return response;
  });

  app.get<{ Params: { id: string } }>('/v2/calls/:id', async (request) => {
    const leg = engine.find(request.params.id);
    if (!leg) throw errors.invalidCallControlId();
    return { data: callView(leg, clock.now(), engine.isLive(leg.callControlId)) };
  });

  const handleAction = async (method: 'POST' | 'PUT', id: string, name: string, rawBody: unknown) => {
    if (!validator.hasAction(name, method)) throw errors.routeNotFound(method, `/v2/calls/${id}/actions/${name}`);
    const body = validator.validate(name, rawBody);
    const action = actions[name];
    if (!action) {
      // Say what is wrong with the call first; "not implemented" only when the call could take it.
      if (!engine.find(id)) throw errors.invalidCallControlId();
      if (!engine.isLive(id)) throw errors.callEnded();
      throw errors.notImplemented(name);
    }
    return { data: router.execute(id, action, body) };
  };

  app.post<{ Params: { id: string; action: string } }>('/v2/calls/:id/actions/:action', async (request) =>
    handleAction('POST', request.params.id, request.params.action, request.body ?? {}));
  app.put<{ Params: { id: string; action: string } }>('/v2/calls/:id/actions/:action', async (request) =>
    handleAction('PUT', request.params.id, request.params.action, request.body ?? {}));
}

/** Switchboard dials one destination per leg; a one-element list is accepted for SDK convenience. */
function dialDestination(to: unknown): string {
  if (Array.isArray(to)) {
    if (to.length !== 1) {
      throw errors.validation([fieldError.invalid('/to', 'Switchboard dials one destination per request; send a single string.')]);
    }
    return String(to[0]);
  }
  return String(to);
}

/** The Telnyx Call resource. */
export function callView(leg: LegRecord, nowMs: number, alive = leg.state !== 'ended'): Record<string, unknown> {
  const endMs = leg.endMs ?? nowMs;
  const view: Record<string, unknown> = {
    record_type: 'call',
    call_control_id: leg.callControlId,
    call_leg_id: leg.callLegId,
    call_session_id: leg.callSessionId,
    is_alive: alive,
    client_state: leg.clientState ?? '',
    start_time: isoMicros(leg.startMs),
    call_duration: Math.max(0, Math.floor((endMs - leg.startMs) / 1000)),
  };
  if (!alive && leg.endMs !== null) view['end_time'] = isoMicros(leg.endMs);
  return view;
}
