/**
 * Downloads an audio file for playback, bounded in time and size.
 *
 * Playback URLs come from API callers, so a server that never answers, trickles, or returns a
 * gigabyte must cost us at most `timeoutMs` and `maxBytes`; the body is read incrementally and the
 * connection torn down as soon as either limit is crossed. Failures carry a `kind` for code and a
 * `detail` sentence fit for a call.playback.ended status_detail.
 */

export type AudioFetchErrorKind = 'not_found' | 'http_error' | 'timeout' | 'too_large' | 'network' | 'bad_url';

export class AudioFetchError extends Error {
  readonly kind: AudioFetchErrorKind;
  /** The HTTP status, when the server answered. */
  readonly status: number | undefined;
  readonly detail: string;

  constructor(kind: AudioFetchErrorKind, detail: string, options?: { status?: number; cause?: unknown }) {
    super(detail, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AudioFetchError';
    this.kind = kind;
    this.status = options?.status;
    this.detail = detail;
  }
}

export interface ConditionalValidators {
  etag?: string;
  lastModified?: string;
}

export interface FetchAudioOptions {
  /** For the whole exchange: connecting, headers and body. */
  timeoutMs: number;
  maxBytes: number;
  fetch?: typeof fetch;
  /** Makes the request conditional; a 304 then yields `{ kind: 'not_modified' }`. */
  validators?: ConditionalValidators;
}

export type FetchAudioResult =
  | { kind: 'fetched'; bytes: Uint8Array; etag?: string; lastModified?: string; contentType?: string }
  | { kind: 'not_modified' };

const ACCEPT = 'audio/wav, audio/x-wav, audio/mpeg, audio/*;q=0.9, */*;q=0.5';

// Node's fetch hides the socket error under `cause`; these read better in a status detail.
const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EPIPE: 'connection closed',
  UND_ERR_SOCKET: 'connection closed',
  CERT_HAS_EXPIRED: 'TLS certificate expired',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'TLS certificate is self-signed',
  ERR_TLS_CERT_ALTNAME_INVALID: 'TLS certificate does not match host',
};

export async function fetchAudio(url: string, options: FetchAudioOptions): Promise<FetchAudioResult> {
  const target = parseHttpUrl(url);
  const shown = displayUrl(target);
  const fetchImpl = options.fetch ?? globalThis.fetch;

  const headers: Record<string, string> = { accept: ACCEPT };
  // fetch refuses URLs with credentials in them; honour them the way browsers and curl do.
  if (target.username !== '' || target.password !== '') {
    const user = percentDecode(target.username);
    const password = percentDecode(target.password);
    headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    target.username = '';
    target.password = '';
  }
  if (options.validators?.etag !== undefined) headers['if-none-match'] = options.validators.etag;
  if (options.validators?.lastModified !== undefined) headers['if-modified-since'] = options.validators.lastModified;

  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error('timeout'));
  }, options.timeoutMs);

  // Anything that escapes after the timer fired is the timer's doing, whatever shape it takes.
  const failure = (err: unknown): AudioFetchError => {
    if (err instanceof AudioFetchError) return err;
    if (timedOut) return new AudioFetchError('timeout', `timed out after ${options.timeoutMs} ms fetching ${shown}`);
    return new AudioFetchError('network', `${networkReason(err)} fetching ${shown}`, { cause: err });
  };

  try {
    let response: Response;
    try {
      response = await fetchImpl(target, { headers, signal: controller.signal, redirect: 'follow' });
    } catch (err) {
      throw failure(err);
    }

    if (response.status === 304 && options.validators !== undefined) {
      await discard(response);
      return { kind: 'not_modified' };
    }
    if (!response.ok) {
      await discard(response);
      const kind = response.status === 404 || response.status === 410 ? 'not_found' : 'http_error';
      throw new AudioFetchError(kind, `HTTP ${response.status} fetching ${shown}`, { status: response.status });
    }

    const declared = Number(response.headers.get('content-length') ?? NaN);
    if (declared > options.maxBytes) {
      controller.abort(new Error('too large'));
      throw tooLarge(options.maxBytes, shown, response.status);
    }

    let bytes: Uint8Array;
    try {
      bytes = await readBounded(response, options.maxBytes, () => controller.abort(new Error('too large')));
    } catch (err) {
      if (err === TOO_LARGE) throw tooLarge(options.maxBytes, shown, response.status);
      throw failure(err);
    }

    const result: FetchAudioResult = { kind: 'fetched', bytes };
    const etag = response.headers.get('etag');
    const lastModified = response.headers.get('last-modified');
    const contentType = response.headers.get('content-type');
    if (etag !== null) result.etag = etag;
    if (lastModified !== null) result.lastModified = lastModified;
    if (contentType !== null) result.contentType = contentType;
    return result;
  } finally {
    clearTimeout(timer);
  }
}

const TOO_LARGE = Symbol('too large');

function tooLarge(maxBytes: number, shown: string, status: number): AudioFetchError {
  return new AudioFetchError('too_large', `response exceeds ${maxBytes} bytes fetching ${shown}`, { status });
}

async function readBounded(response: Response, maxBytes: number, abort: () => void): Promise<Uint8Array> {
  if (response.body === null) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      // Aborting the request closes the socket; merely stopping reading would leave the server
      // streaming into our buffers.
      abort();
      reader.cancel().catch(() => {});
      throw TOO_LARGE;
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

async function discard(response: Response): Promise<void> {
  try {
    await response.body?.cancel();
  } catch {
    // The connection is being dropped either way.
  }
}

function parseHttpUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AudioFetchError('bad_url', `invalid URL ${JSON.stringify(truncate(url))}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new AudioFetchError('bad_url', `unsupported URL scheme ${JSON.stringify(parsed.protocol)} (only http and https)`);
  }
  return parsed;
}

/** The URL as it may appear in logs and webhooks: credentials removed, length capped. */
function displayUrl(url: URL): string {
  if (url.username === '' && url.password === '') return truncate(url.href);
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  return truncate(copy.href);
}

function percentDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text; // a stray '%' is taken literally, as curl does
  }
}

function truncate(text: string): string {
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}

function networkReason(err: unknown): string {
  let cause: unknown = err;
  for (let depth = 0; depth < 4 && cause !== null && typeof cause === 'object'; depth++) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string') return NETWORK_CODES[code] ?? `network error (${code})`;
    cause = (cause as { cause?: unknown }).cause;
  }
  return 'network error';
}
