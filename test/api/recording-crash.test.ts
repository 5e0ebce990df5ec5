import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import Telnyx from 'telnyx';
import { encodeWav, parseWav } from '../../src/media/audio/wav.js';
import { WebhookReceiver } from '../../src/testing/webhook-receiver.js';
import { soundSpans, toneShare } from '../helpers/audio-analysis.js';
import { ChildServer, freePort } from '../helpers/child-server.js';

const API_KEY = 'KEYrecording-crash-0123456789';
let dataDir: string;
let receiver: WebhookReceiver;
let server: ChildServer | null = null;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'switchboard-recording-crash-'));
  receiver = await new WebhookReceiver().start();
});

after(async () => {
  await server?.stop();
  await receiver.close();
  rmSync(dataDir, { recursive: true, force: true });
});

it('a recording cut short by kill -9 is finished at the next start: valid file, nothing lost, call.recording.saved', async () => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = { SWITCHBOARD_HOST: '127.0.0.1', SWITCHBOARD_PORT: String(port), SWITCHBOARD_DATA_DIR: join(dataDir, 'data'), SWITCHBOARD_API_KEYS: API_KEY };
  server = await ChildServer.start(env);
  const client = new Telnyx({ apiKey: API_KEY, baseURL: `${base}/v2`, publicKey: server.printed('TELNYX_PUBLIC_KEY'), maxRetries: 0 });
  const app = await client.callControlApplications.create({ application_name: 'crash', webhook_event_url: receiver.url });
  const placed = await fetch(`${base}/switchboard/v1/virtual_calls`, {
    method: 'POST', headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ from: '+15550001', to: '+15550002', connection_id: app.data?.id }),
  });
  const call = ((await placed.json()) as { data: { call_control_id: string } }).data;
  const ccid = call.call_control_id;
  await client.calls.actions.answer(ccid, {});
  const tone = new Int16Array(8000);
  for (let i = 0; i < tone.length; i++) tone[i] = Math.round(8000 * Math.sin((2 * Math.PI * 600 * i) / 8000));
  await client.calls.actions.startRecording(ccid, { format: 'wav', channels: 'single' });
  await client.calls.actions.startPlayback(ccid, { playback_content: Buffer.from(encodeWav(tone)).toString('base64'), audio_type: 'wav', loop: 'infinity' });
  await receiver.waitForEvent('call.playback.started', ccid);
  const recordedFor = Date.now();
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await server.kill();
  const killedAfterMs = Date.now() - recordedFor;

  server = await ChildServer.start(env);
  const saved = await receiver.waitForEvent('call.recording.saved', ccid, 15_000);
  const payload = saved.body.data?.payload as Record<string, unknown>;
  const types = receiver.eventTypes(ccid);
  assert.ok(types.indexOf('call.hangup') < types.indexOf('call.recording.saved'), 'the call ended, then its recording was saved');
  const url = (payload['recording_urls'] as Record<string, string>)['wav'] as string;
  const res = await fetch(url);
  assert.equal(res.status, 200);
  const wav = parseWav(new Uint8Array(await res.arrayBuffer()));
  const pcm = Int16Array.from(wav.samples[0] as Float32Array, (v) => Math.round(v * 32767));
  const [span] = soundSpans(pcm);
  assert.ok(span, 'the recovered file holds the audio');
  // Everything the server had before the kill, less at most the last 200 ms buffer.
  assert.ok(span[1] - span[0] >= killedAfterMs - 400, `recovered ${span[1] - span[0]} ms of ${killedAfterMs} ms`);
  assert.ok(toneShare(pcm, 600, span[0], span[1]) > 0.9);
  assert.equal(Number(payload['duration_millis']), pcm.length / 8);
});
