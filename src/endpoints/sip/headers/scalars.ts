import { SipParseError } from '../errors.js';
import { isDigit, isToken, isWs, parseBoundedInt, trimWs } from '../syntax.js';

/** CSeq: `1*DIGIT LWS Method` (RFC 3261 §20.16); the number must fit 32 bits (RFC 4475 §3.1.2.4). */
export interface CSeq {
  seq: number;
  method: string;
}

export const MAX_CSEQ = 0xffffffff;

export function parseCSeq(value: string): CSeq {
  const s = trimWs(value);
  let i = 0;
  while (i < s.length && isDigit(s.charCodeAt(i))) i++;
  const seq = parseBoundedInt(s.slice(0, i), MAX_CSEQ);
  if (seq === null) throw fail('CSeq', 'sequence number missing or above 2^32-1');
  if (!isWs(s.charCodeAt(i))) throw fail('CSeq', 'missing method');
  const method = trimWs(s.slice(i));
  if (!isToken(method)) throw fail('CSeq', 'bad method');
  return { seq, method };
}

export function formatCSeq(cseq: CSeq): string {
  return `${cseq.seq} ${cseq.method}`;
}

/** Max-Forwards: 0-255 (RFC 3261 §20.22); leading zeros allowed (RFC 4475 §3.1.1.1). */
export function parseMaxForwards(value: string): number {
  const n = parseBoundedInt(trimWs(value), 255);
  if (n === null) throw fail('Max-Forwards', 'not a number between 0 and 255');
  return n;
}

/** Content-Length: digits only; a sign or a word is malformed (RFC 4475 §3.1.2.3). */
export function parseContentLength(value: string, max: number): number {
  const n = parseBoundedInt(trimWs(value), Number.MAX_SAFE_INTEGER);
  if (n === null) throw new SipParseError('bad-content-length', `bad Content-Length ${JSON.stringify(value.slice(0, 20))}`, 400, 'Content-Length');
  if (n > max) throw new SipParseError('too-large', `Content-Length ${n} exceeds the limit of ${max}`, 513, 'Content-Length');
  return n;
}

function fail(header: string, why: string): SipParseError {
  return new SipParseError('bad-header', `malformed ${header} header: ${why}`, 400, header);
}
