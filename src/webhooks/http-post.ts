import http from 'node:http';
import https from 'node:https';

/** What a webhook POST came back with: its status, and where a redirect would have led. */
export interface PostResponse {
  statusCode: number;
  location: string | null;
}

/** Sends one webhook: resolves with the response once it has been read, rejects on failure. */
export type WebhookPost = (url: string, body: string, headers: Record<string, string>, timeoutMs: number) => Promise<PostResponse>;

export class PostTimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

// Events mostly go to a handful of application URLs, so connections are kept open between them.
const agents = {
  'http:': new http.Agent({ keepAlive: true }),
  'https:': new https.Agent({ keepAlive: true }),
};

/**
 * A webhook POST over node:http(s). Redirects are never followed; the response body is read and
 * discarded so the connection can be reused; `timeoutMs` bounds the whole exchange. About a
 * third of the CPU of the same request through fetch, which matters while calls arrive in
 * bursts: every call sends several webhooks from the thread that also runs its media.
 */
export const postWebhook: WebhookPost = (url, body, headers, timeoutMs) =>
  new Promise((resolve, reject) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch (error) {
      reject(error);
      return;
    }
    const protocol = target.protocol;
    if (protocol !== 'http:' && protocol !== 'https:') {
      reject(new Error(`unsupported URL scheme ${protocol}`));
      return;
    }
    const client = protocol === 'https:' ? https : http;
    const fail = (error: Error): void => {
      clearTimeout(timer);
      reject(error);
    };
    const request = client.request(
      target,
      { method: 'POST', agent: agents[protocol], headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } },
      (response) => {
        response.resume();
        response.on('error', fail);
        response.on('end', () => {
          clearTimeout(timer);
          const location = response.headers.location;
          resolve({ statusCode: response.statusCode ?? 0, location: typeof location === 'string' ? location : null });
        });
      },
    );
    const timer = setTimeout(() => request.destroy(new PostTimeoutError(`timed out after ${timeoutMs} ms`)), timeoutMs);
    request.on('error', fail);
    request.end(body);
  });
