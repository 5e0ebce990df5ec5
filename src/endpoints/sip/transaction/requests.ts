import { splitList } from '../headers/split.js';
import { SipRequest } from '../message.js';
import type { SipResponse } from '../message.js';

function topViaValue(request: SipRequest): string {
  return splitList(request.headers.get('via') ?? '')[0] ?? '';
}

/** Headers shared by ACK-for-non-2xx and CANCEL: same Request-URI, top Via, Route, From, Call-ID. */
function sibling(invite: SipRequest, method: 'ACK' | 'CANCEL', to: string): SipRequest {
  const req = new SipRequest(method, invite.uri);
  req.headers.append('Via', topViaValue(invite));
  req.headers.append('Max-Forwards', '70');
  for (const route of invite.headers.getAll('route')) req.headers.append('Route', route);
  req.headers.append('From', invite.headers.get('from') ?? '');
  req.headers.append('To', to);
  req.headers.append('Call-ID', invite.headers.get('call-id') ?? '');
  req.headers.append('CSeq', `${invite.cseq().seq} ${method}`);
  return req;
}

/** §17.1.1.3: the ACK a client transaction sends for a 300-699 response, To taken from it. */
export function createNon2xxAck(invite: SipRequest, response: SipResponse): SipRequest {
  return sibling(invite, 'ACK', response.headers.get('to') ?? '');
}

/** §9.1: CANCEL mirrors the INVITE it cancels, down to the branch, so it reaches the same server. */
export function createCancel(invite: SipRequest): SipRequest {
  return sibling(invite, 'CANCEL', invite.headers.get('to') ?? '');
}
