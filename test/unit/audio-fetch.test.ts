import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { AudioLibrary } from '../../src/media/audio/audio-cache.js';
import { AudioDecodeError } from '../../src/media/audio/errors.js';
import { AudioFetchError, fetchAudio, type AudioFetchErrorKind } from '../../src/media/audio/fetch-audio.js';
import { encodeWav } from '../../src/media/audio/wav.js';

// --- a small, fully observable audio server --------------------------------------------------

interface Seen {
  path: string;
  headers: IncomingHttpHeaders;
}

const seen: Seen[] = [];
const timers = new Set<NodeJS.Timeout>();
let server: Server;
let base = '';
/** Whether the last /huge response was cut off by the client before it finished. */
let hugeOutcome: Promise<'aborted' | 'finished'> = Promise.resolve('finished');
let version = 'v1';
const LAST_MODIFIED = 'Wed, 01 Jan 2025 00:00:00 GMT';

function pcm(value: number, samples = 800): Int16Array {
  return new Int16Array(samples).fill(value);
}
const audioFor = (v: string): Uint8Array<ArrayBuffer> => encodeWav(pcm(v === 'v1' ? 1000 : 2000));

function later(ms: number, fn: () => void): void {
  const t = setTimeout(() => {
    timers.delete(t);
    fn();
  }, ms);
  timers.add(t);
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  seen.push({ path: url.pathname, headers: req.headers });
  switch (url.pathname) {
    case '/tone.wav': {
      const etag = `"${version}"`;
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, { etag }).end();
        return;
      }
      const body = audioFor(version);
      res.writeHead(200, { 'content-type': 'audio/wav', etag, 'content-length': body.length }).end(body);
      return;
    }
    case '/dated.wav': {
      if (req.headers['if-modified-since'] === LAST_MODIFIED) {
        res.writeHead(304).end();
        return;
      }
      res.writeHead(200, { 'last-modified': LAST_MODIFIED }).end(audioFor('v1'));
      return;
    }
    case '/plain.wav':
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(audioFor('v1'));
      return;
    case '/slow.wav':
      later(Number(url.searchParams.get('ms') ?? 2000), () => res.writeHead(200, { etag: '"s"' }).end(audioFor('v1')));
      return;
    case '/trickle.wav': {
      res.writeHead(200, { 'content-type': 'audio/wav' });
      res.write(audioFor('v1').subarray(0, 100));
      later(2000, () => res.end());
      return;
    }
    case '/huge.wav': {
      let sent = 0;
      const chunk = new Uint8Array(64 * 1024);
      hugeOutcome = new Promise((resolve) => {
        res.on('close', () => resolve(res.writableFinished ? 'finished' : 'aborted'));
      });
      res.writeHead(200, { 'content-type': 'audio/wav' });
      const pump = (): void => {
        while (sent < 50 * 1024 * 1024) {
          sent += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
      return;
    }
    case '/declared-huge.wav':
      res.writeHead(200, { 'content-length': 10 * 1024 * 1024 });
      res.write(new Uint8Array(1024));
      later(2000, () => res.destroy());
      return;
    case '/missing.wav':
      res.writeHead(404).end('nope');
      return;
    case '/gone.wav':
      res.writeHead(410).end();
      return;
    case '/broken.wav':
      res.writeHead(500).end('oops');
      return;
    case '/redirect.wav':
      res.writeHead(302, { location: '/tone.wav' }).end();
      return;
    case '/page.html':
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html>hello</html>');
      return;
    default:
      res.writeHead(400).end();
  }
}

before(async () => {
  server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  for (const t of timers) clearTimeout(t);
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  seen.length = 0;
  version = 'v1';
});

async function expectFetchError(promise: Promise<unknown>, kind: AudioFetchErrorKind): Promise<AudioFetchError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof AudioFetchError, `expected AudioFetchError, got ${String(err)}`);
    assert.equal(err.kind, kind, err.detail);
    return err;
  }
  assert.fail(`expected AudioFetchError ${kind}`);
}

const limits = { timeoutMs: 1000, maxBytes: 1024 * 1024 };

// --- fetchAudio ------------------------------------------------------------------------------

describe('fetchAudio', () => {
  it('returns the body and its validators', async () => {
    const result = await fetchAudio(`${base}/tone.wav`, limits);
    assert.equal(result.kind, 'fetched');
    if (result.kind !== 'fetched') return;
    assert.deepEqual(result.bytes, audioFor('v1'));
    assert.equal(result.etag, '"v1"');
    assert.equal(result.contentType, 'audio/wav');
    assert.match(String(seen[0]?.headers.accept), /audio\/mpeg/);
  });

  it('makes the request conditional and reports 304', async () => {
    const result = await fetchAudio(`${base}/tone.wav`, { ...limits, validators: { etag: '"v1"', lastModified: LAST_MODIFIED } });
    assert.deepEqual(result, { kind: 'not_modified' });
    assert.equal(seen[0]?.headers['if-none-match'], '"v1"');
    assert.equal(seen[0]?.headers['if-modified-since'], LAST_MODIFIED);
  });

  it('follows redirects', async () => {
    const result = await fetchAudio(`${base}/redirect.wav`, limits);
    assert.equal(result.kind, 'fetched');
  });

  it('404 and 410 are not_found, with a status and a readable detail', async () => {
    const err = await expectFetchError(fetchAudio(`${base}/missing.wav`, limits), 'not_found');
    assert.equal(err.status, 404);
    assert.equal(err.detail, `HTTP 404 fetching ${base}/missing.wav`);
    assert.equal((await expectFetchError(fetchAudio(`${base}/gone.wav`, limits), 'not_found')).status, 410);
  });

  it('other failures are http_error', async () => {
    const err = await expectFetchError(fetchAudio(`${base}/broken.wav`, limits), 'http_error');
    assert.equal(err.status, 500);
    assert.match(err.detail, /^HTTP 500 fetching /);
  });

  it('a server that does not answer in time is a timeout', async () => {
    const started = Date.now();
    const err = await expectFetchError(fetchAudio(`${base}/slow.wav`, { ...limits, timeoutMs: 150 }), 'timeout');
    assert.ok(Date.now() - started < 1000);
    assert.match(err.detail, /timed out after 150 ms/);
  });

  it('a body that trickles past the deadline is a timeout too', async () => {
    const started = Date.now();
    await expectFetchError(fetchAudio(`${base}/trickle.wav`, { ...limits, timeoutMs: 200 }), 'timeout');
    assert.ok(Date.now() - started < 1000);
  });

  it('an oversized body is too_large and the connection is dropped early', async () => {
    const err = await expectFetchError(fetchAudio(`${base}/huge.wav`, { ...limits, maxBytes: 256 * 1024 }), 'too_large');
    assert.equal(err.status, 200);
    assert.match(err.detail, /exceeds 262144 bytes/);
    assert.equal(await hugeOutcome, 'aborted');
  });

  it('a declared Content-Length over the limit fails before reading', async () => {
    const started = Date.now();
    await expectFetchError(fetchAudio(`${base}/declared-huge.wav`, { ...limits, maxBytes: 1024 * 1024 }), 'too_large');
    assert.ok(Date.now() - started < 1000);
  });

  it('connection refused is a network error', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const err = await expectFetchError(fetchAudio(`http://127.0.0.1:${port}/x.wav`, limits), 'network');
    assert.equal(err.status, undefined);
    assert.match(err.detail, /^connection refused fetching http:\/\/127\.0\.0\.1:\d+\/x\.wav$/);
  });

  it('only http(s) URLs are fetched', async () => {
    for (const url of ['ftp://example.com/a.wav', 'file:///etc/passwd', 'not a url', '']) {
      await expectFetchError(fetchAudio(url, limits), 'bad_url');
    }
  });

  it('sends URL credentials as Basic auth and keeps them out of the detail', async () => {
    const err = await expectFetchError(fetchAudio(`http://us%40er:s%3Acret@127.0.0.1:${new URL(base).port}/missing.wav`, limits), 'not_found');
    assert.ok(!err.detail.includes('cret'), err.detail);
    assert.equal(seen[0]?.headers.authorization, `Basic ${Buffer.from('us@er:s:cret').toString('base64')}`);
  });

  it('uses an injected fetch', async () => {
    let calls = 0;
    const fake: typeof fetch = async () => {
      calls++;
      return new Response(audioFor('v1'), { status: 200, headers: { etag: '"fake"' } });
    };
    const result = await fetchAudio('https://example.invalid/a.wav', { ...limits, fetch: fake });
    assert.equal(calls, 1);
    assert.equal(result.kind === 'fetched' && result.etag, '"fake"');
  });
});

// --- AudioLibrary ----------------------------------------------------------------------------

describe('AudioLibrary', () => {
  const requests = (path: string): Seen[] => seen.filter((s) => s.path === path);

  it('caches, then revalidates with If-None-Match and serves the 304 from memory', async () => {
    const library = new AudioLibrary(limits);
    const first = await library.load(`${base}/tone.wav`, { cache: true });
    assert.equal(first[0], 1000);
    const second = await library.load(`${base}/tone.wav`, { cache: true });
    assert.equal(second, first, 'the cached samples themselves');
    const hits = requests('/tone.wav');
    assert.equal(hits.length, 2);
    assert.equal(hits[0]?.headers['if-none-match'], undefined);
    assert.equal(hits[1]?.headers['if-none-match'], '"v1"');
    assert.equal(library.stats.entries, 1);
  });

  it('replaces the cached audio when the ETag changes', async () => {
    const library = new AudioLibrary(limits);
    assert.equal((await library.load(`${base}/tone.wav`, { cache: true }))[0], 1000);
    version = 'v2';
    assert.equal((await library.load(`${base}/tone.wav`, { cache: true }))[0], 2000);
    const again = await library.load(`${base}/tone.wav`, { cache: true });
    assert.equal(again[0], 2000);
    assert.equal(requests('/tone.wav')[2]?.headers['if-none-match'], '"v2"');
  });

  it('revalidates with If-Modified-Since when there is only a Last-Modified', async () => {
    const library = new AudioLibrary(limits);
    const first = await library.load(`${base}/dated.wav`, { cache: true });
    assert.equal(await library.load(`${base}/dated.wav`, { cache: true }), first);
    assert.equal(requests('/dated.wav')[1]?.headers['if-modified-since'], LAST_MODIFIED);
  });

  it('refetches in full when the server gave no validators', async () => {
    const library = new AudioLibrary(limits);
    await library.load(`${base}/plain.wav`, { cache: true });
    await library.load(`${base}/plain.wav`, { cache: true });
    const hits = requests('/plain.wav');
    assert.equal(hits.length, 2);
    assert.equal(hits[1]?.headers['if-none-match'], undefined);
    assert.equal(hits[1]?.headers['if-modified-since'], undefined);
  });

  it('cache: false always fetches unconditionally and stores nothing', async () => {
    const library = new AudioLibrary(limits);
    await library.load(`${base}/tone.wav`, { cache: true });
    await library.load(`${base}/tone.wav`, { cache: false });
    await library.load(`${base}/tone.wav`, { cache: false });
    const hits = requests('/tone.wav');
    assert.equal(hits.length, 3);
    assert.equal(hits[1]?.headers['if-none-match'], undefined);
    assert.equal(hits[2]?.headers['if-none-match'], undefined);
    const fresh = new AudioLibrary(limits);
    await fresh.load(`${base}/tone.wav`, { cache: false });
    assert.equal(fresh.stats.entries, 0);
  });

  it('concurrent loads of one URL share one fetch', async () => {
    const library = new AudioLibrary(limits);
    const url = `${base}/slow.wav?ms=100`;
    const loads = await Promise.all(Array.from({ length: 5 }, () => library.load(url, { cache: true })));
    assert.equal(requests('/slow.wav').length, 1);
    for (const samples of loads) assert.equal(samples, loads[0]);
    // Uncached loads are independent.
    await Promise.all([library.load(url, { cache: false }), library.load(url, { cache: false })]);
    assert.equal(requests('/slow.wav').length, 3);
  });

  it('evicts the least recently used audio beyond its byte budget', async () => {
    // Each clip is 800 samples = 1600 bytes (+ overhead); room for two.
    const library = new AudioLibrary({ ...limits, maxCacheBytes: 4500 });
    const a = `${base}/tone.wav?a`;
    const b = `${base}/tone.wav?b`;
    const c = `${base}/tone.wav?c`;
    await library.load(a, { cache: true });
    await library.load(b, { cache: true });
    await library.load(a, { cache: true }); // a is now the most recent
    await library.load(c, { cache: true }); // evicts b
    assert.equal(library.stats.entries, 2);
    assert.ok(library.stats.bytes <= 4500);
    seen.length = 0;
    await library.load(a, { cache: true });
    await library.load(b, { cache: true });
    assert.equal(seen[0]?.headers['if-none-match'], '"v1"', 'a was still cached');
    assert.equal(seen[1]?.headers['if-none-match'], undefined, 'b had been evicted');
  });

  it('does not cache a clip bigger than the whole budget', async () => {
    const library = new AudioLibrary({ ...limits, maxCacheBytes: 1000 });
    await library.load(`${base}/tone.wav`, { cache: true });
    assert.deepEqual(library.stats, { entries: 0, bytes: 0, maxBytes: 1000 });
  });

  it('forgets a URL that starts returning 404 and passes errors through', async () => {
    const library = new AudioLibrary(limits);
    await expectFetchError(library.load(`${base}/missing.wav`, { cache: true }), 'not_found');
    await expectFetchError(library.load(`${base}/broken.wav`, { cache: false }), 'http_error');
    assert.equal(library.stats.entries, 0);
    await assert.rejects(library.load(`${base}/page.html`, { cache: true }), AudioDecodeError);
  });

  it('can skip revalidation for a configurable window', async () => {
    let now = 1_000;
    const library = new AudioLibrary({ ...limits, revalidateAfterMs: 5_000, now: () => now });
    await library.load(`${base}/tone.wav`, { cache: true });
    now += 4_000;
    await library.load(`${base}/tone.wav`, { cache: true });
    assert.equal(requests('/tone.wav').length, 1);
    now += 2_000;
    await library.load(`${base}/tone.wav`, { cache: true });
    assert.equal(requests('/tone.wav').length, 2);
  });
});
