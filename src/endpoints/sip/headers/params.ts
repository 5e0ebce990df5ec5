import { SipParseError } from '../errors.js';
import { inTable, isWs, quote, readQuoted, scanToken, skipWs, TOKEN_CHARS } from '../syntax.js';

/**
 * Header parameters (`*( SEMI generic-param )`, RFC 3261 §25.1): ordered, names compared
 * case-insensitively, a value of null for a parameter written without `=`.
 */
export interface Param {
  readonly name: string;
  value: string | null;
}

/** Upper bound on parameters per value, so hostile input cannot make one header expensive. */
export const MAX_PARAMS = 64;

export class ParamList implements Iterable<Param> {
  private readonly items: Param[];

  constructor(items: Iterable<Param> = []) {
    this.items = [...items].map((p) => ({ name: p.name, value: p.value }));
  }

  /** undefined when absent, null when present without a value. */
  get(name: string): string | null | undefined {
    return this.find(name)?.value;
  }

  has(name: string): boolean {
    return this.find(name) !== undefined;
  }

  set(name: string, value: string | null): this {
    const existing = this.find(name);
    if (existing) existing.value = value;
    else this.items.push({ name, value });
    return this;
  }

  delete(name: string): this {
    const lower = name.toLowerCase();
    const at = this.items.findIndex((p) => p.name.toLowerCase() === lower);
    if (at >= 0) this.items.splice(at, 1);
    return this;
  }

  get size(): number {
    return this.items.length;
  }

  [Symbol.iterator](): Iterator<Param> {
    return this.items[Symbol.iterator]();
  }

  clone(): ParamList {
    return new ParamList(this.items);
  }

  /** `;name=value` for each, quoting values that are neither tokens nor hosts. */
  toString(): string {
    let out = '';
    for (const p of this.items) out += p.value === null ? `;${p.name}` : `;${p.name}=${formatParamValue(p.value)}`;
    return out;
  }

  private find(name: string): Param | undefined {
    const lower = name.toLowerCase();
    return this.items.find((p) => p.name.toLowerCase() === lower);
  }
}

/** gen-value = token / host / quoted-string: host adds the IPv6 characters to token. */
function isBareValueChar(c: number): boolean {
  return inTable(TOKEN_CHARS, c) || c === 0x3a || c === 0x5b || c === 0x5d;
}

export function formatParamValue(value: string): string {
  if (value.length === 0) return '""';
  for (let i = 0; i < value.length; i++) if (!isBareValueChar(value.charCodeAt(i))) return quote(value);
  return value;
}

/**
 * Parses `*( SEMI generic-param )` from `start` to the end of `s`, allowing SWS around `;` and
 * `=` (RFC 4475 §3.1.1.1). Empty parameters (`;;`) are malformed (§3.1.2.1).
 */
export function parseParams(s: string, start: number, header: string): ParamList {
  const params = new ParamList();
  let i = skipWs(s, start);
  while (i < s.length) {
    if (s.charCodeAt(i) !== 0x3b) throw fail(header, `expected ";" at ${JSON.stringify(s.slice(i, i + 12))}`);
    if (params.size >= MAX_PARAMS) throw fail(header, 'too many parameters');
    i = skipWs(s, i + 1);
    const nameEnd = scanToken(s, i);
    if (nameEnd === i) throw fail(header, 'empty parameter');
    const name = s.slice(i, nameEnd);
    i = skipWs(s, nameEnd);
    let value: string | null = null;
    if (s.charCodeAt(i) === 0x3d) {
      const read = readParamValue(s, skipWs(s, i + 1), header);
      value = read.value;
      i = skipWs(s, read.end);
    }
    params.set(name, value);
  }
  return params;
}

function readParamValue(s: string, i: number, header: string): { value: string; end: number } {
  if (s.charCodeAt(i) === 0x22) return readQuoted(s, i, header);
  let end = i;
  while (end < s.length && isBareValueChar(s.charCodeAt(end))) end++;
  if (end === i) throw fail(header, 'parameter without a value after "="');
  const next = s.charCodeAt(end);
  if (end < s.length && next !== 0x3b && !isWs(next)) throw fail(header, `bad character in parameter value`);
  return { value: s.slice(i, end), end };
}

function fail(header: string, why: string): SipParseError {
  return new SipParseError('bad-header', `malformed ${header} header: ${why}`, 400, header);
}
