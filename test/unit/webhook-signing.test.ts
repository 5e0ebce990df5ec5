import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { describe, it } from 'node:test';
import Telnyx from 'telnyx';
import Telnyx717 from 'telnyx-7-17';
import { generateSigningKey, WebhookSigner } from '../../src/webhooks/signing.js';

const body = JSON.stringify({
  data: {
    record_type: 'event',
    event_type: 'call.initiated',
    id: '691be6df-1ce6-4586-85dc-c8b4ea5715b6',
    occurred_at: '2026-01-01T00:00:00.000000Z',
    payload: { call_control_id: 'v3:abc', client_state: 'aGVsbG8=', to: '+15550001111', from: '+15550002222' },
  },
  meta: { attempt: 1, delivered_to: 'http://127.0.0.1:9/hook' },
});
const messageId = '691be6df-1ce6-4586-85dc-c8b4ea5715b6';

/** The SDK's union includes events without `data`, so narrow before reading it. */
function eventData(event: object): { id?: unknown; event_type?: unknown } | undefined {
  const data: unknown = 'data' in event ? event.data : undefined;
  return typeof data === 'object' && data !== null ? data : undefined;
}

function signed(nowMs = Date.now()): { signer: WebhookSigner; publicKey: string; headers: Record<string, string> } {
  const key = generateSigningKey();
  const signer = new WebhookSigner(key.privateKeyPem);
  return { signer, publicKey: key.publicKey, headers: signer.headers(body, nowMs, messageId) };
}

describe('generateSigningKey', () => {
  it('returns a PKCS#8 PEM and the raw 32-byte public key as padded base64', () => {
    const key = generateSigningKey();
    assert.match(key.privateKeyPem, /^-----BEGIN PRIVATE KEY-----\n/);
    assert.equal(key.publicKey.length, 44);
    assert.match(key.publicKey, /^[A-Za-z0-9+/]{43}=$/);
    assert.equal(Buffer.from(key.publicKey, 'base64').length, 32);
    assert.equal(new WebhookSigner(key.privateKeyPem).publicKey, key.publicKey);
    assert.notEqual(generateSigningKey().publicKey, key.publicKey);
  });
});

describe('WebhookSigner', () => {
  it('rejects a key that is not Ed25519', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    assert.throws(() => new WebhookSigner(pem), /Ed25519/);
  });

  it('emits both header sets with one timestamp, plus content type and a Switchboard user agent', () => {
    const now = Date.UTC(2026, 0, 1, 12, 0, 0, 987);
    const { headers } = signed(now);
    const ts = String(Math.floor(now / 1000));
    assert.equal(headers['telnyx-timestamp'], ts);
    assert.equal(headers['webhook-timestamp'], ts);
    assert.equal(headers['webhook-id'], messageId);
    assert.equal(headers['content-type'], 'application/json');
    assert.match(headers['user-agent'] ?? '', /telnyx-webhooks/);
    assert.match(headers['user-agent'] ?? '', /Switchboard/);
    assert.match(headers['webhook-signature'] ?? '', /^v1,[A-Za-z0-9+/]{43}=$/);
    assert.equal(Buffer.from(headers['telnyx-signature-ed25519'] ?? '', 'base64').length, 64);
  });

  it('signs `${ts}|${body}` with Ed25519 under the advertised public key', () => {
    const { publicKey, headers } = signed();
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey, 'base64').toString('base64url') }, format: 'jwk' });
    const message = Buffer.from(`${headers['telnyx-timestamp']}|${body}`);
    assert.ok(verify(null, message, key, Buffer.from(headers['telnyx-signature-ed25519'] ?? '', 'base64')));
  });
});

describe('telnyx@7.24 client.webhooks.unwrap (Ed25519)', () => {
  it('accepts a signed delivery and returns the event', async () => {
    const { publicKey, headers } = signed();
    const client = new Telnyx({ apiKey: 'x', publicKey });
    const event = await client.webhooks.unwrap(body, { headers });
    assert.equal(eventData(event)?.event_type, 'call.initiated');
    assert.equal(eventData(event)?.id, messageId);
  });

  it('rejects a tampered body', async () => {
    const { publicKey, headers } = signed();
    const client = new Telnyx({ apiKey: 'x', publicKey });
    await assert.rejects(client.webhooks.unwrap(body.replace('+15550001111', '+15550009999'), { headers }), /Signature verification failed/);
  });

  it('rejects a delivery signed with another key', async () => {
    const { headers } = signed();
    const client = new Telnyx({ apiKey: 'x', publicKey: generateSigningKey().publicKey });
    await assert.rejects(client.webhooks.unwrap(body, { headers }), /Signature verification failed/);
  });

  it('rejects a timestamp 301 s old but accepts one 299 s old', async () => {
    const key = generateSigningKey();
    const signer = new WebhookSigner(key.privateKeyPem);
    const client = new Telnyx({ apiKey: 'x', publicKey: key.publicKey });
    await assert.rejects(client.webhooks.unwrap(body, { headers: signer.headers(body, Date.now() - 301_000, messageId) }), /too old or too new/);
    await client.webhooks.unwrap(body, { headers: signer.headers(body, Date.now() - 299_000, messageId) });
  });
});

describe('telnyx@7.17 client.webhooks.unwrap (Standard Webhooks HMAC)', () => {
  it('accepts a signed delivery synchronously', () => {
    const { publicKey, headers } = signed();
    const client = new Telnyx717({ apiKey: 'x', publicKey });
    const event = client.webhooks.unwrap(body, { headers });
    assert.equal(eventData(event)?.event_type, 'call.initiated');
  });

  it('rejects a tampered body', () => {
    const { publicKey, headers } = signed();
    const client = new Telnyx717({ apiKey: 'x', publicKey });
    assert.throws(() => client.webhooks.unwrap(`${body} `, { headers }), /No matching signature found/);
  });

  it('rejects a delivery signed with another key', () => {
    const { headers } = signed();
    const client = new Telnyx717({ apiKey: 'x', publicKey: generateSigningKey().publicKey });
    assert.throws(() => client.webhooks.unwrap(body, { headers }), /No matching signature found/);
  });

  it('rejects a timestamp 301 s old', () => {
    const { publicKey, headers } = signed(Date.now() - 301_000);
    const client = new Telnyx717({ apiKey: 'x', publicKey });
    assert.throws(() => client.webhooks.unwrap(body, { headers }), /timestamp too old/);
  });

  it('binds the signature to webhook-id', () => {
    const { publicKey, headers } = signed();
    const client = new Telnyx717({ apiKey: 'x', publicKey });
    assert.throws(() => client.webhooks.unwrap(body, { headers: { ...headers, 'webhook-id': 'other' } }), /No matching signature found/);
  });
});
