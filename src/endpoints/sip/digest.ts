import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../util/clock.js';
import { SipParseError } from './errors.js';
import { formatAuthHeader, parseAuthHeader } from './headers/auth.js';
import type { SipRequest, SipResponse } from './message.js';

/**
 * HTTP Digest as SIP uses it (RFC 3261 §22.4, RFC 2617, RFC 7616): computing credentials for a
 * challenge (UAC, outbound trunks) and checking a client's credentials (UAS, inbound trunks).
 * qop=auth, qop=auth-int and the RFC 2069 no-qop form; MD5 and SHA-256, with their -sess variants.
 */
export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess';

const ALGORITHMS: ReadonlyMap<string, DigestAlgorithm> = new Map([
  ['md5', 'MD5'],
  ['md5-sess', 'MD5-sess'],
  ['sha-256', 'SHA-256'],
  ['sha-256-sess', 'SHA-256-sess'],
]);

export interface DigestChallenge {
  realm: string;
  nonce: string;
  opaque: string | null;
  algorithm: DigestAlgorithm;
  /** qop options offered; empty for an RFC 2069 challenge. */
  qop: string[];
  stale: boolean;
  /** From Proxy-Authenticate (407): answer with Proxy-Authorization. */
  proxy: boolean;
}

export interface DigestCredentials {
  username: string;
  password: string;
}

/** Parses one challenge. Throws SipParseError for malformed or non-Digest values. */
export function parseChallenge(value: string, proxy = false): DigestChallenge {
  const header = proxy ? 'Proxy-Authenticate' : 'WWW-Authenticate';
  const auth = parseAuthHeader(value, header);
  if (auth.scheme.toLowerCase() !== 'digest') throw new SipParseError('bad-header', `unsupported scheme ${auth.scheme}`, 400, header);
  const realm = auth.params.get('realm');
  const nonce = auth.params.get('nonce');
  if (realm === undefined || nonce === undefined) throw new SipParseError('bad-header', 'challenge without realm or nonce', 400, header);
  const algorithm = ALGORITHMS.get((auth.params.get('algorithm') ?? 'MD5').toLowerCase());
  if (!algorithm) throw new SipParseError('bad-header', `unsupported algorithm ${auth.params.get('algorithm') ?? ''}`, 400, header);
  const qop = (auth.params.get('qop') ?? '').split(',').map((q) => q.trim().toLowerCase()).filter((q) => q.length > 0);
  return { realm, nonce, opaque: auth.params.get('opaque') ?? null, algorithm, qop, stale: auth.params.get('stale')?.toLowerCase() === 'true', proxy };
}

/** The first usable Digest challenge of a 401 or 407; null when there is none. */
export function challengeOf(response: SipResponse): DigestChallenge | null {
  const proxy = response.status === 407;
  for (const value of response.headers.getAll(proxy ? 'proxy-authenticate' : 'www-authenticate')) {
    try {
      return parseChallenge(value, proxy);
    } catch (err) {
      if (!(err instanceof SipParseError)) throw err;
    }
  }
  return null;
}

export interface DigestInput {
  username: string;
  password: string;
  realm: string;
  nonce: string;
  method: string;
  uri: string;
  algorithm?: DigestAlgorithm;
  /** 'auth', 'auth-int', or absent for RFC 2069. */
  qop?: string;
  /** Nonce count, as the 8 hex digits sent in `nc`. */
  nc?: string;
  cnonce?: string;
  /** The message body, for auth-int. */
  body?: Buffer;
}

/** request-digest (RFC 2617 §3.2.2.1, RFC 7616 §3.4.1). */
export function digestResponse(input: DigestInput): string {
  const algorithm = input.algorithm ?? 'MD5';
  const hash = (s: string | Buffer): string => createHash(algorithm.startsWith('SHA-256') ? 'sha256' : 'md5').update(s).digest('hex');
  let ha1 = hash(`${input.username}:${input.realm}:${input.password}`);
  if (algorithm.endsWith('-sess')) ha1 = hash(`${ha1}:${input.nonce}:${input.cnonce ?? ''}`);
  const ha2 = input.qop === 'auth-int' ? hash(`${input.method}:${input.uri}:${hash(input.body ?? Buffer.alloc(0))}`) : hash(`${input.method}:${input.uri}`);
  if (input.qop === undefined) return hash(`${ha1}:${input.nonce}:${ha2}`);
  return hash(`${ha1}:${input.nonce}:${input.nc ?? '00000001'}:${input.cnonce ?? ''}:${input.qop}:${ha2}`);
}

const BARE = new Set(['algorithm', 'nc', 'qop']);

export interface AuthorizeOptions {
  /** Fixed for tests; random otherwise. */
  cnonce?: string;
  nc?: number;
}

/** The header (name and value) answering `challenge` for `request` (§22.2). */
export function authorize(
  challenge: DigestChallenge,
  credentials: DigestCredentials,
  request: SipRequest,
  options: AuthorizeOptions = {},
): { name: 'Authorization' | 'Proxy-Authorization'; value: string } {
  const qop = challenge.qop.includes('auth') ? 'auth' : challenge.qop.includes('auth-int') ? 'auth-int' : undefined;
  const cnonce = options.cnonce ?? randomBytes(8).toString('hex');
  const nc = (options.nc ?? 1).toString(16).padStart(8, '0');
  const input: DigestInput = { ...credentials, realm: challenge.realm, nonce: challenge.nonce, method: request.method, uri: request.uri, algorithm: challenge.algorithm, body: request.body };
  if (qop !== undefined) Object.assign(input, { qop, nc, cnonce });
  const params = new Map<string, string>([
    ['username', credentials.username],
    ['realm', challenge.realm],
    ['nonce', challenge.nonce],
    ['uri', request.uri],
    ['response', digestResponse(input)],
    ['algorithm', challenge.algorithm],
  ]);
  if (challenge.opaque !== null) params.set('opaque', challenge.opaque);
  if (qop !== undefined) {
    params.set('qop', qop);
    params.set('nc', nc);
    params.set('cnonce', cnonce);
  }
  return { name: challenge.proxy ? 'Proxy-Authorization' : 'Authorization', value: formatAuthHeader({ scheme: 'Digest', params }, BARE) };
}

export interface DigestVerifierOptions {
  realm: string;
  clock: Clock;
  /** Looks up a user's password; undefined for unknown users. */
  password: (username: string) => string | undefined;
  /** How long a nonce stays valid. Default 5 minutes. */
  nonceTtlMs?: number;
  /** Key for nonce signatures; random per process by default. */
  secret?: Buffer;
}

export type VerifyResult = 'ok' | 'missing' | 'invalid' | 'stale';

/**
 * UAS side. Nonces are self-validating (time + HMAC), so no per-nonce state is kept; an expired
 * but genuine nonce yields `stale`, which the challenge reports so clients retry silently.
 */
export class DigestVerifier {
  private readonly secret: Buffer;
  private readonly ttl: number;

  constructor(private readonly options: DigestVerifierOptions) {
    this.secret = options.secret ?? randomBytes(32);
    this.ttl = options.nonceTtlMs ?? 5 * 60_000;
  }

  /** A WWW-Authenticate value. */
  challenge(stale = false): string {
    const params = new Map([['realm', this.options.realm], ['nonce', this.nonce()], ['algorithm', 'MD5'], ['qop', 'auth']]);
    const value = formatAuthHeader({ scheme: 'Digest', params }, new Set(['algorithm']));
    return stale ? `${value}, stale=TRUE` : value;
  }

  verify(request: SipRequest): VerifyResult {
    const header = request.headers.get('authorization');
    if (header === undefined) return 'missing';
    let auth;
    try {
      auth = parseAuthHeader(header, 'Authorization');
    } catch (err) {
      if (err instanceof SipParseError) return 'invalid';
      throw err;
    }
    const p = auth.params;
    const username = p.get('username');
    const nonce = p.get('nonce');
    const response = p.get('response');
    if (auth.scheme.toLowerCase() !== 'digest' || username === undefined || nonce === undefined || response === undefined) return 'invalid';
    if (p.get('realm') !== this.options.realm || p.get('uri') !== request.uri) return 'invalid';
    const age = this.nonceAge(nonce);
    if (age === null) return 'invalid';
    const password = this.options.password(username);
    if (password === undefined) return 'invalid';
    const algorithm = ALGORITHMS.get((p.get('algorithm') ?? 'MD5').toLowerCase()) ?? 'MD5';
    const expected = digestResponse({
      username, password, realm: this.options.realm, nonce, method: request.method, uri: request.uri, algorithm, body: request.body,
      ...(p.has('qop') ? { qop: p.get('qop') ?? '', nc: p.get('nc') ?? '', cnonce: p.get('cnonce') ?? '' } : {}),
    });
    if (!safeEqual(expected, response.toLowerCase())) return 'invalid';
    return age > this.ttl ? 'stale' : 'ok';
  }

  private nonce(): string {
    const stamp = Buffer.alloc(8);
    stamp.writeBigUInt64BE(BigInt(Math.floor(this.options.clock.now())));
    return Buffer.concat([stamp, this.sign(stamp)]).toString('base64url');
  }

  /** Milliseconds since the nonce was issued, or null when it is not one of ours. */
  private nonceAge(nonce: string): number | null {
    const raw = Buffer.from(nonce, 'base64url');
    if (raw.length !== 24) return null;
    const stamp = raw.subarray(0, 8);
    if (!timingSafeEqual(raw.subarray(8), this.sign(stamp))) return null;
    return this.options.clock.now() - Number(stamp.readBigUInt64BE());
  }

  private sign(stamp: Buffer): Buffer {
    return createHmac('sha256', this.secret).update(stamp).digest().subarray(0, 16);
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
