import { SipParseError } from '../errors.js';
import { isWs, quote, readQuoted, scanToken, skipWs } from '../syntax.js';
import { MAX_PARAMS } from './params.js';

/**
 * WWW-Authenticate / Proxy-Authenticate / Authorization / Proxy-Authorization values:
 * `scheme LWS auth-param *(COMMA auth-param)` (RFC 3261 §25.1, RFC 2617 §1.2).
 */
export interface AuthHeader {
  scheme: string;
  /** Parameter names lower-cased, values unquoted, in received order. */
  params: Map<string, string>;
}

export function parseAuthHeader(value: string, header: string): AuthHeader {
  const s = value;
  let i = skipWs(s, 0);
  const schemeEnd = scanToken(s, i);
  if (schemeEnd === i) throw fail(header, 'missing scheme');
  const scheme = s.slice(i, schemeEnd);
  const params = new Map<string, string>();
  i = skipWs(s, schemeEnd);
  if (i < s.length && i === schemeEnd) throw fail(header, 'missing space after scheme');
  while (i < s.length) {
    if (params.size >= MAX_PARAMS) throw fail(header, 'too many parameters');
    const nameEnd = scanToken(s, i);
    if (nameEnd === i) throw fail(header, 'empty parameter');
    const name = s.slice(i, nameEnd).toLowerCase();
    i = skipWs(s, nameEnd);
    if (s.charCodeAt(i) !== 0x3d) throw fail(header, `parameter ${name} without "="`);
    i = skipWs(s, i + 1);
    const read = readValue(s, i, header);
    params.set(name, read.value);
    i = skipWs(s, read.end);
    if (i < s.length) {
      if (s.charCodeAt(i) !== 0x2c) throw fail(header, 'expected "," between parameters');
      i = skipWs(s, i + 1);
    }
  }
  return { scheme, params };
}

/** Token values are read up to the next comma or space: peers are lax about quoting here. */
function readValue(s: string, i: number, header: string): { value: string; end: number } {
  if (s.charCodeAt(i) === 0x22) return readQuoted(s, i, header);
  let end = i;
  while (end < s.length && s.charCodeAt(end) !== 0x2c && !isWs(s.charCodeAt(end))) end++;
  if (end === i) throw fail(header, 'empty parameter value');
  return { value: s.slice(i, end), end };
}

/** Renders params in order; names listed in `bare` are written unquoted (e.g. nc, qop, algorithm). */
export function formatAuthHeader(auth: AuthHeader, bare: ReadonlySet<string>): string {
  const parts: string[] = [];
  for (const [name, value] of auth.params) parts.push(`${name}=${bare.has(name) ? value : quote(value)}`);
  return `${auth.scheme} ${parts.join(', ')}`;
}

function fail(header: string, why: string): SipParseError {
  return new SipParseError('bad-header', `malformed ${header} header: ${why}`, 400, header);
}
