/**
 * Every failure of a language-model call carries a code, so that the conversation that made the
 * call can decide what to do (retry, say sorry, end with `status: invalid`) without reading
 * messages, and the API can turn configuration problems into a 422. Messages are for people.
 */
export type LlmErrorCode =
  /** No model server is configured, or the request names a key or endpoint this server cannot use. */
  | 'not_configured'
  /** A value in the request that selects the model is unusable (a base URL that is not http(s)). */
  | 'invalid_request'
  /** The server was unreachable or answered with an HTTP error (4xx, 5xx), or an error mid-stream. */
  | 'http_error'
  /** The server did not answer (or, streaming, went quiet) within the time allowed. */
  | 'timeout'
  /** The server answered something that is not a chat completion, or too much of it. */
  | 'bad_response';

export interface LlmErrorDetails {
  cause?: unknown;
  /** HTTP status of an `http_error` answer; absent when the server was unreachable. */
  status?: number;
  /** From a `Retry-After` header (429, 503), in milliseconds. */
  retryAfterMs?: number;
  /**
   * JSON pointer into the API request body of the field at fault (`/assistant/llm_api_key_ref`),
   * for `not_configured` and `invalid_request` errors caused by a request field.
   */
  pointer?: string;
}

export class LlmError extends Error {
  readonly code: LlmErrorCode;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly pointer: string | undefined;

  constructor(code: LlmErrorCode, message: string, details: LlmErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'LlmError';
    this.code = code;
    this.status = details.status;
    this.retryAfterMs = details.retryAfterMs;
    this.pointer = details.pointer;
  }

  /** Whether trying again later may succeed: timeouts, 408, 429 and 5xx, unreachable servers. */
  get retryable(): boolean {
    if (this.code === 'timeout') return true;
    if (this.code !== 'http_error') return false;
    const status = this.status;
    return status === undefined || status === 408 || status === 429 || status >= 500;
  }
}

export function isLlmError(error: unknown, code?: LlmErrorCode): error is LlmError {
  return error instanceof LlmError && (code === undefined || error.code === code);
}
