import type { FastifyInstance } from 'fastify';
import { errors, fieldError, type ErrorItem } from '../errors.js';
import {
  deliveryStatuses,
  type AttemptRecord,
  type DeliveryFilter,
  type DeliveryRecord,
  type DeliveryStatus,
  type OutboxRepository,
} from '../../store/outbox-repository.js';
import { isoMicros } from '../../util/time.js';

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;
const QUERY_PARAMS = ['call_control_id', 'event_type', 'status', 'limit'] as const;

export interface WebhookAttemptView {
  attempt: number;
  url: string;
  status_code: number | null;
  error: string | null;
  started_at: string;
  duration_ms: number;
  succeeded: boolean;
}

export interface WebhookDeliveryView {
  id: string;
  event_type: string;
  call_control_id: string | null;
  seq: number;
  status: DeliveryStatus;
  url: string | null;
  failover_url: string | null;
  created_at: string;
  delivered_at: string | null;
  /** When a pending event is next tried; null once it is finished. */
  next_attempt_at: string | null;
  attempts: WebhookAttemptView[];
}

type Query = Record<string, string | string[] | undefined>;

/**
 * Switchboard's own debugging view of the webhook outbox (not a Telnyx endpoint): what was sent
 * for a call, where, how often, and how each attempt ended.
 */
export function registerWebhookDeliveryRoutes(app: FastifyInstance, deps: { outbox: OutboxRepository }): void {
  app.get<{ Querystring: Query }>('/switchboard/v1/webhook_deliveries', async (request) => {
    const { callControlId, limit, filter } = parseQuery(request.query ?? {});
    const records = callControlId !== undefined
      ? deps.outbox.listForCall(callControlId, filter)
      : deps.outbox.listRecent(limit, filter);
    return { data: records.map(toView) };
  });
}

function parseQuery(query: Query): { callControlId: string | undefined; limit: number; filter: DeliveryFilter } {
  const problems: ErrorItem[] = [];
  const single = (name: (typeof QUERY_PARAMS)[number]): string | undefined => {
    const value = query[name];
    if (Array.isArray(value)) {
      problems.push(asParameter(fieldError.invalid(`/${name}`, `Give '${name}' at most once.`), name));
      return undefined;
    }
    return value === '' ? undefined : value;
  };

  for (const name of Object.keys(query)) {
    if (!(QUERY_PARAMS as readonly string[]).includes(name)) {
      problems.push(asParameter(fieldError.unknownField(`/${name}`, name), name));
    }
  }

  const callControlId = single('call_control_id');
  const eventType = single('event_type');
  const statusText = single('status');
  const limitText = single('limit');

  const filter: DeliveryFilter = {};
  if (eventType !== undefined) filter.eventType = eventType;
  if (statusText !== undefined) {
    const status = deliveryStatuses.find((s) => s === statusText);
    if (status) filter.status = status;
    else problems.push(asParameter(fieldError.enumValue('/status', deliveryStatuses), 'status'));
  }

  let limit = DEFAULT_LIMIT;
  if (limitText !== undefined) {
    const n = Number(limitText);
    if (/^\d+$/.test(limitText) && n >= 1 && n <= MAX_LIMIT) limit = n;
    else problems.push(asParameter(fieldError.range('/limit', `limit must be an integer from 1 to ${MAX_LIMIT}.`), 'limit'));
  }

  if (problems.length > 0) throw errors.validation(problems);
  return { callControlId, limit, filter };
}

// Query problems are reported by parameter name, as Telnyx does, rather than by body pointer.
function asParameter(item: ErrorItem, parameter: string): ErrorItem {
  return { ...item, source: { parameter } };
}

function toView(r: DeliveryRecord): WebhookDeliveryView {
  return {
    id: r.id,
    event_type: r.eventType,
    call_control_id: r.callControlId,
    seq: r.seq,
    status: r.status,
    url: r.url,
    failover_url: r.failoverUrl,
    created_at: isoMicros(r.createdMs),
    delivered_at: r.status === 'delivered' && r.finishedMs !== null ? isoMicros(r.finishedMs) : null,
    next_attempt_at: r.status === 'pending' ? isoMicros(r.nextAttemptMs) : null,
    attempts: r.attempts.map(attemptView),
  };
}

function attemptView(a: AttemptRecord): WebhookAttemptView {
  return {
    attempt: a.attempt,
    url: a.url,
    status_code: a.statusCode,
    error: a.error,
    started_at: isoMicros(a.startedMs),
    duration_ms: a.durationMs,
    succeeded: a.succeeded,
  };
}
