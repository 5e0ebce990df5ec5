import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Telnyx from 'telnyx';
import TelnyxLegacy from 'telnyx-7-17';
import { WebhookReceiver } from '../../src/testing/webhook-receiver.js';
import { ChildServer, freePort } from '../helpers/child-server.js';

describe('the switchboard command', () => {
  let dir: string;
  let receiver: WebhookReceiver;
  const servers: ChildServer[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'switchboard-config-'));
    receiver = await new WebhookReceiver().start();
  });

  after(async () => {
    for (const s of servers) await s.stop();
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('on first start creates and prints an API key and a public key the SDK accepts, and keeps them', async () => {
    const port = await freePort();
    const env = { SWITCHBOARD_HOST: '127.0.0.1', SWITCHBOARD_PORT: String(port), SWITCHBOARD_DATA_DIR: join(dir, 'first'), SWITCHBOARD_CONFIG: join(dir, 'none.json') };
    writeFileSync(env.SWITCHBOARD_CONFIG, '{}');
    const first = await ChildServer.start(env);
    servers.push(first);
    const apiKey = first.printed('TELNYX_API_KEY');
    const publicKey = first.printed('TELNYX_PUBLIC_KEY');
    assert.equal(first.printed('TELNYX_BASE_URL'), `http://127.0.0.1:${port}/v2`);
    assert.ok(apiKey && apiKey.length >= 20);
    assert.match(publicKey ?? '', /^[A-Za-z0-9+/]{43}=$/, 'a 32-byte key in padded standard base64');
    const client = new Telnyx({ apiKey, baseURL: `http://127.0.0.1:${port}/v2`, publicKey, maxRetries: 0 });
    const list = await client.callControlApplications.list();
    assert.deepEqual(list.data, []);

    await first.stop();
    const second = await ChildServer.start(env);
    servers.push(second);
    assert.equal(second.printed('TELNYX_API_KEY'), apiKey);
    assert.equal(second.printed('TELNYX_PUBLIC_KEY'), publicKey);
    await second.stop();
  });

  it('gives its main thread the configured nice value', { skip: process.platform !== 'linux' }, async () => {
    const port = await freePort();
    const configFile = join(dir, 'nice.json');
    // A higher nice (lower priority) is allowed to any user, so this runs without root.
    writeFileSync(configFile, JSON.stringify({ mediaThreadNice: 6, sip: { rtpThreadNice: null } }));
    const server = await ChildServer.start({ SWITCHBOARD_HOST: '127.0.0.1', SWITCHBOARD_PORT: String(port), SWITCHBOARD_DATA_DIR: join(dir, 'nice'), SWITCHBOARD_CONFIG: configFile });
    servers.push(server);
    const niceOf = (task: string): number => {
      const stat = readFileSync(`/proc/${server.pid}/task/${task}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    };
    assert.equal(niceOf(String(server.pid)), 6);
    assert.ok(!server.output.join('').includes('default priority'), 'no refusal reported');
    await server.stop();
  });

  it('takes applications, numbers and API keys from its configuration file, and both SDK lines verify its webhooks', async () => {
    const port = await freePort();
    const configFile = join(dir, 'switchboard.json');
    writeFileSync(configFile, JSON.stringify({
      apiKeys: ['KEYfrom-the-config-file'],
      applications: [{ id: '1000000000000000001', application_name: 'configured', webhook_event_url: receiver.url }],
      numbers: { '+15557770000': '1000000000000000001' },
    }));
    const server = await ChildServer.start({ SWITCHBOARD_HOST: '127.0.0.1', SWITCHBOARD_PORT: String(port), SWITCHBOARD_DATA_DIR: join(dir, 'configured'), SWITCHBOARD_CONFIG: configFile });
    servers.push(server);
    assert.equal(server.printed('TELNYX_API_KEY'), undefined, 'a configured key is not printed');
    const publicKey = server.printed('TELNYX_PUBLIC_KEY') as string;
    const client = new Telnyx({ apiKey: 'KEYfrom-the-config-file', baseURL: `http://127.0.0.1:${port}/v2`, publicKey, maxRetries: 0 });
    const app = await client.callControlApplications.retrieve('1000000000000000001');
    assert.equal(app.data?.application_name, 'configured');

    const res = await fetch(`http://127.0.0.1:${port}/switchboard/v1/virtual_calls`, {
      method: 'POST',
      headers: { authorization: 'Bearer KEYfrom-the-config-file', 'content-type': 'application/json' },
      body: JSON.stringify({ from: '+15557770001', to: '+15557770000' }),
    });
    assert.equal(res.status, 200);
    const call = ((await res.json()) as { data: { call_control_id: string } }).data;
    const delivery = await receiver.waitForEvent('call.initiated', call.call_control_id);
    const modern = (await client.webhooks.unwrap(delivery.rawBody, { headers: delivery.headers })) as unknown as { data: { event_type: string } };
    assert.equal(modern.data.event_type, 'call.initiated');
    // SDK 7.0–7.17 verify Standard Webhooks headers instead, synchronously.
    const legacy = new TelnyxLegacy({ apiKey: 'x', publicKey });
    const old = legacy.webhooks.unwrap(delivery.rawBody, { headers: delivery.headers }) as unknown as { data: { event_type: string } };
    assert.equal(old.data.event_type, 'call.initiated');
    assert.throws(() => legacy.webhooks.unwrap(delivery.rawBody.replace('call.initiated', 'call.answered'), { headers: delivery.headers }));
  });
});
