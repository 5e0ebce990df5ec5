import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import Telnyx from 'telnyx';
import { WebhookReceiver } from '../../src/testing/webhook-receiver.js';
import { ChildServer, freePort } from '../helpers/child-server.js';

interface Delivery {
  id: string;
  event_type: string;
  status: string;
  attempts: { succeeded: boolean; status_code: number | null }[];
}

const API_KEY = 'KEYcrash-test-0123456789';
let dataDir: string;
let receiver: WebhookReceiver;
let server: ChildServer | null = null;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'switchboard-crash-'));
  receiver = await new WebhookReceiver().start();
});

after(async () => {
  await server?.stop();
  await receiver.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function api<T>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${API_KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
  return (JSON.parse(text) as { data: T }).data;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

it('events accepted before kill -9 are delivered after restart, each exactly once and in order', async () => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const configFile = join(dataDir, 'switchboard.json');
  writeFileSync(configFile, JSON.stringify({ webhooks: { baseDelayMs: 100, maxDelayMs: 200, maxRounds: 1000 } }));
  const env = {
    SWITCHBOARD_HOST: '127.0.0.1', SWITCHBOARD_PORT: String(port), SWITCHBOARD_DATA_DIR: join(dataDir, 'data'),
    SWITCHBOARD_API_KEYS: API_KEY, SWITCHBOARD_CONFIG: configFile,
  };

  // The app's webhook endpoint is failing, so everything piles up in the outbox.
  receiver.setDefaultStatus(503);
  server = await ChildServer.start(env);
  const publicKey = server.printed('TELNYX_PUBLIC_KEY');
  const client = new Telnyx({ apiKey: API_KEY, baseURL: `${base}/v2`, publicKey, maxRetries: 0 });

  const app = await client.callControlApplications.create({ application_name: 'crash', webhook_event_url: receiver.url });
  const connectionId = app.data?.id as string;
  const finished = await api<{ id: string; call_control_id: string }>(base, 'POST', '/switchboard/v1/virtual_calls',
    { from: '+15550001', to: '+15550002', connection_id: connectionId });
  await client.calls.actions.answer(finished.call_control_id, {});
  await client.calls.actions.gather(finished.call_control_id, { terminating_digit: '#' });
  await api(base, 'POST', `/switchboard/v1/virtual_calls/${finished.id}/actions/send_dtmf`, { digits: '12#', duration_ms: 40, gap_ms: 10 });
  await until('gather.ended in the outbox', async () => {
    const d = await api<Delivery[]>(base, 'GET', `/switchboard/v1/webhook_deliveries?call_control_id=${encodeURIComponent(finished.call_control_id)}`);
    return d.some((e) => e.event_type === 'call.gather.ended') ? true : undefined;
  });
  await client.calls.actions.hangup(finished.call_control_id, {});
  // A second call is still up when the server dies.
  const orphan = await api<{ id: string; call_control_id: string }>(base, 'POST', '/switchboard/v1/virtual_calls',
    { from: '+15550003', to: '+15550002', connection_id: connectionId });
  assert.equal(receiver.received.length, 0, 'nothing was delivered while the receiver failed');

  await server.kill();
  receiver.setDefaultStatus(200);
  server = await ChildServer.start(env);
  assert.equal(server.printed('TELNYX_PUBLIC_KEY'), publicKey, 'the signing key survives the restart');

  const expectedFinished = ['call.initiated', 'call.answered', 'call.dtmf.received', 'call.dtmf.received',
    'call.dtmf.received', 'call.gather.ended', 'call.hangup'];
  await receiver.waitFor(() => receiver.eventTypes(finished.call_control_id).length === expectedFinished.length, 15_000);
  await receiver.waitForEvent('call.hangup', orphan.call_control_id, 15_000);

  assert.deepEqual(receiver.eventTypes(finished.call_control_id), expectedFinished);
  assert.deepEqual(receiver.eventTypes(orphan.call_control_id), ['call.initiated', 'call.hangup']);
  const orphanHangup = receiver.received.find((w) => w.body.data?.event_type === 'call.hangup' && w.body.data.payload?.['call_control_id'] === orphan.call_control_id);
  assert.equal(orphanHangup?.body.data?.payload?.['hangup_cause'], 'unspecified');

  const ids = receiver.received.map((w) => w.body.data?.id);
  assert.equal(new Set(ids).size, ids.length, 'no event was delivered twice');
  for (const w of receiver.received) {
    await client.webhooks.unwrap(w.rawBody, { headers: w.headers });
  }
  const deliveries = await api<Delivery[]>(base, 'GET', `/switchboard/v1/webhook_deliveries?call_control_id=${encodeURIComponent(finished.call_control_id)}`);
  for (const d of deliveries) {
    assert.equal(d.status, 'delivered', d.event_type);
    assert.equal(d.attempts.filter((a) => a.succeeded).length, 1, `${d.event_type} has exactly one successful attempt`);
  }
  // Later events of the call wait behind the head, so only the head was tried before the crash.
  assert.ok(deliveries[0]?.attempts.some((a) => a.status_code === 503), 'the failed attempts before the crash are on record');
});
