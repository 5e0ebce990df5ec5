import { SipParseError } from '../errors.js';
import { inTable, isWs, quote, readQuoted, skipWs, TOKEN_CHARS, trimWs } from '../syntax.js';
import { formatUri, parseUri } from '../uri.js';
import type { Uri } from '../uri.js';
import { parseParams } from './params.js';
import type { ParamList } from './params.js';
import { splitList } from './split.js';

/**
 * From, To, Contact, Route and Record-Route values (RFC 3261 §20, §25.1):
 * `[display-name] <URI> *(;param)` or `addr-spec *(;param)`.
 */
export interface NameAddr {
  /** Unquoted and unescaped; null when absent. */
  displayName: string | null;
  uri: Uri;
  /** Header parameters (after the URI), such as tag, expires, q, lr. */
  params: ParamList;
}

export function parseNameAddr(value: string, header: string): NameAddr {
  const s = value;
  let i = skipWs(s, 0);
  if (i >= s.length) throw fail(header, 'empty value');
  if (s.charCodeAt(i) === 0x22) {
    const q = readQuoted(s, i, header);
    i = skipWs(s, q.end);
    if (s.charCodeAt(i) !== 0x3c) throw fail(header, 'quoted display name not followed by <URI>');
    return parseBracketed(s, i, q.value, header);
  }
  const lt = s.indexOf('<', i);
  if (lt >= 0) return parseBracketed(s, lt, tokenDisplayName(s.slice(i, lt), header), header);
  return parseAddrSpec(s, i, header);
}

/**
 * An unquoted display name is `*(token LWS)`. RFC 4475 §3.1.1.6 asks us to accept a missing LWS
 * before `<`; non-ASCII octets are tolerated too, since some phones send unquoted UTF-8 names.
 */
function tokenDisplayName(raw: string, header: string): string | null {
  const name = trimWs(raw);
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (!inTable(TOKEN_CHARS, c) && !isWs(c) && c < 0x80) {
      throw fail(header, `display name must be quoted to contain ${JSON.stringify(name.charAt(i))}`);
    }
  }
  return name.length > 0 ? name : null;
}

function parseBracketed(s: string, lt: number, displayName: string | null, header: string): NameAddr {
  const gt = s.indexOf('>', lt + 1);
  if (gt < 0) throw fail(header, 'missing ">"');
  const uriText = s.slice(lt + 1, gt);
  // RFC 4475 §3.1.2.14: whitespace inside the brackets is not part of any URI.
  if (uriText.length === 0 || isWs(uriText.charCodeAt(0)) || isWs(uriText.charCodeAt(uriText.length - 1))) {
    throw fail(header, 'whitespace or nothing inside <>');
  }
  return { displayName, uri: uriIn(uriText, header), params: parseParams(s, gt + 1, header) };
}

function parseAddrSpec(s: string, start: number, header: string): NameAddr {
  let end = start;
  while (end < s.length && s.charCodeAt(end) !== 0x3b && !isWs(s.charCodeAt(end))) end++;
  const uriText = s.slice(start, end);
  // §20: a URI with a comma, question mark or semicolon must be in name-addr form (§3.1.2.13).
  if (uriText.includes('?') || uriText.includes(',')) throw fail(header, 'URI with "?" or "," must be enclosed in <>');
  return { displayName: null, uri: uriIn(uriText, header), params: parseParams(s, end, header) };
}

function uriIn(text: string, header: string): Uri {
  try {
    return parseUri(text);
  } catch (err) {
    if (err instanceof SipParseError) throw fail(header, err.message);
    throw err;
  }
}

export function formatNameAddr(na: NameAddr): string {
  const display = na.displayName !== null ? `${quote(na.displayName)} ` : '';
  return `${display}<${formatUri(na.uri)}>${na.params.toString()}`;
}

export function tagOf(na: NameAddr): string | null {
  const tag = na.params.get('tag');
  return typeof tag === 'string' && tag.length > 0 ? tag : null;
}

/** Contact is either `*` (alone) or a list of name-addrs. */
export type ContactList = '*' | NameAddr[];

export function parseContactList(lines: readonly string[]): ContactList {
  const items: string[] = [];
  for (const line of lines) items.push(...splitList(line));
  if (items.length === 1 && items[0] === '*') return '*';
  return items.map((item) => {
    if (item.length === 0) throw fail('Contact', 'empty list element');
    if (item === '*') throw fail('Contact', '"*" must stand alone');
    return parseNameAddr(item, 'Contact');
  });
}

/** Route / Record-Route: lists of name-addrs, every element in <> (RFC 3261 §25.1). */
export function parseRouteList(lines: readonly string[], header: string): NameAddr[] {
  const out: NameAddr[] = [];
  for (const line of lines) {
    for (const item of splitList(line)) {
      if (item.length === 0) throw fail(header, 'empty list element');
      out.push(parseNameAddr(item, header));
    }
  }
  return out;
}

function fail(header: string, why: string): SipParseError {
  return new SipParseError('bad-header', `malformed ${header} header: ${why}`, 400, header);
}
