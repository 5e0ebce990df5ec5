import { SipParseError } from './errors.js';
import { displayName, SINGLE_VALUED } from './headers/names.js';
import type { SipMessage } from './message.js';
import { isWs } from './syntax.js';

const REQUIRED = ['via', 'from', 'to', 'call-id', 'cseq'] as const;

/**
 * The checks a message must pass before the transaction layer sees it (RFC 3261 §8.1.3.1,
 * §8.2, §16.3): the mandatory headers exist once each and parse, and a request's CSeq method
 * matches its Request-Line (RFC 4475 §3.1.2.17). Everything the stack later reads through the
 * typed accessors is parsed here once, so those reads cannot fail afterwards.
 */
export function validateMessage(msg: SipMessage): void {
  for (const name of REQUIRED) {
    if (!msg.headers.has(name)) throw new SipParseError('missing-header', `missing ${displayName(name)} header`, 400, displayName(name));
  }
  for (const name of SINGLE_VALUED) {
    if (msg.headers.count(name) > 1) throw new SipParseError('duplicate-header', `more than one ${displayName(name)} header`, 400, displayName(name));
  }
  msg.vias();
  msg.from();
  msg.to();
  checkCallId(msg.callId());
  const cseq = msg.cseq();
  msg.maxForwards();
  msg.contacts();
  msg.routes();
  msg.recordRoutes();
  if (msg.kind === 'request' && cseq.method !== msg.method) {
    throw new SipParseError('cseq-mismatch', `CSeq method ${cseq.method} does not match ${msg.method}`, 400, 'CSeq');
  }
}

function checkCallId(callId: string): void {
  for (let i = 0; i < callId.length; i++) {
    if (isWs(callId.charCodeAt(i))) throw new SipParseError('bad-header', 'Call-ID contains whitespace', 400, 'Call-ID');
  }
}
