import { SipParseError } from '../errors.js';
import { HOST_CHARS, inTable, isDigit, isWs, parseBoundedInt, scanToken, skipWs } from '../syntax.js';
import { parseParams } from './params.js';
import type { ParamList } from './params.js';
import { splitList } from './split.js';

/** RFC 3261 §8.1.1.7: branches starting with this cookie are RFC 3261 transaction ids. */
export const MAGIC_COOKIE = 'z9hG4bK';

/** One Via value: `SIP/2.0/UDP host:port;branch=...` (RFC 3261 §20.42, RFC 3581). */
export interface Via {
  protocolName: string;
  protocolVersion: string;
  /** Upper-cased: UDP, TCP, TLS, SCTP or an extension. */
  transport: string;
  /** As written; IPv6 references keep their brackets. */
  host: string;
  port: number | null;
  params: ParamList;
}

export function parseVia(value: string): Via {
  const s = value;
  let i = skipWs(s, 0);
  const name = readToken(s, i, 'protocol name');
  i = expectSlash(s, name.end);
  const version = readToken(s, i, 'protocol version');
  i = expectSlash(s, version.end);
  const transport = readToken(s, i, 'transport');
  if (!isWs(s.charCodeAt(transport.end))) throw fail('missing space before sent-by');
  i = skipWs(s, transport.end);
  const sentBy = readSentBy(s, i);
  return {
    protocolName: name.text,
    protocolVersion: version.text,
    transport: transport.text.toUpperCase(),
    host: sentBy.host,
    port: sentBy.port,
    params: parseParams(s, sentBy.end, 'Via'),
  };
}

/** Every Via value across lines, in order. Empty elements are malformed (RFC 4475 §3.1.2.1). */
export function parseViaList(lines: readonly string[]): Via[] {
  const out: Via[] = [];
  for (const line of lines) {
    for (const item of splitList(line)) {
      if (item.length === 0) throw fail('empty list element');
      out.push(parseVia(item));
    }
  }
  return out;
}

function readToken(s: string, i: number, what: string): { text: string; end: number } {
  const end = scanToken(s, i);
  if (end === i) throw fail(`missing ${what}`);
  return { text: s.slice(i, end), end };
}

/** SLASH = SWS "/" SWS (RFC 3261 §25.1), so `SIP / 2.0 / UDP` is legal. */
function expectSlash(s: string, i: number): number {
  const at = skipWs(s, i);
  if (s.charCodeAt(at) !== 0x2f) throw fail('expected "/" in sent-protocol');
  return skipWs(s, at + 1);
}

function readSentBy(s: string, start: number): { host: string; port: number | null; end: number } {
  let i = start;
  if (s.charCodeAt(i) === 0x5b) {
    const close = s.indexOf(']', i);
    if (close < 0) throw fail('unterminated IPv6 reference');
    i = close + 1;
  } else {
    while (i < s.length && inTable(HOST_CHARS, s.charCodeAt(i))) i++;
  }
  if (i === start) throw fail('missing sent-by host');
  const host = s.slice(start, i);
  i = skipWs(s, i);
  if (s.charCodeAt(i) !== 0x3a) return { host, port: null, end: i };
  i = skipWs(s, i + 1);
  const portStart = i;
  while (i < s.length && isDigit(s.charCodeAt(i))) i++;
  const port = parseBoundedInt(s.slice(portStart, i), 65535);
  if (port === null) throw fail('bad sent-by port');
  return { host, port, end: i };
}

export function formatVia(via: Via): string {
  const port = via.port !== null ? `:${via.port}` : '';
  return `${via.protocolName}/${via.protocolVersion}/${via.transport} ${via.host}${port}${via.params.toString()}`;
}

export function viaBranch(via: Via): string | null {
  const b = via.params.get('branch');
  return typeof b === 'string' && b.length > 0 ? b : null;
}

/** `rport` as a number when the server filled it in (RFC 3581 §4), else null. */
export function viaRport(via: Via): number | null {
  const r = via.params.get('rport');
  return typeof r === 'string' ? parseBoundedInt(r, 65535) : null;
}

/** sent-by as a comparable key (host case-insensitive), for transaction matching (§17.2.3). */
export function sentByKey(via: Via): string {
  return `${via.host.toLowerCase()}:${via.port ?? ''}`;
}

function fail(why: string): SipParseError {
  return new SipParseError('bad-header', `malformed Via header: ${why}`, 400, 'Via');
}
