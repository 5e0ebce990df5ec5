import { SipParseError } from './errors.js';
import { MAX_PARAMS, ParamList } from './headers/params.js';
import {
  decodeComponent,
  encodeComponent,
  HEADER_CHARS,
  HOST_CHARS,
  inTable,
  isDigit,
  PARAM_CHARS,
  parseBoundedInt,
  PASSWORD_CHARS,
  SCHEME_CHARS,
  URIC_CHARS,
  USER_CHARS,
} from './syntax.js';

/**
 * URIs of RFC 3261 §19.1 (sip:, sips:), RFC 3966 (tel:) and any other absoluteURI, which is
 * kept opaque: a UA only needs to recognise it in order to answer 416 (§8.2.2.1).
 * Components are stored unescaped; formatting escapes them again.
 */
export interface SipUri {
  readonly kind: 'sip';
  scheme: 'sip' | 'sips';
  user: string | null;
  password: string | null;
  /** As written, IPv6 references keep their brackets: `[2001:db8::1]`. */
  host: string;
  port: number | null;
  params: ParamList;
  headers: Array<{ name: string; value: string }>;
}

export interface TelUri {
  readonly kind: 'tel';
  scheme: 'tel';
  number: string;
  params: ParamList;
}

export interface OtherUri {
  readonly kind: 'other';
  /** Lower-cased. */
  scheme: string;
  /** Everything after the first colon, as written. */
  opaque: string;
}

export type Uri = SipUri | TelUri | OtherUri;

const MAX_URI_LENGTH = 8192;

export function parseUri(text: string): Uri {
  if (text.length === 0 || text.length > MAX_URI_LENGTH) throw badUri('empty or oversized URI');
  const colon = text.indexOf(':');
  if (colon <= 0) throw badUri(`no scheme in ${JSON.stringify(text.slice(0, 40))}`);
  const scheme = text.slice(0, colon).toLowerCase();
  checkScheme(scheme);
  const rest = text.slice(colon + 1);
  if (scheme === 'sip' || scheme === 'sips') return parseSipParts(scheme, rest);
  if (scheme === 'tel') return parseTel(rest);
  if (rest.length === 0) throw badUri('empty URI after scheme');
  for (let i = 0; i < rest.length; i++) {
    const c = rest.charCodeAt(i);
    if (c < 128 && !inTable(URIC_CHARS, c)) throw badUri(`character ${JSON.stringify(rest.charAt(i))} not allowed in URI`);
  }
  return { kind: 'other', scheme, opaque: rest };
}

/** Parses a URI that must be sip: or sips:. */
export function parseSipUri(text: string): SipUri {
  const uri = parseUri(text);
  if (uri.kind !== 'sip') throw badUri(`not a SIP URI: ${JSON.stringify(text.slice(0, 40))}`);
  return uri;
}

function checkScheme(scheme: string): void {
  const first = scheme.charCodeAt(0);
  if (!((first >= 97 && first <= 122))) throw badUri('scheme must start with a letter');
  for (let i = 1; i < scheme.length; i++) {
    if (!inTable(SCHEME_CHARS, scheme.charCodeAt(i))) throw badUri('bad character in scheme');
  }
}

function parseSipParts(scheme: 'sip' | 'sips', rest: string): SipUri {
  const at = rest.indexOf('@');
  let user: string | null = null;
  let password: string | null = null;
  let hostStart = 0;
  if (at >= 0) {
    // '@' may not appear unescaped anywhere else in a SIP URI, so the first one ends userinfo.
    if (rest.indexOf('@', at + 1) >= 0) throw badUri('more than one "@" in SIP URI');
    const userinfo = rest.slice(0, at);
    const pw = userinfo.indexOf(':');
    const rawUser = pw >= 0 ? userinfo.slice(0, pw) : userinfo;
    if (rawUser.length === 0) throw badUri('empty user part');
    user = decodeComponent(rawUser, USER_CHARS, 'user');
    if (pw >= 0) password = decodeComponent(userinfo.slice(pw + 1), PASSWORD_CHARS, 'password');
    hostStart = at + 1;
  }
  const hp = parseHostPort(rest, hostStart);
  const uri: SipUri = { kind: 'sip', scheme, user, password, host: hp.host, port: hp.port, params: new ParamList(), headers: [] };
  let i = hp.end;
  const q = rest.indexOf('?', i);
  const paramsEnd = q >= 0 ? q : rest.length;
  if (i < paramsEnd) uri.params = parseUriParams(rest.slice(i + 1, paramsEnd));
  if (q >= 0) uri.headers = parseUriHeaders(rest.slice(q + 1));
  return uri;
}

function parseHostPort(s: string, start: number): { host: string; port: number | null; end: number } {
  let i = start;
  if (s.charCodeAt(i) === 0x5b) {
    const close = s.indexOf(']', i);
    if (close < 0) throw badUri('unterminated IPv6 reference');
    checkIpv6(s.slice(i + 1, close));
    i = close + 1;
  } else {
    while (i < s.length && inTable(HOST_CHARS, s.charCodeAt(i))) i++;
    if (i === start) throw badUri('empty host');
  }
  const host = s.slice(start, i);
  if (i < s.length && s.charCodeAt(i) !== 0x3a && s.charCodeAt(i) !== 0x3b && s.charCodeAt(i) !== 0x3f) {
    throw badUri(`bad character ${JSON.stringify(s.charAt(i))} in host`);
  }
  if (s.charCodeAt(i) !== 0x3a) return { host, port: null, end: i };
  const portStart = i + 1;
  let end = portStart;
  while (end < s.length && isDigit(s.charCodeAt(end))) end++;
  const port = parseBoundedInt(s.slice(portStart, end), 65535);
  if (port === null) throw badUri('bad port');
  if (end < s.length && s.charCodeAt(end) !== 0x3b && s.charCodeAt(end) !== 0x3f) throw badUri('bad character after port');
  return { host, port, end };
}

function checkIpv6(inner: string): void {
  if (inner.length < 2 || inner.length > 45) throw badUri('bad IPv6 reference');
  for (let i = 0; i < inner.length; i++) {
    const c = inner.charCodeAt(i);
    const hex = isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
    if (!hex && c !== 0x3a && c !== 0x2e) throw badUri('bad character in IPv6 reference');
  }
}

function parseUriParams(s: string): ParamList {
  const params = new ParamList();
  for (const part of s.split(';')) {
    if (params.size >= MAX_PARAMS) throw badUri('too many URI parameters');
    const eq = part.indexOf('=');
    const rawName = eq >= 0 ? part.slice(0, eq) : part;
    if (rawName.length === 0) throw badUri('empty URI parameter');
    const name = decodeComponent(rawName, PARAM_CHARS, 'parameter');
    const value = eq >= 0 ? decodeComponent(part.slice(eq + 1), PARAM_CHARS, 'parameter') : null;
    if (value === '') throw badUri('URI parameter with "=" but no value');
    params.set(name, value);
  }
  return params;
}

function parseUriHeaders(s: string): Array<{ name: string; value: string }> {
  const out: Array<{ name: string; value: string }> = [];
  for (const part of s.split('&')) {
    if (out.length >= MAX_PARAMS) throw badUri('too many URI headers');
    const eq = part.indexOf('=');
    if (eq <= 0) throw badUri('URI header without "name="');
    out.push({ name: decodeComponent(part.slice(0, eq), HEADER_CHARS, 'header'), value: decodeComponent(part.slice(eq + 1), HEADER_CHARS, 'header') });
  }
  return out;
}

function parseTel(rest: string): TelUri {
  const semi = rest.indexOf(';');
  const number = semi >= 0 ? rest.slice(0, semi) : rest;
  if (number.length === 0) throw badUri('empty telephone number');
  for (let i = 0; i < number.length; i++) {
    const c = number.charCodeAt(i);
    const ok = isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102) || '+-.()*#'.includes(number.charAt(i));
    if (!ok) throw badUri('bad character in telephone number');
  }
  return { kind: 'tel', scheme: 'tel', number, params: semi >= 0 ? parseUriParams(rest.slice(semi + 1)) : new ParamList() };
}

export function formatUri(uri: Uri): string {
  if (uri.kind === 'other') return `${uri.scheme}:${uri.opaque}`;
  if (uri.kind === 'tel') return `tel:${uri.number}${formatUriParams(uri.params)}`;
  let out = `${uri.scheme}:`;
  if (uri.user !== null) {
    out += encodeComponent(uri.user, USER_CHARS);
    if (uri.password !== null) out += ':' + encodeComponent(uri.password, PASSWORD_CHARS);
    out += '@';
  }
  out += uri.host;
  if (uri.port !== null) out += `:${uri.port}`;
  out += formatUriParams(uri.params);
  if (uri.headers.length > 0) {
    out += '?' + uri.headers.map((h) => `${encodeComponent(h.name, HEADER_CHARS)}=${encodeComponent(h.value, HEADER_CHARS)}`).join('&');
  }
  return out;
}

function formatUriParams(params: ParamList): string {
  let out = '';
  for (const p of params) {
    out += ';' + encodeComponent(p.name, PARAM_CHARS);
    if (p.value !== null) out += '=' + encodeComponent(p.value, PARAM_CHARS);
  }
  return out;
}

/** A SIP URI for `host[:port]`, the usual starting point for Contact and Request-URIs. */
export function sipUri(host: string, port: number | null = null, user: string | null = null): SipUri {
  return { kind: 'sip', scheme: 'sip', user, password: null, host, port, params: new ParamList(), headers: [] };
}

/** The host without IPv6 brackets, as sockets want it. */
export function hostAddress(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** Brackets an IPv6 literal for use in a URI or Via; leaves names and IPv4 alone. */
export function hostReference(address: string): string {
  return address.includes(':') && !address.startsWith('[') ? `[${address}]` : address;
}

function badUri(why: string): SipParseError {
  return new SipParseError('bad-uri', why);
}
