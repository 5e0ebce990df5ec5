import { trimWs } from '../syntax.js';

/**
 * Splits a header value on commas that separate list elements (RFC 3261 §7.3.1), ignoring
 * commas inside quoted strings and angle-bracketed URIs. Elements are trimmed; empty elements
 * are kept so that strict parsers (Via, Contact) can reject `,,` (RFC 4475 §3.1.2.1).
 */
export function splitList(value: string): string[] {
  const out: string[] = [];
  let start = 0;
  let inQuotes = false;
  let inAngle = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (inQuotes) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inQuotes = false;
    } else if (c === 0x22) {
      inQuotes = true;
    } else if (c === 0x3c) {
      inAngle = true;
    } else if (c === 0x3e) {
      inAngle = false;
    } else if (c === 0x2c && !inAngle) {
      out.push(trimWs(value.slice(start, i)));
      start = i + 1;
    }
  }
  out.push(trimWs(value.slice(start)));
  return out;
}
