import { parseNameAddr } from './headers/name-addr.js';
import { splitList } from './headers/split.js';
import { newCSeq } from './ids.js';
import { SipRequest, setBody } from './message.js';
import type { SipMessage, SipResponse } from './message.js';
import { formatUri, parseUri } from './uri.js';
import type { Uri } from './uri.js';

/**
 * A dialog (RFC 3261 §12): identified by Call-ID and the two tags, it remembers the route set,
 * the remote target and both CSeq counters, and builds the requests sent inside it.
 */
export interface DialogId {
  callId: string;
  localTag: string;
  remoteTag: string;
}

export type DialogState = 'early' | 'confirmed' | 'terminated';

export interface BodyInit {
  body?: Buffer | string;
  contentType?: string;
  headers?: ReadonlyArray<readonly [string, string]>;
}

export function dialogKey(callId: string, localTag: string, remoteTag: string): string {
  return `${callId}\u0000${localTag}\u0000${remoteTag}`;
}

/** Methods that refresh the remote target and therefore carry our Contact (§12.2.1.1). */
const TARGET_REFRESH = new Set(['INVITE', 'UPDATE', 'SUBSCRIBE', 'NOTIFY', 'REFER']);

export class Dialog {
  state: DialogState;
  /** Our CSeq counter; null until we send our first request as UAS (§12.1.1). */
  localSeq: number | null;
  /** The peer's CSeq counter; null until the peer sends a request as UAC (§12.1.2). */
  remoteSeq: number | null;
  remoteTarget: string;

  private constructor(
    readonly id: DialogId,
    /** Our From (as UAC) or To (as UAS) header value, with our tag. */
    readonly localParty: string,
    /** The peer's header value, with its tag. */
    readonly remoteParty: string,
    readonly localContact: string,
    /** Route header values to send, in order (§12.1.1, §12.1.2). */
    readonly routeSet: readonly string[],
    remoteTarget: string,
    localSeq: number | null,
    remoteSeq: number | null,
    state: DialogState,
  ) {
    this.remoteTarget = remoteTarget;
    this.localSeq = localSeq;
    this.remoteSeq = remoteSeq;
    this.state = state;
  }

  /**
   * §12.1.1: the UAS side, from the INVITE and our 2xx (or tagged 1xx, for an early dialog).
   * `fallbackTarget` stands in for a missing Contact (RFC 2543 peers): usually the packet source.
   */
  static asUas(invite: SipRequest, response: SipResponse, localContact: string, fallbackTarget?: string): Dialog {
    const id: DialogId = { callId: invite.callId(), localTag: response.toTag() ?? '', remoteTag: invite.fromTag() ?? '' };
    return new Dialog(
      id,
      response.headers.get('to') ?? '',
      invite.headers.get('from') ?? '',
      localContact,
      routeValues(invite),
      targetOf(invite) ?? fallbackTarget ?? invite.uri,
      null,
      invite.cseq().seq,
      response.status < 200 ? 'early' : 'confirmed',
    );
  }

  /** §12.1.2: the UAC side, from our INVITE and the peer's 2xx (or tagged 1xx). */
  static asUac(invite: SipRequest, response: SipResponse, localContact: string): Dialog {
    const id: DialogId = { callId: invite.callId(), localTag: invite.fromTag() ?? '', remoteTag: response.toTag() ?? '' };
    return new Dialog(
      id,
      invite.headers.get('from') ?? '',
      response.headers.get('to') ?? '',
      localContact,
      routeValues(response).reverse(),
      targetOf(response) ?? invite.uri,
      invite.cseq().seq,
      null,
      response.status < 200 ? 'early' : 'confirmed',
    );
  }

  get key(): string {
    return dialogKey(this.id.callId, this.id.localTag, this.id.remoteTag);
  }

  /**
   * A request inside the dialog (§12.2.1.1), without Via (the transport user adds it). ACK and
   * CANCEL reuse the current CSeq; every other method takes the next one.
   */
  createRequest(method: string, init: BodyInit = {}): SipRequest {
    if (method !== 'ACK' && method !== 'CANCEL') this.localSeq = this.localSeq === null ? newCSeq() : this.localSeq + 1;
    return this.build(method, this.localSeq ?? 0, init);
  }

  /** §13.2.2.4: the ACK for a 2xx carries the INVITE's CSeq number. */
  createAck(inviteSeq: number, init: BodyInit = {}): SipRequest {
    return this.build('ACK', inviteSeq, init);
  }

  /** Where in-dialog requests go first: the top route, or the remote target without routes. */
  nextHop(): Uri {
    const first = this.routeSet[0];
    return first !== undefined ? parseNameAddr(first, 'Route').uri : parseUri(this.remoteTarget);
  }

  /**
   * §12.2.2: a request from the peer. False when its CSeq is lower than one already seen, which
   * the caller answers with 500. ACK and CANCEL do not advance the counter.
   */
  acceptRemoteSeq(request: SipRequest): boolean {
    const seq = request.cseq().seq;
    if (this.remoteSeq !== null && seq < this.remoteSeq) return false;
    if (request.method !== 'ACK' && request.method !== 'CANCEL') this.remoteSeq = seq;
    return true;
  }

  /** Target refresh (§12.2): a re-INVITE or its 2xx may move the peer's Contact. */
  refreshTarget(message: SipMessage): void {
    const target = targetOf(message);
    if (target !== null) this.remoteTarget = target;
  }

  private build(method: string, seq: number, init: BodyInit): SipRequest {
    const { requestUri, routes } = this.routing();
    const req = new SipRequest(method, requestUri);
    req.headers.append('Max-Forwards', '70');
    for (const route of routes) req.headers.append('Route', route);
    req.headers.append('From', this.localParty);
    req.headers.append('To', this.remoteParty);
    req.headers.append('Call-ID', this.id.callId);
    req.headers.append('CSeq', `${seq} ${method}`);
    if (TARGET_REFRESH.has(method)) req.headers.append('Contact', this.localContact);
    for (const [name, value] of init.headers ?? []) req.headers.append(name, value);
    setBody(req, init.body, init.contentType);
    return req;
  }

  /** Loose routing when the first route has `lr`; otherwise strict routing (§12.2.1.1). */
  private routing(): { requestUri: string; routes: string[] } {
    const first = this.routeSet[0];
    if (first === undefined) return { requestUri: this.remoteTarget, routes: [] };
    const firstUri = parseNameAddr(first, 'Route').uri;
    if (firstUri.kind === 'sip' && firstUri.params.has('lr')) return { requestUri: this.remoteTarget, routes: [...this.routeSet] };
    return { requestUri: formatUri(stripForRequestUri(firstUri)), routes: [...this.routeSet.slice(1), `<${this.remoteTarget}>`] };
  }
}

function routeValues(message: SipMessage): string[] {
  return message.headers.getAll('record-route').flatMap((line) => splitList(line)).filter((v) => v.length > 0);
}

function targetOf(message: SipMessage): string | null {
  const uri = message.contactUri();
  return uri ? formatUri(uri) : null;
}

/** §19.1.1: method and headers are not allowed in a Request-URI. */
function stripForRequestUri(uri: Uri): Uri {
  if (uri.kind !== 'sip') return uri;
  const params = uri.params.clone().delete('method');
  return { ...uri, params, headers: [] };
}
