import { errors } from './errors.js';

type RawQuery = Record<string, string | string[] | undefined>;

export interface Page {
  number: number;
  size: number;
}

/** The spec's page bounds for these lists: page[size] 1..250, default 20. */
const DEFAULT_PAGE_SIZE = 20;
const MAX_PAGE_SIZE = 250;

/**
 * The query of a paged list with deepObject filters, as the SDK sends it (`filter[from]=…`,
 * `filter[created_at][gte]=…`, `page[number]=…`). Every `filter[…]` and `page[…]` key must be one
 * the endpoint accepts: a misspelt filter is a 422, not a silently wider result. Other query
 * parameters are ignored.
 */
export class ListQuery {
  constructor(private readonly query: RawQuery, acceptedFilters: readonly string[]) {
    const accepted = new Set([...acceptedFilters, 'page[number]', 'page[size]']);
    for (const key of Object.keys(query)) {
      if ((key.startsWith('filter[') || key.startsWith('page[') || key === 'filter' || key === 'page') && !accepted.has(key)) {
        throw errors.invalidQueryParameter(key, `The query parameter '${key}' is not accepted by this endpoint.`);
      }
    }
  }

  /** page[number] (≥ 1, default 1) and page[size] (1..250, default 20). */
  page(): Page {
    const number = this.positiveInt('page[number]', 1);
    const size = this.positiveInt('page[size]', DEFAULT_PAGE_SIZE);
    if (size > MAX_PAGE_SIZE) throw errors.invalidQueryParameter('page[size]', `page[size] must be between 1 and ${MAX_PAGE_SIZE}.`);
    return { number, size };
  }

  /** A single-valued parameter; sent twice it is ambiguous, so refused. */
  string(name: string): string | undefined {
    const value = this.query[name];
    if (Array.isArray(value)) throw errors.invalidQueryParameter(name, `The query parameter '${name}' was sent more than once.`);
    return value;
  }

  /** An ISO 8601 bound as epoch ms; `gte` rounds sub-millisecond digits up and `lte` down, so the bound stays inclusive. */
  time(name: string, bound: 'gte' | 'lte'): number | undefined {
    const text = this.string(name);
    if (text === undefined) return undefined;
    const ms = parseIsoTime(text, bound);
    if (ms === null) {
      throw errors.invalidQueryParameter(name, `${name} must be an ISO 8601 date-time, e.g. 2019-03-29T11:10:00Z.`);
    }
    return ms;
  }

  private positiveInt(name: string, fallback: number): number {
    const raw = this.query[name];
    if (raw === undefined) return fallback;
    const text = Array.isArray(raw) ? raw[raw.length - 1] : raw;
    const value = Number(text);
    if (text === undefined || text.trim() === '' || !Number.isSafeInteger(value) || value < 1) {
      throw errors.invalidQueryParameter(name, `${name} must be a positive integer.`);
    }
    return value;
  }
}

/** The PaginationMeta of the spec. */
export function pageMeta(page: Page, total: number): { page_number: number; page_size: number; total_pages: number; total_results: number } {
  return { page_number: page.number, page_size: page.size, total_pages: Math.max(1, Math.ceil(total / page.size)), total_results: total };
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?([Zz]|[+-]\d{2}(?::?\d{2})?)?)?$/;

/**
 * A date (midnight UTC) or date-time; without an offset it is UTC. A `+` offset that arrived
 * as a space (an unencoded `+` in a query string) is read as `+`.
 */
export function parseIsoTime(input: string, bound: 'gte' | 'lte' = 'lte'): number | null {
  const text = input.trim().replace(/^(\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?) (\d{2}(?::?\d{2})?)$/, '$1+$2');
  const m = ISO.exec(text);
  if (!m) return null;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone] = m;
  const year = Number(y), month = Number(mo), day = Number(d), hour = Number(h), minute = Number(mi), second = Number(s);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return null;
  const digits = frac.padEnd(3, '0');
  let ms = Date.UTC(year, month - 1, day, hour, minute, second, Number(digits.slice(0, 3)));
  if (new Date(ms).getUTCDate() !== day) return null; // 2019-02-30 and the like
  if (bound === 'gte' && /[1-9]/.test(digits.slice(3))) ms += 1;
  if (zone && zone !== 'Z' && zone !== 'z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const body = zone.slice(1).replace(':', '');
    const oh = Number(body.slice(0, 2)), om = Number(body.slice(2) || '0');
    if (oh > 23 || om > 59) return null;
    ms -= sign * (oh * 60 + om) * 60_000;
  }
  return ms;
}
