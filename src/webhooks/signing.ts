import { createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

export const WEBHOOK_USER_AGENT = 'telnyx-webhooks (Switchboard)';

/**
 * A fresh Ed25519 key pair. `publicKey` is the raw 32-byte key in padded standard base64,
 * the form Mission Control hands out and applications put in TELNYX_PUBLIC_KEY.
 */
export function generateSigningKey(): { privateKeyPem: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: rawPublicKeyBase64(publicKey),
  };
}

function rawPublicKeyBase64(key: KeyObject): string {
  // The JWK `x` member is exactly the raw key, which spares us from slicing the SPKI DER by hand.
  const { x } = key.export({ format: 'jwk' });
  if (typeof x !== 'string') throw new Error('Ed25519 public key has no raw form');
  const raw = Buffer.from(x, 'base64url');
  if (raw.length !== 32) throw new Error(`Ed25519 public key must be 32 bytes, got ${raw.length}`);
  return raw.toString('base64');
}

/**
 * Signs webhook deliveries so that `client.webhooks.unwrap()` accepts them in every 7.x SDK.
 *
 * Two header sets go on every delivery, because the SDK changed verification mid-major:
 * - telnyx@7.0–7.17 pass the headers to the `standardwebhooks` library, which wants
 *   `webhook-id`/`webhook-timestamp`/`webhook-signature` and checks an HMAC-SHA256 keyed by
 *   base64-decoding whatever string the app configured as its public key.
 * - telnyx@≥7.19 (and 6.x) verify Telnyx's own scheme: Ed25519 over `${timestamp}|${body}`
 *   in `telnyx-signature-ed25519`, with `telnyx-timestamp`.
 * Each SDK ignores the other's headers, so sending both lets one server feed apps on either line.
 *
 * The HMAC key is derived from the public key, so it proves nothing to someone who knows that
 * key; that weakness belongs to the older SDKs' design, and only the Ed25519 signature is a real
 * authenticity guarantee. Apps that care should be on ≥7.19.
 */
export class WebhookSigner {
  readonly publicKey: string;
  private readonly privateKey: KeyObject;
  private readonly hmacKey: Buffer;

  constructor(privateKeyPem: string) {
    this.privateKey = createPrivateKey(privateKeyPem);
    if (this.privateKey.asymmetricKeyType !== 'ed25519') {
      throw new Error(`webhook signing key must be Ed25519, got ${this.privateKey.asymmetricKeyType ?? 'unknown'}`);
    }
    this.publicKey = rawPublicKeyBase64(createPublicKey(this.privateKey));
    this.hmacKey = Buffer.from(this.publicKey, 'base64');
  }

  /**
   * Headers for one HTTP attempt. `body` must be the exact string sent; `nowMs` must be wall-clock
   * time, since receivers reject timestamps more than 300 s from their own clock. `messageId`
   * should stay the same across retries of one event (Standard Webhooks uses it for dedup).
   */
  headers(body: string, nowMs: number, messageId: string): Record<string, string> {
    const timestamp = String(Math.floor(nowMs / 1000));
    const ed25519 = sign(null, Buffer.from(`${timestamp}|${body}`, 'utf8'), this.privateKey).toString('base64');
    const hmac = createHmac('sha256', this.hmacKey).update(`${messageId}.${timestamp}.${body}`, 'utf8').digest('base64');
    return {
      'content-type': 'application/json',
      'user-agent': WEBHOOK_USER_AGENT,
      'telnyx-timestamp': timestamp,
      'telnyx-signature-ed25519': ed25519,
      'webhook-id': messageId,
      'webhook-timestamp': timestamp,
      'webhook-signature': `v1,${hmac}`,
    };
  }
}
