/**
 * The one error type that parsing untrusted SIP bytes may throw. It carries the response a UAS
 * should send back (RFC 3261 §8.2, §21) so the transport can answer a broken request without
 * knowing which check failed.
 */
import type { SipHeaders } from './headers/header-list.js';

export type SipParseErrorCode =
  | 'empty'
  | 'too-large'
  | 'incomplete'
  | 'bad-start-line'
  | 'bad-version'
  | 'bad-status'
  | 'bad-request-uri'
  | 'bad-header'
  | 'bad-content-length'
  | 'missing-header'
  | 'duplicate-header'
  | 'cseq-mismatch'
  | 'bad-uri'
  | 'internal';

export class SipParseError extends Error {
  override readonly name = 'SipParseError';
  /**
   * The headers of a request whose start line or framing was rejected, when they could be read,
   * so that a UAS can still answer it (with 400 or 505) instead of staying silent.
   */
  requestHeaders?: SipHeaders;

  constructor(
    readonly code: SipParseErrorCode,
    message: string,
    /** The status a UAS answers a request with when this check fails (400 unless told). */
    readonly status = 400,
    /** The header at fault, in its canonical name, when one is. */
    readonly header?: string,
  ) {
    super(message);
  }
}

export function badHeader(header: string, why: string): SipParseError {
  return new SipParseError('bad-header', `malformed ${header} header: ${why}`, 400, header);
}
