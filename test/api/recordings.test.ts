import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Telnyx from 'telnyx';
import { parseIsoTime } from '../../src/api/list-query.js';
import { parseRange } from '../../src/api/routes/recordings.js';
import { encodeWav } from '../../src/media/audio/wav.js';
import type { RecordingRow, TranscriptionRow } from '../../src/store/recording-repository.js';
import { TestSwitchboard } from '../../src/testing/harness.js';
import { sdkClient } from '../helpers/sdk.js';

type ErrorItem = { code: string; title: string; detail?: string; source?: { pointer?: string; parameter?: string } };

const T0 = Date.parse('2024-05-01T10:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

function tone(seconds: number, hz: number): Int16Array {
  const n = Math.round(8000 * seconds);
  const samples = new Int16Array(n);
  for (let i = 0; i < n; i++) samples[i] = Math.round(6000 * Math.sin((2 * Math.PI * hz * i) / 8000));
  return samples;
}

async function rejectsWith(promise: Promise<unknown>, status: number, check: (errors: ErrorItem[]) => void = () => {}): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof Telnyx.APIError, `expected an APIError, got ${String(err)}`);
    assert.equal(err.status, status, err.message);
    const body = err.error as { errors: ErrorItem[] };
    assert.ok(Array.isArray(body.errors) && body.errors.length > 0, JSON.stringify(body));
    for (const e of body.errors) {
      assert.equal(typeof e.code, 'string');
      assert.equal(typeof e.title, 'string');
    }
    check(body.errors);
    return true;
  });
}

describe('/v2/recordings and /v2/recording_transcriptions through the SDK', () => {
  let sb: TestSwitchboard;
  let client: Telnyx;
  let fixtures: string;
  let wavBytes: Buffer;
  let mp3Bytes: Buffer;
  const recDir = () => sb.server.recordingFiles.dir;
  const auth = () => ({ authorization: `Bearer ${sb.apiKey}` });

  /** Saves a recording row and writes its files, as the recorder would. */
  function addRecording(over: Partial<RecordingRow> & { formats?: ('wav' | 'mp3')[] } = {}): RecordingRow {
    const id = over.id ?? randomUUID();
    const formats = over.formats ?? ['wav'];
    const stem = `${over.callLegId ?? id}-${Math.floor((over.startedMs ?? T0) / 1000)}`;
    const startedMs = over.startedMs ?? T0;
    const row: RecordingRow = {
      id,
      callControlId: `v3:${id.replace(/-/g, '')}`,
      callLegId: randomUUID(),
      callSessionId: randomUUID(),
      connectionId: 'conn-1',
      from: '+15550000001',
      to: '+15550000100',
      status: 'completed',
      format: formats[0] ?? 'wav',
      channels: 'single',
      track: 'both',
      source: 'call',
      fileStem: stem,
      partialFile: null,
      wavFile: formats.includes('wav') ? `${stem}.wav` : null,
      mp3File: formats.includes('mp3') ? `${stem}.mp3` : null,
      options: { maxLengthSecs: 0, timeoutSecs: 0, trimSilence: false, playBeep: false, transcription: null },
      clientState: null,
      error: null,
      startedMs,
      endedMs: startedMs + 4000,
      durationMs: 4000,
      createdMs: startedMs,
      updatedMs: startedMs + 4500,
      ...over,
    };
    if (row.wavFile) writeFileSync(join(recDir(), row.wavFile), wavBytes);
    if (row.mp3File) writeFileSync(join(recDir(), row.mp3File), mp3Bytes);
    sb.server.recordings.save(row);
    return row;
  }

  function filesOf(row: RecordingRow): string[] {
    return [row.wavFile, row.mp3File].filter((f): f is string => f !== null).map((f) => join(recDir(), f));
  }

  before(async () => {
    fixtures = mkdtempSync(join(tmpdir(), 'recapi-'));
    wavBytes = Buffer.from(encodeWav(tone(0.5, 440)));
    writeFileSync(join(fixtures, 'tone.wav'), wavBytes);
    execFileSync('lame', ['--silent', '-b', '32', join(fixtures, 'tone.wav'), join(fixtures, 'tone.mp3')]);
    mp3Bytes = readFileSync(join(fixtures, 'tone.mp3'));
    assert.ok(mp3Bytes.length > 100);
    sb = await TestSwitchboard.start();
    client = sdkClient(sb);
  });

  after(async () => {
    await sb.close();
    rmSync(fixtures, { recursive: true, force: true });
  });

  describe('listing, filters and paging', () => {
    let a: RecordingRow;
    let b: RecordingRow;
    let c: RecordingRow;

    before(() => {
      const session = randomUUID();
      a = addRecording({ callSessionId: session, startedMs: T0 });
      b = addRecording({ callSessionId: session, startedMs: T0 + 60_000, formats: ['mp3'], channels: 'dual' });
      c = addRecording({
        startedMs: T0 + 120_000, formats: ['wav', 'mp3'], connectionId: 'conn-2', from: '+15550000002', to: '+15550000200',
        endedMs: T0 + 180_000, durationMs: 60_000,
      });
      // Not completed: invisible to the API.
      addRecording({ startedMs: T0 + 200_000, status: 'recording', endedMs: null, durationMs: null, formats: [], partialFile: 'x.raw' });
      addRecording({ startedMs: T0 + 210_000, status: 'failed', formats: [], error: 'boom' });
    });

    after(() => {
      sb.server.recordings.deleteMany(sb.server.recordings.list({}, { size: 250, number: 1 }, ['completed', 'recording', 'failed']).rows.map((r) => r.id));
    });

    it('lists completed recordings newest first, shaped as RecordingResponseData', async () => {
      const page = await client.recordings.list();
      assert.deepEqual(page.data.map((r) => r.id), [c.id, b.id, a.id]);
      assert.deepEqual(page.meta, { page_number: 1, page_size: 20, total_pages: 1, total_results: 3 });

      const got = page.data[0];
      assert.ok(got);
      assert.deepEqual(Object.keys(got).sort(), [
        'call_control_id', 'call_leg_id', 'call_session_id', 'channels', 'connection_id', 'created_at', 'download_urls',
        'duration_millis', 'from', 'id', 'initiated_by', 'record_type', 'recording_ended_at', 'recording_started_at', 'source',
        'status', 'to', 'updated_at',
      ]);
      assert.equal(got.record_type, 'recording');
      assert.equal(got.call_control_id, c.callControlId);
      assert.equal(got.call_leg_id, c.callLegId);
      assert.equal(got.call_session_id, c.callSessionId);
      assert.equal(got.channels, 'single');
      assert.equal(got.connection_id, 'conn-2');
      assert.equal(got.created_at, iso(c.createdMs));
      assert.equal(got.updated_at, iso(c.updatedMs));
      assert.equal(got.duration_millis, 60_000);
      assert.equal(got.from, '+15550000002');
      assert.equal(got.to, '+15550000200');
      assert.equal(got.initiated_by, 'StartCallRecordingAPI');
      assert.equal(got.recording_started_at, iso(T0 + 120_000));
      assert.equal(got.recording_ended_at, iso(T0 + 180_000));
      assert.equal(got.source, 'call');
      assert.equal(got.status, 'completed');
      assert.deepEqual(got.download_urls, {
        wav: `${sb.baseURL}/recordings/${c.id}/download/wav`,
        mp3: `${sb.baseURL}/recordings/${c.id}/download/mp3`,
      });
      assert.deepEqual(Object.keys(page.data[1]?.download_urls ?? {}), ['mp3']);
      assert.equal(page.data[1]?.channels, 'dual');
      assert.deepEqual(Object.keys(page.data[2]?.download_urls ?? {}), ['wav']);
    });

    it('filters by every attribute the spec lists', async () => {
      const ids = async (filter: Telnyx.RecordingListParams['filter']) => (await client.recordings.list({ filter })).data.map((r) => r.id);
      assert.deepEqual(await ids({ call_control_id: a.callControlId }), [a.id]);
      assert.deepEqual(await ids({ call_leg_id: b.callLegId }), [b.id]);
      assert.deepEqual(await ids({ call_session_id: a.callSessionId }), [b.id, a.id]);
      assert.deepEqual(await ids({ connection_id: 'conn-1' }), [b.id, a.id]);
      assert.deepEqual(await ids({ connection_id: 'CONN-1' }), [], 'case-sensitive');
      assert.deepEqual(await ids({ from: '+15550000002' }), [c.id]);
      assert.deepEqual(await ids({ to: '+15550000100' }), [b.id, a.id]);
      assert.deepEqual(await ids({ from: '+15550000001', to: '+15550000200' }), [], 'filters combine');
      assert.deepEqual(await ids({ created_at: { gte: iso(T0 + 60_000) } }), [c.id, b.id], 'gte is inclusive');
      assert.deepEqual(await ids({ created_at: { lte: iso(T0 + 60_000) } }), [b.id, a.id], 'lte is inclusive');
      assert.deepEqual(await ids({ created_at: { gte: '2024-05-01T10:00:30Z', lte: '2024-05-01T10:01:30Z' } }), [b.id]);
      assert.deepEqual(await ids({ created_at: { gte: '2024-05-01T12:00:30+02:00', lte: '2024-05-01' } }), [], 'offsets and dates');
      assert.deepEqual(await ids({ created_at: { gte: '2024-05-01T12:01:00+02:00' } }), [c.id, b.id]);
      assert.deepEqual(await ids({ start_time: { gte: iso(T0 + 1), lte: iso(T0 + 120_000) } }), [c.id, b.id]);
      assert.deepEqual(await ids({ end_time: { gte: iso(T0 + 64_001) } }), [c.id]);
      assert.deepEqual(await ids({ end_time: { lte: iso(T0 + 64_000) } }), [b.id, a.id]);
      // No recording belongs to a conference or carries a SIP Call-ID.
      assert.deepEqual(await ids({ conference_id: randomUUID() }), []);
      assert.deepEqual(await ids({ conference_region: 'us' }), []);
      assert.deepEqual(await ids({ sip_call_id: 'abc@host' }), []);
    });

    it('pages by number and size, and the SDK auto-paginates over all of them', async () => {
      const first = await client.recordings.list({ 'page[size]': 2 });
      assert.deepEqual(first.data.map((r) => r.id), [c.id, b.id]);
      assert.deepEqual(first.meta, { page_number: 1, page_size: 2, total_pages: 2, total_results: 3 });
      assert.ok(first.hasNextPage());
      const second = await first.getNextPage();
      assert.deepEqual(second.data.map((r) => r.id), [a.id]);
      assert.deepEqual(second.meta, { page_number: 2, page_size: 2, total_pages: 2, total_results: 3 });
      assert.equal(second.hasNextPage(), false);

      const all: string[] = [];
      for await (const r of client.recordings.list({ 'page[size]': 1 })) all.push(r.id as string);
      assert.deepEqual(all, [c.id, b.id, a.id]);

      const beyond = await client.recordings.list({ 'page[number]': 9, 'page[size]': 2 });
      assert.deepEqual(beyond.data, []);
      assert.deepEqual(beyond.meta, { page_number: 9, page_size: 2, total_pages: 2, total_results: 3 });
    });

    it('refuses bad paging, bad dates and filters it does not know with 422 naming the parameter', async () => {
      const param = (name: string) => (errors: ErrorItem[]) => {
        assert.equal(errors[0]?.code, '10015');
        assert.equal(errors[0]?.source?.parameter, name);
      };
      await rejectsWith(client.recordings.list({ 'page[size]': 251 }), 422, param('page[size]'));
      await rejectsWith(client.recordings.list({ 'page[size]': 0 }), 422, param('page[size]'));
      await rejectsWith(client.recordings.list({ 'page[number]': 0 }), 422, param('page[number]'));
      await rejectsWith(client.recordings.list({}, { query: { 'page[number]': 'two' } }), 422, param('page[number]'));
      await rejectsWith(client.recordings.list({ filter: { created_at: { gte: 'yesterday' } } }), 422, param('filter[created_at][gte]'));
      await rejectsWith(client.recordings.list({ filter: { start_time: { lte: '2024-02-30T00:00:00Z' } } }), 422, param('filter[start_time][lte]'));
      await rejectsWith(client.recordings.list({}, { query: { filter: { form: '+1555' } } }), 422, param('filter[form]'));
      await rejectsWith(client.recordings.list({}, { query: { filter: { created_at: { gt: iso(T0) } } } }), 422, param('filter[created_at][gt]'));
      const raw = await fetch(`${sb.baseURL}/recordings?filter[from]=%2B1&filter[from]=%2B2`, { headers: auth() });
      assert.equal(raw.status, 422);
    });

    it('retrieves one recording; an unknown, in-progress or failed one is 404', async () => {
      const { data } = await client.recordings.retrieve(b.id);
      assert.equal(data?.id, b.id);
      assert.deepEqual(data?.download_urls, { mp3: `${sb.baseURL}/recordings/${b.id}/download/mp3` });
      assert.equal(data?.recording_ended_at, iso(T0 + 64_000));

      const notFound = (errors: ErrorItem[]) => {
        assert.deepEqual(errors[0], {
          code: '10005', title: 'Recording not found',
          detail: 'The recording could not be found. Please check the recording_id and try again.',
          source: { pointer: '/recording_id' },
        });
      };
      await rejectsWith(client.recordings.retrieve(randomUUID()), 404, notFound);
      const hidden = sb.server.recordings.list({}, { size: 10, number: 1 }, ['recording', 'failed']).rows;
      assert.equal(hidden.length, 2);
      for (const row of hidden) await rejectsWith(client.recordings.retrieve(row.id), 404, notFound);
    });

    it('needs the API key', async () => {
      await rejectsWith(sdkClient(sb, { apiKey: 'KEYwrong' }).recordings.list(), 401, (e) => assert.equal(e[0]?.code, '10009'));
      await rejectsWith(sdkClient(sb, { apiKey: 'KEYwrong' }).recordingTranscriptions.list(), 401);
    });
  });

  describe('downloads', () => {
    let rec: RecordingRow;

    before(() => {
      rec = addRecording({ formats: ['wav', 'mp3'], startedMs: T0 + 1_000_000 });
    });

    it('serves the authorised URLs with the API key, byte for byte, typed', async () => {
      const { data } = await client.recordings.retrieve(rec.id);
      const wav = await fetch(data?.download_urls?.wav as string, { headers: auth() });
      assert.equal(wav.status, 200);
      assert.equal(wav.headers.get('content-type'), 'audio/wav');
      assert.equal(wav.headers.get('accept-ranges'), 'bytes');
      assert.equal(wav.headers.get('content-length'), String(wavBytes.length));
      assert.match(wav.headers.get('content-disposition') ?? '', /^attachment; filename=".+\.wav"$/);
      assert.ok(Buffer.from(await wav.arrayBuffer()).equals(wavBytes));

      const mp3 = await fetch(data?.download_urls?.mp3 as string, { headers: auth() });
      assert.equal(mp3.status, 200);
      assert.equal(mp3.headers.get('content-type'), 'audio/mpeg');
      assert.ok(Buffer.from(await mp3.arrayBuffer()).equals(mp3Bytes));

      const head = await fetch(data?.download_urls?.wav as string, { method: 'HEAD', headers: auth() });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('content-length'), String(wavBytes.length));
      assert.equal((await head.arrayBuffer()).byteLength, 0);
    });

    it('answers 401 without the key, and 404 for a format it does not have', async () => {
      const url = `${sb.baseURL}/recordings/${rec.id}/download/wav`;
      const anon = await fetch(url);
      assert.equal(anon.status, 401);
      assert.equal(((await anon.json()) as { errors: ErrorItem[] }).errors[0]?.code, '10009');
      assert.equal((await fetch(url, { headers: { authorization: 'Bearer KEYnope' } })).status, 401);

      const ogg = await fetch(`${sb.baseURL}/recordings/${rec.id}/download/ogg`, { headers: auth() });
      assert.equal(ogg.status, 404);
      const wavOnly = addRecording({ formats: ['wav'], startedMs: T0 + 1_000_001 });
      assert.equal((await fetch(`${sb.baseURL}/recordings/${wavOnly.id}/download/mp3`, { headers: auth() })).status, 404);
      assert.equal((await fetch(`${sb.baseURL}/recordings/${randomUUID()}/download/wav`, { headers: auth() })).status, 404);
      // A row whose file vanished from disk: 404, not 500.
      rmSync(join(recDir(), wavOnly.wavFile as string));
      const gone = await fetch(`${sb.baseURL}/recordings/${wavOnly.id}/download/wav`, { headers: auth() });
      assert.equal(gone.status, 404);
      assert.equal(((await gone.json()) as { errors: ErrorItem[] }).errors[0]?.title, 'Recording file not found');
    });

    it('honours single byte ranges', async () => {
      const url = `${sb.baseURL}/recordings/${rec.id}/download/wav`;
      const part = await fetch(url, { headers: { ...auth(), range: 'bytes=10-109' } });
      assert.equal(part.status, 206);
      assert.equal(part.headers.get('content-range'), `bytes 10-109/${wavBytes.length}`);
      assert.equal(part.headers.get('content-length'), '100');
      assert.ok(Buffer.from(await part.arrayBuffer()).equals(wavBytes.subarray(10, 110)));

      const tail = await fetch(url, { headers: { ...auth(), range: 'bytes=-44' } });
      assert.equal(tail.status, 206);
      assert.ok(Buffer.from(await tail.arrayBuffer()).equals(wavBytes.subarray(wavBytes.length - 44)));

      const open = await fetch(url, { headers: { ...auth(), range: `bytes=${wavBytes.length - 5}-` } });
      assert.equal(open.status, 206);
      assert.ok(Buffer.from(await open.arrayBuffer()).equals(wavBytes.subarray(wavBytes.length - 5)));

      const outside = await fetch(url, { headers: { ...auth(), range: `bytes=${wavBytes.length}-` } });
      assert.equal(outside.status, 416);
      assert.equal(outside.headers.get('content-range'), `bytes */${wavBytes.length}`);
      await outside.arrayBuffer();

      const multi = await fetch(url, { headers: { ...auth(), range: 'bytes=0-1,5-6' } });
      assert.equal(multi.status, 200, 'several ranges: the whole file');
      assert.equal((await multi.arrayBuffer()).byteLength, wavBytes.length);
    });

    it('serves public URLs without a key; a tampered, mismatched, expired or revoked token is 404', async () => {
      const urls = sb.server.recordingFiles.webhookUrls(rec);
      // recording_urls are pre-signed for 10 minutes, like Telnyx's: fetched without the key.
      for (const format of ['wav', 'mp3'] as const) {
        const url = new URL(urls.recording_urls[format] as string);
        assert.match(url.pathname, new RegExp(`^/public/recordings/${rec.id}/[A-Za-z0-9_-]{43}\\.${format}$`));
        const expires = Number(url.searchParams.get('expires')) * 1000;
        assert.ok(expires > Date.now() + 9 * 60_000 && expires <= Date.now() + 10 * 60_000 + 1000);
        assert.equal((await fetch(url)).status, 200);
      }
      const pub = urls.public_recording_urls;
      assert.match(pub.wav ?? '', new RegExp(`^${sb.server.url}/public/recordings/${rec.id}/[A-Za-z0-9_-]{43}\\.wav$`));
      const wav = await fetch(pub.wav as string);
      assert.equal(wav.status, 200);
      assert.equal(wav.headers.get('content-type'), 'audio/wav');
      assert.ok(Buffer.from(await wav.arrayBuffer()).equals(wavBytes));
      const mp3 = await fetch(pub.mp3 as string);
      assert.equal(mp3.status, 200);
      assert.ok(Buffer.from(await mp3.arrayBuffer()).equals(mp3Bytes));
      const head = await fetch(pub.wav as string, { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('content-length'), String(wavBytes.length));
      const ranged = await fetch(pub.wav as string, { headers: { range: 'bytes=0-3' } });
      assert.equal(ranged.status, 206);
      assert.equal(Buffer.from(await ranged.arrayBuffer()).toString('latin1'), 'RIFF');

      const token = /\/([^/]+)\.wav$/.exec(pub.wav as string)?.[1] as string;
      const flipped = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
      const expectNotFound = async (url: string) => {
        const res = await fetch(url);
        assert.equal(res.status, 404, url);
        const body = (await res.json()) as { errors: ErrorItem[] };
        assert.equal(body.errors[0]?.code, '10005');
      };
      await expectNotFound((pub.wav as string).replace(token, flipped));
      await expectNotFound((pub.wav as string).replace(/\.wav$/, '.mp3'));
      await expectNotFound((pub.wav as string).replace(rec.id, randomUUID()));
      await expectNotFound(`${sb.server.url}/public/recordings/${rec.id}/${token}`);

      const soon = sb.server.recordingFiles.publicUrl(rec.id, 'wav', Date.now() + 60_000);
      assert.match(soon, /\?expires=\d+$/);
      assert.equal((await fetch(soon)).status, 200);
      await expectNotFound(soon.replace(/expires=(\d+)/, (_m, n: string) => `expires=${Number(n) + 1}`));
      await expectNotFound(soon.replace(/\?expires=\d+$/, ''));
      await expectNotFound(sb.server.recordingFiles.publicUrl(rec.id, 'wav', Date.now() - 1000));

      // The key survives a restart: the same path works on a new server over the same data.
      const path = new URL(pub.wav as string).pathname;
      const again = await TestSwitchboard.start({ dataDir: sb.dataDir });
      try {
        assert.equal((await fetch(`${again.server.url}${path}`)).status, 200);
      } finally {
        await again.close();
      }

      // Rotating the key revokes every public URL handed out; new ones work.
      sb.server.recordingFiles.rotateUrlKey();
      await expectNotFound(pub.wav as string);
      const fresh = sb.server.recordingFiles.webhookUrls(rec).public_recording_urls.wav as string;
      assert.equal((await fetch(fresh)).status, 200);
    });
  });

  describe('deleting', () => {
    it('deletes one recording: the row and its files go, and so do its URLs', async () => {
      const rec = addRecording({ formats: ['wav', 'mp3'], startedMs: T0 + 2_000_000 });
      const pub = sb.server.recordingFiles.webhookUrls(rec).public_recording_urls;
      assert.equal((await fetch(pub.wav as string)).status, 200);
      for (const f of filesOf(rec)) assert.ok(existsSync(f));

      const { data } = await client.recordings.delete(rec.id);
      assert.equal(data?.id, rec.id);
      assert.equal(data?.status, 'completed');
      assert.deepEqual(data?.download_urls, {});
      for (const f of filesOf(rec)) assert.equal(existsSync(f), false, `${f} removed`);
      assert.equal(sb.server.recordings.get(rec.id), undefined);
      await rejectsWith(client.recordings.retrieve(rec.id), 404);
      await rejectsWith(client.recordings.delete(rec.id), 404);
      assert.equal((await fetch(pub.wav as string)).status, 404);
      assert.equal((await fetch(`${sb.baseURL}/recordings/${rec.id}/download/wav`, { headers: auth() })).status, 404);
    });

    it('does not delete a recording that is still being recorded', async () => {
      const live = addRecording({ status: 'recording', formats: [], partialFile: null, endedMs: null, durationMs: null });
      await rejectsWith(client.recordings.delete(live.id), 404);
      await rejectsWith(client.recordings.actions.delete({ ids: [live.id] }), 404);
      assert.ok(sb.server.recordings.get(live.id));
      sb.server.recordings.delete(live.id);
    });

    it('batch-deletes all of the ids or, when any is unknown, none of them', async () => {
      const recs = [0, 1, 2].map((i) => addRecording({ formats: i === 1 ? ['mp3'] : ['wav', 'mp3'], startedMs: T0 + 3_000_000 + i }));
      const unknown = randomUUID();
      const [r0, r1, r2] = recs as [RecordingRow, RecordingRow, RecordingRow];

      await rejectsWith(client.recordings.actions.delete({ ids: [r0.id, unknown, r1.id, 'nope'] }), 404, (errors) => {
        assert.deepEqual(errors.map((e) => [e.code, e.source?.pointer]), [['10005', '/ids/1'], ['10005', '/ids/3']]);
        assert.match(errors[0]?.detail ?? '', new RegExp(unknown));
      });
      for (const r of recs) {
        assert.ok(sb.server.recordings.get(r.id), 'a refused batch deletes nothing');
        for (const f of filesOf(r)) assert.ok(existsSync(f));
      }

      const invalid = (body: unknown, pointers: string[]) =>
        rejectsWith(client.recordings.actions.delete(body as Telnyx.Recordings.ActionDeleteParams), 422, (errors) => {
          assert.deepEqual(errors.map((e) => e.source?.pointer), pointers);
        });
      await invalid({}, ['/ids']);
      await invalid({ ids: r0.id }, ['/ids']);
      await invalid({ ids: [r0.id, 7, ''] }, ['/ids/1', '/ids/2']);
      await invalid({ ids: [r0.id], force: true }, ['/force']);
      await invalid({ ids: Array.from({ length: 1001 }, () => r0.id) }, ['/ids']);
      const notObject = await fetch(`${sb.baseURL}/recordings/actions/delete`, {
        method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: '[1]',
      });
      assert.equal(notObject.status, 422);
      for (const r of recs) assert.ok(sb.server.recordings.get(r.id));

      const res = await client.recordings.actions.delete({ ids: [r0.id, r1.id, r2.id, r0.id] });
      assert.deepEqual(res, { status: 'ok' });
      for (const r of recs) {
        assert.equal(sb.server.recordings.get(r.id), undefined);
        for (const f of filesOf(r)) assert.equal(existsSync(f), false, `${f} removed`);
      }
      assert.deepEqual(await client.recordings.actions.delete({ ids: [] }), { status: 'ok' });
    });
  });

  describe('recording transcriptions', () => {
    let recA: RecordingRow;
    let recB: RecordingRow;
    const rows: TranscriptionRow[] = [];

    before(() => {
      recA = addRecording({ startedMs: T0 + 4_000_000 });
      recB = addRecording({ startedMs: T0 + 4_100_000 });
      const mk = (recordingId: string, createdMs: number, text: string): TranscriptionRow => {
        const row: TranscriptionRow = {
          id: randomUUID(), recordingId, status: 'completed', text, language: 'en-US', engine: 'A', durationMs: 4000,
          createdMs, updatedMs: createdMs + 10,
        };
        sb.server.recordings.saveTranscription(row);
        rows.push(row);
        return row;
      };
      mk(recA.id, T0 + 4_010_000, 'Hello, this is the first one.');
      mk(recB.id, T0 + 4_110_000, 'Good morning, how may I help you?');
      mk(recB.id, T0 + 4_120_000, 'A second pass over the same recording.');
    });

    it('lists newest first, shaped as RecordingTranscription, with paging', async () => {
      const page = await client.recordingTranscriptions.list();
      assert.deepEqual(page.data.map((t) => t.id), [rows[2]?.id, rows[1]?.id, rows[0]?.id]);
      assert.deepEqual(page.meta, { page_number: 1, page_size: 20, total_pages: 1, total_results: 3 });
      assert.deepEqual(page.data[1], {
        id: rows[1]?.id,
        record_type: 'recording_transcription',
        recording_id: recB.id,
        status: 'completed',
        transcription_text: 'Good morning, how may I help you?',
        duration_millis: 4000,
        created_at: iso(T0 + 4_110_000),
        updated_at: iso(T0 + 4_110_010),
      });

      const all: string[] = [];
      for await (const t of client.recordingTranscriptions.list({ 'page[size]': 2 })) all.push(t.id as string);
      assert.deepEqual(all, [rows[2]?.id, rows[1]?.id, rows[0]?.id]);
      await rejectsWith(client.recordingTranscriptions.list({ 'page[size]': 500 }), 422);
    });

    it('filters by recording_id and created_at', async () => {
      const ids = async (filter: Telnyx.RecordingTranscriptionListParams['filter']) =>
        (await client.recordingTranscriptions.list({ filter })).data.map((t) => t.id);
      assert.deepEqual(await ids({ recording_id: recB.id }), [rows[2]?.id, rows[1]?.id]);
      assert.deepEqual(await ids({ recording_id: randomUUID() }), []);
      assert.deepEqual(await ids({ created_at: { gte: iso(T0 + 4_110_000) } }), [rows[2]?.id, rows[1]?.id]);
      assert.deepEqual(await ids({ created_at: { lte: iso(T0 + 4_110_000) } }), [rows[1]?.id, rows[0]?.id]);
      assert.deepEqual(await ids({ recording_id: recB.id, created_at: { lte: iso(T0 + 4_110_000) } }), [rows[1]?.id]);
      await rejectsWith(client.recordingTranscriptions.list({}, { query: { filter: { call_leg_id: 'x' } } }), 422,
        (e) => assert.equal(e[0]?.source?.parameter, 'filter[call_leg_id]'));
      await rejectsWith(client.recordingTranscriptions.list({ filter: { created_at: { gte: 'soon' } } }), 422);
    });

    it('retrieves and deletes one; an unknown id is 404', async () => {
      const target = rows[0] as TranscriptionRow;
      const { data } = await client.recordingTranscriptions.retrieve(target.id);
      assert.equal(data?.transcription_text, target.text);
      assert.equal(data?.recording_id, recA.id);

      const deleted = await client.recordingTranscriptions.delete(target.id);
      assert.deepEqual(deleted.data, data);
      assert.equal(sb.server.recordings.getTranscription(target.id), undefined);
      const notFound = (e: ErrorItem[]) => {
        assert.equal(e[0]?.code, '10005');
        assert.equal(e[0]?.source?.pointer, '/recording_transcription_id');
      };
      await rejectsWith(client.recordingTranscriptions.retrieve(target.id), 404, notFound);
      await rejectsWith(client.recordingTranscriptions.delete(target.id), 404, notFound);
      assert.equal((await client.recordingTranscriptions.list()).data.length, 2);
      assert.ok(sb.server.recordings.get(recA.id), 'the recording stays');
    });
  });
});

describe('recording API helpers', () => {
  it('parses ISO 8601 bounds, inclusive at millisecond precision', () => {
    assert.equal(parseIsoTime('2019-03-29T11:10:00Z'), Date.parse('2019-03-29T11:10:00Z'));
    assert.equal(parseIsoTime('2019-03-29T11:10:00'), Date.parse('2019-03-29T11:10:00Z'), 'no offset: UTC');
    assert.equal(parseIsoTime('2019-03-29'), Date.parse('2019-03-29T00:00:00Z'));
    assert.equal(parseIsoTime('2019-03-29T13:10:00+02:00'), Date.parse('2019-03-29T11:10:00Z'));
    assert.equal(parseIsoTime('2019-03-29T13:10:00 02:00'), Date.parse('2019-03-29T11:10:00Z'), 'an unencoded + arrives as a space');
    assert.equal(parseIsoTime('2019-03-29T11:10:00.521992Z', 'lte'), Date.parse('2019-03-29T11:10:00.521Z'));
    assert.equal(parseIsoTime('2019-03-29T11:10:00.521992Z', 'gte'), Date.parse('2019-03-29T11:10:00.522Z'));
    for (const bad of ['', 'now', '2019-13-01', '2019-02-29', '2019-03-29T24:00:00Z', '1553857800', '2019-03-29T11:10:00+25:00']) {
      assert.equal(parseIsoTime(bad), null, bad);
    }
  });

  it('parses byte ranges', () => {
    assert.deepEqual(parseRange('bytes=0-9', 100), { start: 0, end: 9 });
    assert.deepEqual(parseRange('bytes=90-200', 100), { start: 90, end: 99 });
    assert.deepEqual(parseRange('bytes=-10', 100), { start: 90, end: 99 });
    assert.deepEqual(parseRange('bytes=-500', 100), { start: 0, end: 99 });
    assert.equal(parseRange('bytes=100-', 100), 'unsatisfiable');
    assert.equal(parseRange('bytes=-0', 100), 'unsatisfiable');
    assert.equal(parseRange('bytes=5-1', 100), null);
    assert.equal(parseRange('bytes=0-1,4-5', 100), null);
    assert.equal(parseRange('items=0-1', 100), null);
    assert.equal(parseRange(undefined, 100), null);
  });
});
