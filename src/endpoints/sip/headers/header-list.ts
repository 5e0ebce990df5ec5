import { trimWs } from '../syntax.js';
import { displayName, headerKey } from './names.js';
import { splitList } from './split.js';

export interface HeaderField {
  /** Wire spelling (canonical for known headers). */
  readonly name: string;
  /** Lower-cased long form, for lookups. */
  readonly key: string;
  /** Unfolded value, trimmed; never contains CR or LF. */
  readonly value: string;
}

/**
 * The header section in received order. Values are kept as text and parsed on demand by the
 * typed accessors, so a message that is only relayed or matched costs no parsing of headers the
 * stack never reads.
 */
export class SipHeaders implements Iterable<HeaderField> {
  private fields: HeaderField[] = [];

  /** Every line's value for one header, in order (no comma splitting). */
  getAll(name: string): string[] {
    const key = headerKey(name);
    const out: string[] = [];
    for (const f of this.fields) if (f.key === key) out.push(f.value);
    return out;
  }

  get(name: string): string | undefined {
    const key = headerKey(name);
    return this.fields.find((f) => f.key === key)?.value;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  count(name: string): number {
    const key = headerKey(name);
    let n = 0;
    for (const f of this.fields) if (f.key === key) n++;
    return n;
  }

  /** Values of a list header: every line split on top-level commas, empty elements dropped. */
  list(name: string): string[] {
    const out: string[] = [];
    for (const v of this.getAll(name)) for (const item of splitList(v)) if (item.length > 0) out.push(item);
    return out;
  }

  append(name: string, value: string): this {
    this.fields.push(field(name, value));
    return this;
  }

  prepend(name: string, value: string): this {
    this.fields.unshift(field(name, value));
    return this;
  }

  /** Replaces every occurrence with one field at the position of the first (or at the end). */
  set(name: string, value: string): this {
    const key = headerKey(name);
    const at = this.fields.findIndex((f) => f.key === key);
    const replacement = field(name, value);
    if (at < 0) {
      this.fields.push(replacement);
      return this;
    }
    this.fields = this.fields.filter((f, i) => i === at || f.key !== key);
    this.fields[at] = replacement;
    return this;
  }

  delete(name: string): this {
    const key = headerKey(name);
    this.fields = this.fields.filter((f) => f.key !== key);
    return this;
  }

  /** Replaces all values of a list header with `values`, one line each, where the first stood. */
  replaceList(name: string, values: readonly string[]): this {
    const key = headerKey(name);
    const at = this.fields.findIndex((f) => f.key === key);
    const rest = this.fields.filter((f) => f.key !== key);
    const insertAt = at < 0 ? rest.length : this.fields.slice(0, at).filter((f) => f.key !== key).length;
    rest.splice(insertAt, 0, ...values.map((v) => field(name, v)));
    this.fields = rest;
    return this;
  }

  /** Adds a field the parser has already split and checked, skipping re-validation. */
  appendField(f: HeaderField): this {
    this.fields.push(f);
    return this;
  }

  get size(): number {
    return this.fields.length;
  }

  [Symbol.iterator](): Iterator<HeaderField> {
    return this.fields[Symbol.iterator]();
  }

  clone(): SipHeaders {
    const copy = new SipHeaders();
    copy.fields = [...this.fields];
    return copy;
  }
}

function field(name: string, value: string): HeaderField {
  // A CR or LF in a value would let a caller inject headers; this is a programming error.
  if (/[\r\n]/.test(value) || /[\r\n:]/.test(name) || name.length === 0) {
    throw new Error(`invalid SIP header ${JSON.stringify(name)}: ${JSON.stringify(value.slice(0, 40))}`);
  }
  return { name: displayName(name), key: headerKey(name), value: trimWs(value) };
}

/** Builds a field without validation, for the parser, which has already split on CRLF. */
export function parsedField(name: string, value: string): HeaderField {
  return { name: displayName(name), key: headerKey(name), value };
}

