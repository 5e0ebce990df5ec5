import type { FastifyInstance } from 'fastify';
import type { ApplicationRepository } from '../../store/application-repository.js';
import type { Clock } from '../../util/clock.js';
import { ApiError, errors } from '../errors.js';
import type { RequestValidator } from '../validation.js';

type Query = Record<string, string | undefined>;

const SORTS = ['created_at', '-created_at', 'connection_name', '-connection_name', 'active', '-active'] as const;

/** `/v2/call_control_applications`: the applications that receive call webhooks. */
export function registerApplicationRoutes(app: FastifyInstance, deps: { applications: ApplicationRepository; clock: Clock; validator: RequestValidator }): void {
  const { applications, clock, validator } = deps;

  app.post('/v2/call_control_applications', async (request) => {
    const body = validator.validate('application_create', request.body);
    return { data: applications.create(body, new Date(clock.now())) };
  });

  app.get<{ Querystring: Query }>('/v2/call_control_applications', async (request) => {
    const q = request.query;
    const number = positiveInt(q['page[number]'], 1, 'page[number]');
    const size = positiveInt(q['page[size]'] ?? q['page[limit]'], 20, 'page[size]');
    if (size > 250) throw pageError('page[size]', 'The page size must be between 1 and 250.');
    // Telnyx: without a sort parameter the newest come first; a named field sorts ascending unless prefixed with '-'.
    const sort = (q['sort'] ?? '-created_at') as (typeof SORTS)[number];
    if (!SORTS.includes(sort)) throw pageError('sort', `The sort must be one of: ${SORTS.join(', ')}.`);
    const result = applications.list({
      nameContains: q['filter[application_name][contains]'],
      sort,
      page: number,
      size,
    });
    return {
      data: result.data,
      meta: { page_number: number, page_size: size, total_pages: Math.max(1, Math.ceil(result.total / size)), total_results: result.total },
    };
  });

  app.get<{ Params: { id: string } }>('/v2/call_control_applications/:id', async (request) => {
    const found = applications.get(request.params.id);
    if (!found) throw notFound();
    return { data: found };
  });

  app.patch<{ Params: { id: string } }>('/v2/call_control_applications/:id', async (request) => {
    const body = validator.validate('application_update', request.body);
    if (!applications.get(request.params.id)) throw notFound();
    return { data: applications.update(request.params.id, body, new Date(clock.now())) };
  });

  app.delete<{ Params: { id: string } }>('/v2/call_control_applications/:id', async (request) => {
    const deleted = applications.delete(request.params.id);
    if (!deleted) throw notFound();
    return { data: deleted };
  });
}

function notFound(): ApiError {
  return errors.notFound('Resource not found', 'No call control application has this id.', '/id');
}

function pageError(parameter: string, detail: string): ApiError {
  return new ApiError(422, [{ code: '10015', title: 'Invalid query parameter', detail, source: { parameter } }]);
}

function positiveInt(text: string | undefined, fallback: number, name: string): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw pageError(name, `${name} must be a positive integer.`);
  return value;
}
