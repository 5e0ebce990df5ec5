import type { SipParseError } from './errors.js';
import type { SipHeaders } from './headers/header-list.js';
import { newTag } from './ids.js';
import { SipResponse } from './message.js';

const COPIED = ['via', 'from', 'to', 'call-id', 'cseq'] as const;

/**
 * The error response for a request that failed parsing or validation (RFC 3261 §8.2, §21.4.1),
 * built from the raw header text alone. Null when the request lacks what a response needs to
 * be matched by the client (then silence is the only correct answer), or when it is an ACK.
 */
export function rejectionResponse(err: SipParseError, headers: SipHeaders): SipResponse | null {
  if (COPIED.some((name) => headers.count(name) === 0)) return null;
  const cseq = headers.get('cseq') ?? '';
  if (/\bACK\s*$/i.test(cseq)) return null;
  const detail = err.message.slice(0, 80).replace(/[\x00-\x1f\x7f]/g, ' ');
  const res = new SipResponse(err.status, err.status === 400 ? `Bad Request (${detail})` : undefined);
  for (const name of COPIED) {
    for (const value of headers.getAll(name)) {
      res.headers.append(name, name === 'to' && !/;\s*tag\s*=/i.test(value) ? `${value};tag=${newTag()}` : value);
    }
  }
  return res;
}
