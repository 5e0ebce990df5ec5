import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Telnyx, { toFile } from 'telnyx';
import { MediaLibrary, MAX_MEDIA_BYTES } from '../../src/media-storage/media-library.js';
import { encodeWav } from '../../src/media/audio/wav.js';
import { openDatabase } from '../../src/store/db.js';
import { MediaRepository } from '../../src/store/media-repository.js';
import { TestSwitchboard } from '../../src/testing/harness.js';
import { SystemClock, VirtualClock } from '../../src/util/clock.js';
import { sdkClient } from '../helpers/sdk.js';

type UploadParams = Telnyx.MediaUploadParams;
type UpdateParams = Telnyx.MediaUpdateParams;
type ErrorBody = { errors: { code: string; title: string; detail?: string; source?: { pointer?: string } }[] };

/** The SDK's upload/update types only declare media_url; a File in `media` is what makes it send multipart. */
const uploadForm = (body: Record<string, unknown>) => body as unknown as UploadParams;
const updateForm = (body: Record<string, unknown>) => body as unknown as UpdateParams;

function wav(seconds = 0.1, hz = 440): Buffer {
  const n = Math.round(8000 * seconds);
  const samples = new Int16Array(n);
  for (let i = 0; i < n; i++) samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / 8000));
  return Buffer.from(encodeWav(samples));
}

/** One MPEG-1 Layer III frame (128 kb/s, 44.1 kHz) of silence, repeated. */
function mp3(frames = 4): Buffer {
  const frame = Buffer.alloc(417);
  frame.set([0xff, 0xfb, 0x90, 0x64]);
  return Buffer.concat(Array.from({ length: frames }, () => frame));
}

const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
const TEXML = Buffer.from('<?xml version="1.0" encoding="UTF-8"?>\n<Response><Say>Hello</Say></Response>\n');

/** A local origin for media_url: fixed bodies by path, plus an endless stream and one that never answers. */
async function startOrigin(): Promise<{ url: string; server: Server; hits: Map<string, number> }> {
  const hits = new Map<string, number>();
  const bodies: Record<string, { type?: string; body: Buffer }> = {
    '/tone.wav': { type: 'audio/wav', body: wav(0.2, 660) },
    '/song.mp3': { type: 'application/octet-stream', body: mp3(6) },
    '/untyped.mp3': { body: mp3(3) },
    '/texml.xml': { type: 'text/plain', body: TEXML },
    '/page.html': { type: 'text/html', body: Buffer.from('<!DOCTYPE html><html><body>Not found</body></html>') },
  };
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] as string;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const fixed = bodies[path];
    if (fixed) {
      res.writeHead(200, fixed.type ? { 'content-type': fixed.type } : {});
      res.end(fixed.body);
    } else if (path === '/redirect') {
      res.writeHead(302, { location: '/tone.wav' });
      res.end();
    } else if (path === '/huge-chunked') {
      // No Content-Length: the cap has to be enforced while reading.
      res.writeHead(200, { 'content-type': 'audio/wav' });
      const chunk = Buffer.alloc(1024 * 1024);
      chunk.set(wav(0.01).subarray(0, 44));
      let sent = 0;
      const pump = () => {
        while (sent < 25 && !res.destroyed) {
          sent++;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('error', () => {});
      pump();
    } else if (path === '/huge-declared') {
      res.writeHead(200, { 'content-type': 'audio/mpeg', 'content-length': String(MAX_MEDIA_BYTES + 1) });
      res.write(mp3(1));
      res.on('error', () => {});
      // never finishes; the client must give up on the declared length alone
    } else if (path === '/hang') {
      // never answers
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('no such file');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, hits };
}

async function closeOrigin(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A port on which nothing listens. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

async function rejectsWith(
  promise: Promise<unknown>,
  expected: { status: number; code: string; pointer?: string; title?: string; detail?: RegExp },
): Promise<ErrorBody['errors'][number]> {
  let found: ErrorBody['errors'][number] | undefined;
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof Telnyx.APIError, `expected an APIError, got ${String(err)}`);
    assert.equal(err.status, expected.status, `status: ${err.message}`);
    const body = err.error as ErrorBody;
    assert.equal(body.errors.length, 1, JSON.stringify(body));
    found = body.errors[0];
    assert.equal(found?.code, expected.code, JSON.stringify(body));
    if (expected.pointer !== undefined) assert.equal(found?.source?.pointer, expected.pointer, JSON.stringify(body));
    if (expected.title) assert.equal(found?.title, expected.title);
    if (expected.detail) assert.match(found?.detail ?? '', expected.detail);
    return true;
  });
  return found as ErrorBody['errors'][number];
}

async function downloadBytes(client: Telnyx, name: string): Promise<{ bytes: Buffer; type: string | null }> {
  const res = await client.media.download(name);
  return { bytes: Buffer.from(await res.arrayBuffer()), type: res.headers.get('content-type') };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const DAY_MS = 24 * 60 * 60 * 1000;

describe('/v2/media through the SDK', () => {
  let sb: TestSwitchboard;
  let client: Telnyx;
  let origin: Awaited<ReturnType<typeof startOrigin>>;
  const mediaDir = () => join(sb.dataDir, 'media');
  const filesOnDisk = () => readdirSync(mediaDir()).sort();

  /** Runs `refused`, then checks it left no row and no file behind. */
  async function changesNothing(refused: () => Promise<unknown>): Promise<void> {
    const before = { files: filesOnDisk(), total: (await client.media.list({}, { query: { 'page[size]': 250 } })).meta?.total_results };
    await refused();
    assert.deepEqual(filesOnDisk(), before.files, 'no file was added or removed');
    const total = (await client.media.list({}, { query: { 'page[size]': 250 } })).meta?.total_results;
    assert.equal(total, before.total, 'no media row was added or removed');
  }

  before(async () => {
    origin = await startOrigin();
    sb = await TestSwitchboard.start();
    client = sdkClient(sb);
  });

  after(async () => {
    await sb.close();
    await closeOrigin(origin.server);
  });

  it('uploads a multipart file with a name and ttl, and serves it back byte for byte', async () => {
    const bytes = wav(0.3);
    const t0 = Date.now();
    const { data } = await client.media.upload(uploadForm({
      media: await toFile(bytes, 'greeting.wav', { type: 'audio/x-wav' }),
      media_name: 'greeting',
      ttl_secs: 3600,
    }));
    assert.ok(data);
    assert.deepEqual(Object.keys(data).sort(), ['content_type', 'created_at', 'expires_at', 'media_name', 'updated_at']);
    assert.equal(data.media_name, 'greeting');
    assert.equal(data.content_type, 'audio/wav', 'wav aliases are stored under one name');
    assert.equal(data.created_at, data.updated_at);
    const created = Date.parse(data.created_at as string);
    assert.ok(created >= t0 - 1000 && created <= Date.now() + 1000);
    assert.equal(Date.parse(data.expires_at as string) - created, 3600_000);
    assert.match(data.created_at as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);

    const fetched = await client.media.retrieve('greeting');
    assert.deepEqual(fetched.data, data);
    const got = await downloadBytes(client, 'greeting');
    assert.equal(got.type, 'audio/wav');
    assert.ok(got.bytes.equals(bytes));

    const read = await sb.server.media.read('greeting');
    assert.ok(read);
    assert.equal(read.contentType, 'audio/wav');
    assert.ok(Buffer.from(read.bytes).equals(bytes), 'the engine reads the same bytes');
    assert.equal(await sb.server.media.read('no-such-media'), null);
  });

  it('generates a UUID name and a 2-day ttl, and sniffs the type of an untyped File', async () => {
    const { data } = await client.media.upload(uploadForm({ media: new File([new Uint8Array(mp3())], 'x.bin') }));
    assert.match(data?.media_name ?? '', UUID);
    assert.equal(data?.content_type, 'audio/mpeg');
    assert.equal(Date.parse(data?.expires_at as string) - Date.parse(data?.created_at as string), 2 * DAY_MS);
  });

  it('the bytes decide the type: a WAV declared as audio/mpeg is stored as audio/wav', async () => {
    const { data } = await client.media.upload(uploadForm({ media: await toFile(wav(), 'a.mp3', { type: 'audio/mpeg' }), media_name: 'mislabelled' }));
    assert.equal(data?.content_type, 'audio/wav');
  });

  it('uploads from a media_url (JSON), following redirects and sniffing untyped bodies', async () => {
    const fromUrl = await client.media.upload({ media_url: `${origin.url}/tone.wav`, media_name: 'from-url' });
    assert.equal(fromUrl.data?.content_type, 'audio/wav');
    assert.ok((await downloadBytes(client, 'from-url')).bytes.equals(wav(0.2, 660)));

    const redirected = await client.media.upload({ media_url: `${origin.url}/redirect`, media_name: 'redirected' });
    assert.equal(redirected.data?.content_type, 'audio/wav');

    const octet = await client.media.upload({ media_url: `${origin.url}/song.mp3`, media_name: 'song' });
    assert.equal(octet.data?.content_type, 'audio/mpeg');
    const untyped = await client.media.upload({ media_url: `${origin.url}/untyped.mp3`, media_name: 'untyped', ttl_secs: 60 });
    assert.equal(untyped.data?.content_type, 'audio/mpeg');
    const texml = await client.media.upload({ media_url: `${origin.url}/texml.xml`, media_name: 'texml' });
    assert.equal(texml.data?.content_type, 'application/xml');
    const dl = await downloadBytes(client, 'texml');
    assert.equal(dl.type, 'application/xml');
    assert.ok(dl.bytes.equals(TEXML));
  });

  it('lists newest first with pagination meta, and filters by content type in every spelling', async () => {
    const all = await client.media.list();
    const names = (all.data ?? []).map((m) => m.media_name);
    assert.ok(names.length >= 7);
    assert.deepEqual(all.meta, { page_number: 1, page_size: 20, total_pages: 1, total_results: names.length });
    assert.equal(names[0], 'texml', 'newest first');
    assert.ok(names.indexOf('greeting') > names.indexOf('from-url'));

    const mp3s = await client.media.list({ filter: { content_type: ['audio/mpeg'] } });
    assert.ok((mp3s.data ?? []).length >= 3);
    assert.ok((mp3s.data ?? []).every((m) => m.content_type === 'audio/mpeg'));

    const both = await client.media.list({ filter: { content_type: ['audio/mpeg', 'application/xml'] } });
    assert.equal(both.meta?.total_results, (mp3s.data ?? []).length + 1);

    // The spec's own spelling: a repeated filter[content_type][] parameter, and an alias.
    const res = await fetch(`${sb.baseURL}/media?filter[content_type][]=audio/x-wav&filter[content_type][]=application_xml`, {
      headers: { authorization: `Bearer ${sb.apiKey}` },
    });
    assert.equal(res.status, 200);
    const raw = (await res.json()) as { data: { content_type: string; media_name: string }[] };
    assert.ok(raw.data.length >= 4);
    assert.ok(raw.data.every((m) => m.content_type === 'audio/wav' || m.content_type === 'application/xml'));
    assert.ok(raw.data.some((m) => m.media_name === 'texml'));

    const none = await client.media.list({ filter: { content_type: ['video/mp4'] } });
    assert.deepEqual(none.data, []);
    assert.equal(none.meta?.total_results, 0);

    const page = await client.media.list({}, { query: { 'page[number]': 2, 'page[size]': 2 } });
    assert.deepEqual(page.data?.map((m) => m.media_name), names.slice(2, 4));
    assert.equal(page.meta?.total_pages, Math.ceil(names.length / 2));
    await rejectsWith(client.media.list({}, { query: { 'page[size]': 0 } }), { status: 422, code: '10015' });
  });

  it('updates the ttl alone, counting from now, and keeps the file', async () => {
    const before = (await client.media.retrieve('song')).data;
    await new Promise((r) => setTimeout(r, 5));
    const { data } = await client.media.update('song', { ttl_secs: 120 });
    assert.equal(data?.media_name, 'song');
    assert.equal(data?.created_at, before?.created_at);
    assert.notEqual(data?.updated_at, before?.updated_at);
    assert.equal(Date.parse(data?.expires_at as string) - Date.parse(data?.updated_at as string), 120_000);
    assert.equal(data?.content_type, 'audio/mpeg');
    assert.ok((await downloadBytes(client, 'song')).bytes.equals(mp3(6)));
  });

  it('replaces the file by multipart and by media_url, removing the old file from disk', async () => {
    const filesBefore = filesOnDisk();
    const before = (await client.media.retrieve('song')).data;
    const newBytes = wav(0.15, 300);
    const { data } = await client.media.update('song', updateForm({ media: await toFile(newBytes, 'new.wav') }));
    assert.equal(data?.content_type, 'audio/wav');
    assert.equal(data?.expires_at, before?.expires_at, 'the ttl is kept when not sent');
    assert.ok((await downloadBytes(client, 'song')).bytes.equals(newBytes));
    assert.equal(filesOnDisk().length, filesBefore.length, 'the old file went when the new one came');
    assert.ok(filesOnDisk().every((f) => /^[0-9a-f-]{36}\.(?:wav|mp3|xml)$/.test(f)), 'generated file names only');

    const viaUrl = await client.media.update('song', { media_url: `${origin.url}/song.mp3`, ttl_secs: 3600 });
    assert.equal(viaUrl.data?.content_type, 'audio/mpeg');
    assert.equal(Date.parse(viaUrl.data?.expires_at as string) - Date.parse(viaUrl.data?.updated_at as string), 3600_000);
    assert.ok((await downloadBytes(client, 'song')).bytes.equals(mp3(6)));
    assert.equal(filesOnDisk().length, filesBefore.length);
  });

  it('deletes with 204, after which the media is 404 everywhere and its file is gone', async () => {
    await client.media.upload(uploadForm({ media: await toFile(mp3(), 'bye.mp3'), media_name: 'bye' }));
    const filesBefore = filesOnDisk();
    const res = await fetch(`${sb.baseURL}/media/bye`, { method: 'DELETE', headers: { authorization: `Bearer ${sb.apiKey}` } });
    assert.equal(res.status, 204);
    assert.equal(await res.text(), '');
    assert.equal(filesOnDisk().length, filesBefore.length - 1);

    await client.media.upload(uploadForm({ media: await toFile(mp3(), 'bye.mp3'), media_name: 'bye-sdk' }));
    await client.media.delete('bye-sdk');
    for (const name of ['bye', 'bye-sdk']) {
      await rejectsWith(client.media.retrieve(name), { status: 404, code: '10005', pointer: '/media_name', detail: new RegExp(name) });
      await rejectsWith(client.media.download(name), { status: 404, code: '10005' });
      await rejectsWith(client.media.update(name, { ttl_secs: 60 }), { status: 404, code: '10005' });
      await rejectsWith(client.media.delete(name), { status: 404, code: '10005' });
    }
    assert.ok(!(await client.media.list()).data?.some((m) => m.media_name === 'bye'));
  });

  it('accepts names with slashes and dots, never as paths', async () => {
    const name = '../../etc/greeting v2.wav';
    await client.media.upload(uploadForm({ media: await toFile(wav(), 'a.wav'), media_name: name }));
    assert.equal((await client.media.retrieve(name)).data?.media_name, name);
    assert.ok((await downloadBytes(client, name)).bytes.equals(wav()));
    assert.ok(filesOnDisk().every((f) => !f.includes('greeting')));
    await client.media.delete(name);
    for (const bad of ['..', '.', '', 'a\u0000b']) {
      await rejectsWith(client.media.upload(uploadForm({ media: await toFile(wav(), 'a.wav'), media_name: bad })), {
        status: 422, code: bad === '' ? '10033' : '10015', pointer: '/media_name',
      });
    }
  });

  describe('refusals change nothing', () => {
    it('a duplicate name is 422 and leaves the original untouched', async () => {
      const original = await downloadBytes(client, 'greeting');
      const file = await toFile(mp3(), 'b.mp3');
      await changesNothing(() => rejectsWith(
        client.media.upload(uploadForm({ media: file, media_name: 'greeting' })),
        { status: 422, code: '10015', pointer: '/media_name', title: 'Media name already in use' },
      ));
      const hitsBefore = origin.hits.get('/tone.wav') ?? 0;
      await changesNothing(() => rejectsWith(
        client.media.upload({ media_url: `${origin.url}/tone.wav`, media_name: 'greeting' }),
        { status: 422, code: '10015', pointer: '/media_name' },
      ));
      assert.equal(origin.hits.get('/tone.wav') ?? 0, hitsBefore, 'a taken name fails before any download');
      assert.ok((await downloadBytes(client, 'greeting')).bytes.equals(original.bytes));
    });

    it('two concurrent uploads of one name: exactly one wins', async () => {
      const results = await Promise.allSettled([1, 2, 3].map(async (i) =>
        client.media.upload(uploadForm({ media: await toFile(wav(0.05, 200 * i), 'r.wav'), media_name: 'race' }))));
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      assert.ok(rejected.every((r) => (r.reason as InstanceType<typeof Telnyx.APIError>).status === 422));
      const files = filesOnDisk().length;
      await client.media.delete('race');
      assert.equal(filesOnDisk().length, files - 1);
    });

    it('a bad ttl_secs is 422, in JSON and in a form', async () => {
      const file = async () => toFile(wav(), 'a.wav');
      await changesNothing(async () => {
        await rejectsWith(client.media.upload({ media_url: `${origin.url}/tone.wav`, ttl_secs: 0 }), { status: 422, code: '10033', pointer: '/ttl_secs' });
        await rejectsWith(client.media.upload({ media_url: `${origin.url}/tone.wav`, ttl_secs: 630_720_001 }), {
          status: 422, code: '10033', pointer: '/ttl_secs', detail: /630720000/,
        });
        await rejectsWith(client.media.upload({ media_url: `${origin.url}/tone.wav`, ttl_secs: 1.5 }), { status: 422, code: '10015', pointer: '/ttl_secs' });
        await rejectsWith(client.media.upload(uploadForm({ media: await file(), ttl_secs: 'soon' })), {
          status: 422, code: '10015', pointer: '/ttl_secs', title: 'Invalid parameter type',
        });
        await rejectsWith(client.media.upload(uploadForm({ media: await file(), ttl_secs: -5 })), { status: 422, code: '10033', pointer: '/ttl_secs' });
        await rejectsWith(client.media.update('greeting', { ttl_secs: 0 }), { status: 422, code: '10033', pointer: '/ttl_secs' });
      });
      const max = await client.media.upload(uploadForm({ media: await file(), media_name: 'twenty-years', ttl_secs: 630_720_000 }));
      assert.equal(Date.parse(max.data?.expires_at as string) - Date.parse(max.data?.created_at as string), 630_720_000_000);
    });

    it('neither a file nor a media_url, both, or nothing to update is 422', async () => {
      await changesNothing(async () => {
        await rejectsWith(client.media.upload({} as UploadParams), { status: 422, code: '10004', pointer: '/media_url' });
        await rejectsWith(client.media.upload({ media_name: 'x' } as UploadParams), { status: 422, code: '10004', pointer: '/media_url' });
        // A form without the file: send the multipart by hand, as the SDK only sends one when a file is present.
        const form = new FormData();
        form.append('media_name', 'no-file');
        const res = await fetch(`${sb.baseURL}/media`, { method: 'POST', body: form, headers: { authorization: `Bearer ${sb.apiKey}` } });
        assert.equal(res.status, 422);
        const body = (await res.json()) as ErrorBody;
        assert.deepEqual(body.errors.map((e) => [e.code, e.source?.pointer]), [['10004', '/media']]);
        await rejectsWith(client.media.upload(uploadForm({ media: await toFile(wav(), 'a.wav'), media_url: `${origin.url}/tone.wav` })), {
          status: 422, code: '10015', pointer: '/media_url',
        });
        await rejectsWith(client.media.upload(uploadForm({ media: 'not a file', media_url: `${origin.url}/tone.wav` })), { status: 422, code: '10015' });
        await rejectsWith(client.media.update('greeting', {}), { status: 422, code: '10004' });
        await rejectsWith(client.media.upload({ media_url: `${origin.url}/tone.wav`, colour: 'blue' } as UploadParams), {
          status: 422, code: '10015', pointer: '/colour', title: 'Unknown parameter',
        });
        await rejectsWith(client.media.update('greeting', { media_name: 'rename' } as UpdateParams), { status: 422, code: '10015', pointer: '/media_name' });
        await rejectsWith(client.media.upload({ media_url: 'ftp://example.test/a.mp3' }), { status: 422, code: '10015', pointer: '/media_url' });
      });
    });

    it('an unreachable or failing media_url is 422 90040', async () => {
      const port = await closedPort();
      await changesNothing(async () => {
        await rejectsWith(client.media.upload({ media_url: `http://127.0.0.1:${port}/a.mp3` }), {
          status: 422, code: '90040', pointer: '/media_url', detail: /could not be downloaded/,
        });
        await rejectsWith(client.media.upload({ media_url: `${origin.url}/missing.mp3`, media_name: 'missing' }), {
          status: 422, code: '90040', pointer: '/media_url', detail: /HTTP 404/,
        });
        await rejectsWith(client.media.update('greeting', { media_url: `${origin.url}/missing.mp3` }), { status: 422, code: '90040' });
      });
      assert.ok((await downloadBytes(client, 'greeting')).bytes.equals(wav(0.3)), 'a failed update keeps the old file');
    });

    it('a file over 20 MB is 422, by upload and by media_url, with or without a Content-Length', async () => {
      const big = Buffer.alloc(MAX_MEDIA_BYTES + 1);
      big.set(wav(0.01).subarray(0, 44));
      await changesNothing(async () => {
        await rejectsWith(client.media.upload(uploadForm({ media: await toFile(big, 'big.wav'), media_name: 'big' })), {
          status: 422, code: '10015', pointer: '/media', title: 'Media file too large', detail: /20 MB/,
        });
        await rejectsWith(client.media.upload({ media_url: `${origin.url}/huge-chunked`, media_name: 'big' }), {
          status: 422, code: '10015', pointer: '/media_url', title: 'Media file too large',
        });
        await rejectsWith(client.media.upload({ media_url: `${origin.url}/huge-declared`, media_name: 'big' }), {
          status: 422, code: '10015', pointer: '/media_url', title: 'Media file too large',
        });
        await rejectsWith(client.media.update('greeting', updateForm({ media: await toFile(big, 'big.wav') })), { status: 422, code: '10015', pointer: '/media' });
      });
      // Exactly at the limit is fine.
      const { data } = await client.media.upload(uploadForm({ media: await toFile(big.subarray(0, MAX_MEDIA_BYTES), 'max.wav'), media_name: 'max' }));
      assert.equal(data?.content_type, 'audio/wav');
      await client.media.delete('max');
    });

    it('a content type we do not store is 422', async () => {
      await changesNothing(async () => {
        await rejectsWith(client.media.upload(uploadForm({ media: await toFile(PNG, 'a.png', { type: 'image/png' }) })), {
          status: 422, code: '10015', pointer: '/media', title: 'Unsupported media content type', detail: /image\/png/,
        });
        await rejectsWith(client.media.upload(uploadForm({ media: await toFile(Buffer.from('just some words'), 'a.mp3', { type: 'audio/mpeg' }) })), {
          status: 422, code: '10015', pointer: '/media', detail: /not a valid audio\/mpeg/,
        });
        await rejectsWith(client.media.upload(uploadForm({ media: await toFile(Buffer.alloc(0), 'empty.wav') })), {
          status: 422, code: '10015', pointer: '/media', detail: /empty/,
        });
        await rejectsWith(client.media.upload({ media_url: `${origin.url}/page.html` }), {
          status: 422, code: '10015', pointer: '/media_url', detail: /text\/html/,
        });
        await rejectsWith(client.media.update('greeting', updateForm({ media: await toFile(PNG, 'a.png') })), { status: 422, code: '10015', pointer: '/media' });
      });
    });

    it('a malformed multipart body is 400, not a 500 the SDK would retry', async () => {
      await changesNothing(async () => {
        const res = await fetch(`${sb.baseURL}/media`, {
          method: 'POST',
          headers: { authorization: `Bearer ${sb.apiKey}`, 'content-type': 'multipart/form-data; boundary=xyz' },
          body: '--xyz\r\nContent-Disposition: form-data; name="media"; filename="a.wav"\r\n\r\nRIFF',
        });
        assert.equal(res.status, 400);
        const body = (await res.json()) as ErrorBody;
        assert.equal(body.errors[0]?.code, '10015');
      });
    });

    it('only this scope parses multipart: other endpoints still answer it with 415', async () => {
      const form = new FormData();
      form.append('application_name', 'x');
      const res = await fetch(`${sb.baseURL}/call_control_applications`, { method: 'POST', body: form, headers: { authorization: `Bearer ${sb.apiKey}` } });
      assert.equal(res.status, 415);
    });
  });
});

describe('/v2/media expiry on a virtual clock', () => {
  const clock = new VirtualClock(Date.UTC(2026, 0, 1));
  let sb: TestSwitchboard;
  let client: Telnyx;
  const files = () => readdirSync(join(sb.dataDir, 'media'));

  before(async () => {
    sb = await TestSwitchboard.start({ clock });
    client = sdkClient(sb);
  });
  after(() => sb.close());

  it('expired media is not listed, is 404, and its name is free again', async () => {
    const { data } = await client.media.upload(uploadForm({ media: await toFile(wav(), 'a.wav'), media_name: 'short', ttl_secs: 60 }));
    assert.equal(data?.created_at, '2026-01-01T00:00:00.000000Z');
    assert.equal(data?.expires_at, '2026-01-01T00:01:00.000000Z');
    clock.advance(59_999);
    assert.equal((await client.media.retrieve('short')).data?.media_name, 'short');
    clock.advance(1);
    await rejectsWith(client.media.retrieve('short'), { status: 404, code: '10005' });
    await rejectsWith(client.media.download('short'), { status: 404, code: '10005' });
    await rejectsWith(client.media.update('short', { ttl_secs: 600 }), { status: 404, code: '10005' });
    await rejectsWith(client.media.delete('short'), { status: 404, code: '10005' });
    assert.deepEqual((await client.media.list()).data, []);
    assert.equal(await sb.server.media.read('short'), null);
    await waitFor(() => files().length === 0, 'the expired file is removed lazily');

    const again = await client.media.upload(uploadForm({ media: await toFile(mp3(), 'b.mp3'), media_name: 'short', ttl_secs: 30 }));
    assert.equal(again.data?.content_type, 'audio/mpeg');
    assert.equal(files().length, 1);
    await client.media.delete('short');
  });

  it('the periodic sweep removes files of media nobody asks about', async () => {
    await client.media.upload(uploadForm({ media: await toFile(wav(), 'a.wav'), media_name: 'forgotten', ttl_secs: 5 }));
    await client.media.upload(uploadForm({ media: await toFile(wav(), 'a.wav'), media_name: 'kept', ttl_secs: 3600 }));
    assert.equal(files().length, 2);
    clock.advance(61_000); // past the expiry and past one sweep interval
    await waitFor(() => files().length === 1, 'the sweep removed the expired file');
    assert.deepEqual((await client.media.list()).data?.map((m) => m.media_name), ['kept']);
  });
});

describe('/v2/media across a restart', () => {
  it('keeps media and metadata, and clears what a crash left behind', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-media-'));
    try {
      let sb = await TestSwitchboard.start({ dataDir });
      let client = sdkClient(sb);
      const bytes = wav(0.25, 880);
      const stored = (await client.media.upload(uploadForm({ media: await toFile(bytes, 'k.wav'), media_name: 'keep-me', ttl_secs: 86_400 }))).data;
      await sb.close();

      // What a crash mid-upload could leave: a temporary file, and a renamed file whose row never committed.
      const mediaDir = join(dataDir, 'media');
      const kept = readdirSync(mediaDir);
      writeFileSync(join(mediaDir, '.incoming-half-written'), Buffer.alloc(10));
      writeFileSync(join(mediaDir, '00000000-0000-0000-0000-000000000000.wav'), wav());

      sb = await TestSwitchboard.start({ dataDir });
      client = sdkClient(sb);
      try {
        assert.deepEqual((await client.media.retrieve('keep-me')).data, stored);
        assert.ok((await downloadBytes(client, 'keep-me')).bytes.equals(bytes));
        assert.deepEqual(readdirSync(mediaDir), kept, 'only referenced files survive the start');
      } finally {
        await sb.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('MediaLibrary downloads', () => {
  it('gives up on a media_url that does not answer within the timeout', async () => {
    const origin = await startOrigin();
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-media-lib-'));
    const db = openDatabase(':memory:');
    const library = new MediaLibrary({ dir, repository: new MediaRepository(db), clock: new SystemClock(), downloadTimeoutMs: 300 });
    try {
      await library.open();
      const started = Date.now();
      await assert.rejects(library.download(`${origin.url}/hang`), (err: Error & { kind?: string }) => {
        assert.equal(err.kind, 'download_failed');
        assert.match(err.message, /within 0.3 s/);
        return true;
      });
      assert.ok(Date.now() - started < 3000);
      const ok = await library.download(`${origin.url}/tone.wav`);
      assert.equal(ok.declaredType, 'audio/wav');
      assert.ok(Buffer.from(ok.bytes).equals(wav(0.2, 660)));
    } finally {
      library.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
      await closeOrigin(origin.server);
    }
  });
});

async function waitFor(check: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
