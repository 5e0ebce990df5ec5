import { SipParseError } from './errors.js';

/**
 * Character classes and scanners of the RFC 3261 §25 grammar. Everything scans by char code in a
 * single forward pass: no regular expressions, so no backtracking on hostile input.
 */

const TOKEN_EXTRA = "-.!%*_+`'~";
const UNRESERVED_MARK = "-_.!~*'()";

function table(extra: string, alnum = true): Uint8Array {
  const t = new Uint8Array(128);
  if (alnum) {
    for (let c = 48; c <= 57; c++) t[c] = 1;
    for (let c = 65; c <= 90; c++) t[c] = 1;
    for (let c = 97; c <= 122; c++) t[c] = 1;
  }
  for (let i = 0; i < extra.length; i++) t[extra.charCodeAt(i)] = 1;
  return t;
}

export const TOKEN_CHARS = table(TOKEN_EXTRA);
/** URI component classes (§25.1): unreserved plus the component's own extras. */
export const USER_CHARS = table(UNRESERVED_MARK + '&=+$,;?/');
export const PASSWORD_CHARS = table(UNRESERVED_MARK + '&=+$,');
export const PARAM_CHARS = table(UNRESERVED_MARK + '[]/:&+$');
export const HEADER_CHARS = table(UNRESERVED_MARK + '[]/?:+$');
export const HOST_CHARS = table('-._');
export const SCHEME_CHARS = table('+-.');
/** Characters a generic absoluteURI may carry unescaped (RFC 3986 reserved + unreserved). */
export const URIC_CHARS = table(UNRESERVED_MARK + ";/?:@&=+$,[]#%");

export function inTable(t: Uint8Array, c: number): boolean {
  return c < 128 && t[c] === 1;
}

export function isWs(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

export function skipWs(s: string, i: number): number {
  while (i < s.length && isWs(s.charCodeAt(i))) i++;
  return i;
}

/** End index of the token starting at i (i itself when there is none). */
export function scanToken(s: string, i: number): number {
  while (i < s.length && inTable(TOKEN_CHARS, s.charCodeAt(i))) i++;
  return i;
}

export function isToken(s: string): boolean {
  return s.length > 0 && scanToken(s, 0) === s.length;
}

/**
 * Reads a quoted-string starting at the opening quote. Quoted pairs are unescaped; an
 * unterminated string is a parse error (RFC 4475 §3.1.2.6).
 */
export function readQuoted(s: string, start: number, header: string): { value: string; end: number } {
  let out = '';
  let runStart = start + 1;
  for (let i = start + 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x5c) {
      if (i + 1 >= s.length) break;
      out += s.slice(runStart, i) + s.charAt(i + 1);
      i++;
      runStart = i + 1;
    } else if (c === 0x22) {
      return { value: out + s.slice(runStart, i), end: i + 1 };
    }
  }
  throw new SipParseError('bad-header', `unterminated quoted string in ${header}`, 400, header);
}

/** Renders a quoted-string, escaping the two characters that need it. */
export function quote(value: string): string {
  let out = '"';
  for (let i = 0; i < value.length; i++) {
    const ch = value.charAt(i);
    out += ch === '"' || ch === '\\' ? '\\' + ch : ch;
  }
  return out + '"';
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/**
 * Checks every character of a URI component against its class, allowing `%HH` escapes, and
 * returns the unescaped text. Escapes decode as UTF-8 octets (RFC 3261 §19.1.2).
 */
export function decodeComponent(s: string, allowed: Uint8Array, what: string): string {
  let hasEscape = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      if (hexValue(s.charCodeAt(i + 1)) < 0 || hexValue(s.charCodeAt(i + 2)) < 0) {
        throw new SipParseError('bad-uri', `bad escape in URI ${what}`);
      }
      hasEscape = true;
      i += 2;
    } else if (c < 128 && allowed[c] !== 1) {
      throw new SipParseError('bad-uri', `character ${JSON.stringify(s.charAt(i))} not allowed in URI ${what}`);
    } else if (c < 0x20 || c === 0x7f) {
      throw new SipParseError('bad-uri', `control character in URI ${what}`);
    }
  }
  return hasEscape ? unescape(s) : s;
}

function unescape(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      bytes.push(hexValue(s.charCodeAt(i + 1)) * 16 + hexValue(s.charCodeAt(i + 2)));
      i += 2;
    } else if (c < 0x80) {
      bytes.push(c);
    } else {
      for (const b of Buffer.from(s.charAt(i), 'utf8')) bytes.push(b);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Escapes every character outside `allowed` (UTF-8 octets for non-ASCII). */
export function encodeComponent(s: string, allowed: Uint8Array): string {
  let plain = true;
  for (let i = 0; i < s.length && plain; i++) plain = inTable(allowed, s.charCodeAt(i));
  if (plain) return s;
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    out += b < 128 && allowed[b] === 1 ? String.fromCharCode(b) : '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/**
 * Parses a run of decimal digits with an upper bound, tolerating leading zeros (RFC 4475
 * §3.1.1.1) but refusing values beyond `max` without ever building a huge number.
 */
export function parseBoundedInt(s: string, max: number): number | null {
  if (s.length === 0) return null;
  let value = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!isDigit(c)) return null;
    value = value * 10 + (c - 48);
    if (value > max) return null;
  }
  return value;
}

/** Trims SP and HTAB only: String.prototype.trim would also eat U+FEFF and other Unicode spaces. */
export function trimWs(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isWs(s.charCodeAt(start))) start++;
  while (end > start && isWs(s.charCodeAt(end - 1))) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

export function trimWsEnd(s: string): string {
  let end = s.length;
  while (end > 0 && isWs(s.charCodeAt(end - 1))) end--;
  return end === s.length ? s : s.slice(0, end);
}
