import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { ApiError, errors } from './errors.js';
import { RateLimiter } from './rate-limiter.js';

export interface AppOptions {
  /** The accepted API keys, consulted on every request so keys can change at run time. */
  isValidApiKey(key: string): boolean;
  /** Requests per API key; refused ones get 429 with retry-after. Absent: no limit. */
  rateLimit?: { requestsPerSecond: number; burst: number } | null;
  logger?: boolean;
  bodyLimitBytes?: number;
}

/** Paths that need no API key. */
const PUBLIC_PATHS = new Set(['/health']);

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route needs no API key because it checks a credential of its own (e.g. a signed URL). */
    public?: boolean;
  }
}

/**
 * The HTTP shell shared by every route: JSON parsing the way the Telnyx SDK sends it, Bearer auth,
 * and every failure rendered as a Telnyx error envelope.
 */
export function createHttpApp(opts: AppOptions): FastifyInstance {
  const app = Fastify({ logger: opts.logger ?? false, bodyLimit: opts.bodyLimitBytes ?? 10 * 1024 * 1024, return503OnClosing: true });

  // The SDK sends `content-type: application/json` with an empty body when an action has no params.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, text, done) => {
    const raw = typeof text === 'string' ? text : text.toString('utf8');
    if (raw.trim() === '') return done(null, {});
    try {
      done(null, JSON.parse(raw));
    } catch (err) {
      done(errors.malformedJson(`The request body is not valid JSON: ${(err as Error).message}`), undefined);
    }
  });

  const limiter = opts.rateLimit ? new RateLimiter(opts.rateLimit) : null;
  app.addHook('onRequest', async (request) => {
    if (PUBLIC_PATHS.has(request.url) || request.routeOptions.config?.public === true) return;
    const header = request.headers.authorization;
    const key = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    if (!key || !opts.isValidApiKey(key)) throw errors.authentication();
    const waitMs = limiter?.take(key) ?? 0;
    if (waitMs > 0) throw errors.tooManyRequests(waitMs);
  });

  app.setErrorHandler((error: FastifyError | ApiError, request: FastifyRequest, reply: FastifyReply) => {
    const apiError = toApiError(error);
    if (apiError.status >= 500) request.log.error({ err: error }, 'request failed');
    void reply.status(apiError.status).headers(apiError.headers).type('application/json').send(apiError.body());
  });

  app.setNotFoundHandler((request, reply) => {
    const e = errors.routeNotFound(request.method, request.url.split('?')[0] ?? request.url);
    void reply.status(e.status).type('application/json').send(e.body());
  });

  app.get('/health', async () => ({ status: 'ok' }));
  return app;
}

function toApiError(error: FastifyError | ApiError): ApiError {
  if (error instanceof ApiError) return error;
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return errors.unsupportedMediaType(String(error.message.split("'")[1] ?? 'unknown'));
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return errors.malformedJson('The request body is empty.');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError(413, [{ code: '10015', title: 'Bad Request', detail: 'The request body is too large.' }]);
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ApiError(400, [{ code: '10015', title: 'Bad Request', detail: 'The Content-Length header does not match the body.' }]);
    default:
      if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
        return new ApiError(error.statusCode, [{ code: '10015', title: 'Bad Request', detail: error.message }]);
      }
      return errors.internal();
  }
}
