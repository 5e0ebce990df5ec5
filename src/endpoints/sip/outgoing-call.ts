import type { Timer } from '../../util/clock.js';
import { authorize, challengeOf } from './digest.js';
import type { DigestChallenge, DigestCredentials } from './digest.js';
import { Dialog } from './dialog.js';
import { TypedEmitter } from './emitter.js';
import { formatNameAddr } from './headers/name-addr.js';
import { ParamList } from './headers/params.js';
import { newCallId, newCSeq, newTag } from './ids.js';
import { createRequest } from './message.js';
import type { SipRequest, SipResponse } from './message.js';
import { DialogSession } from './session.js';
import type { SessionHooks } from './session.js';
import type { ClientTransaction } from './transaction/client-transaction.js';
import { createCancel } from './transaction/requests.js';
import type { SipAddress, TransportProtocol } from './transport.js';
import { parseUri } from './uri.js';
import type { CallEndInfo, SessionBody, UaCore } from './ua-core.js';

export interface OutgoingCallOptions {
  /** The callee's URI, used for To and (unless requestUri is given) the Request-URI. */
  to: string;
  /** Our URI for From. */
  from: string;
  fromDisplayName?: string;
  requestUri?: string;
  offer?: SessionBody;
  /** Default: the Request-URI's transport parameter, else UDP. */
  transport?: TransportProtocol;
  /** Send the INVITE (and its CANCEL) here instead of the Request-URI's host (an outbound proxy or trunk). */
  proxy?: { host: string; port: number };
  headers?: ReadonlyArray<readonly [string, string]>;
  /** Answers digest challenges (401/407) from outbound trunks. */
  credentials?: DigestCredentials;
  /** Chooses credentials per challenge; takes precedence over `credentials`. */
  onChallenge?: (challenge: DigestChallenge, response: SipResponse) => DigestCredentials | null | undefined;
  callId?: string;
}

export type CallFailureCause = 'rejected' | 'timeout' | 'transport-error' | 'cancelled';

export interface CallFailure {
  status: number;
  reason: string;
  cause: CallFailureCause;
  /** The final response, when one arrived. */
  response: SipResponse | null;
}

export type SipOutgoingCallEvents = {
  /** Every provisional response, 100 Trying included. */
  progress: [response: SipResponse];
  /** A 2xx arrived and has been acknowledged. */
  answered: [response: SipResponse];
  /** The call never got established (terminal). */
  failed: [failure: CallFailure];
  /** An answered call ended (terminal). */
  ended: [info: CallEndInfo];
  info: [request: SipRequest];
};

export type OutgoingCallState = 'calling' | 'early' | 'answered' | 'ended';

/** Maximum digest retries: one per challenge, one more when the server says the nonce was stale. */
const MAX_AUTH_ATTEMPTS = 2;

/** An INVITE we send (UAC, RFC 3261 §13.2), with CANCEL (§9.1), timeouts and digest retries (§22.2). */
export class SipOutgoingCall extends TypedEmitter<SipOutgoingCallEvents> {
  state: OutgoingCallState = 'calling';
  readonly callId: string;
  readonly localTag = newTag();
  onReinvite: SessionHooks['reinvite'] | undefined;
  private invite: SipRequest;
  private inviteTx: ClientTransaction | null = null;
  private readonly destination: SipAddress;
  private readonly protocol: TransportProtocol;
  private provisional = false;
  private cancelRequested = false;
  private cancelSent = false;
  private cancelTimer: Timer | null = null;
  private authAttempts = 0;
  private session: DialogSession | null = null;

  constructor(
    private readonly core: UaCore,
    private readonly options: OutgoingCallOptions,
  ) {
    super();
    const requestUri = parseUri(options.requestUri ?? options.to);
    const transportParam = requestUri.kind === 'sip' ? requestUri.params.get('transport')?.toUpperCase() : undefined;
    this.protocol = options.transport ?? (transportParam === 'TCP' ? 'TCP' : 'UDP');
    const destination = options.proxy ? { protocol: this.protocol, ...options.proxy } : core.destinationFor(requestUri, this.protocol);
    if (!destination) throw new Error(`cannot send an INVITE to a ${requestUri.kind === 'other' ? requestUri.scheme : requestUri.kind}: URI without a proxy`);
    this.destination = destination;
    this.callId = options.callId ?? newCallId(this.destination.host);
    this.invite = this.buildInvite(options.requestUri ?? options.to);
  }

  /** The INVITE as last sent (with credentials after a challenge). */
  get request(): SipRequest {
    return this.invite;
  }

  /** The dialog machinery once answered (re-INVITE, INFO). */
  get dialogSession(): DialogSession | null {
    return this.session;
  }

  start(): void {
    this.send(this.invite);
  }

  /** Cancels a call not yet answered; hangs up one that is (§9.1, §15). */
  cancel(): void {
    if (this.state === 'answered') return this.bye();
    if (this.state === 'ended' || this.cancelRequested) return;
    this.cancelRequested = true;
    // §9.1: CANCEL only after a provisional response; then give the INVITE 64*T1 to end.
    if (this.provisional) this.sendCancel();
    this.cancelTimer = this.core.clock.setTimer(64 * this.core.timers.T1, () => this.fail(487, 'Request Terminated', 'cancelled', null));
  }

  /** Hangs up; before an answer this is cancel(). */
  bye(): void {
    if (this.session && this.state === 'answered') this.session.bye();
    else this.cancel();
  }

  sendInfo(body: SessionBody): boolean {
    if (!this.session?.active) return false;
    this.session.sendInfo(body);
    return true;
  }

  /** A 2xx that matched no transaction: a retransmission, or another fork's answer (§13.2.2.4). */
  handleStray2xx(response: SipResponse): void {
    if (this.session && response.toTag() === this.session.dialog.id.remoteTag) {
      this.session.handleStray2xx(response);
      return;
    }
    this.ackAndBye(response);
  }

  private buildInvite(requestUri: string): SipRequest {
    const fromParams = new ParamList([{ name: 'tag', value: this.localTag }]);
    const from = formatNameAddr({ displayName: this.options.fromDisplayName ?? null, uri: parseUri(this.options.from), params: fromParams });
    const to = formatNameAddr({ displayName: null, uri: parseUri(this.options.to), params: new ParamList() });
    const offer = this.options.offer;
    return createRequest({
      method: 'INVITE',
      uri: requestUri,
      headers: [
        ['Max-Forwards', '70'],
        ['From', from],
        ['To', to],
        ['Call-ID', this.callId],
        ['CSeq', `${newCSeq()} INVITE`],
        ['Contact', this.core.contact(this.protocol)],
        ...this.core.standardHeaders(),
        ...(this.options.headers ?? []),
      ],
      ...(offer ? { body: offer.body, contentType: offer.contentType } : {}),
    });
  }

  private send(invite: SipRequest): void {
    this.inviteTx = this.core.sendRequest(invite, this.destination, {
      onResponse: (res, tx) => {
        if (tx === this.inviteTx) this.onResponse(res);
      },
      onTimeout: (tx) => {
        if (tx === this.inviteTx) this.fail(408, 'Request Timeout', this.cancelRequested ? 'cancelled' : 'timeout', null);
      },
      onTransportError: (_err, tx) => {
        if (tx === this.inviteTx) this.fail(503, 'Service Unavailable', 'transport-error', null);
      },
    });
  }

  private onResponse(res: SipResponse): void {
    if (res.status < 200) {
      if (this.state === 'ended') return;
      this.provisional = true;
      if (this.state === 'calling') this.state = 'early';
      this.emit('progress', res);
      if (this.cancelRequested && !this.cancelSent) this.sendCancel();
      return;
    }
    if (res.status < 300) return this.answered(res);
    if ((res.status === 401 || res.status === 407) && this.retryWithCredentials(res)) return;
    this.fail(res.status, res.reason, this.cancelRequested && res.status === 487 ? 'cancelled' : 'rejected', res);
  }

  private answered(res: SipResponse): void {
    // A 2xx that crossed our CANCEL, or came after we gave up: the dialog exists, so end it.
    if (this.state === 'ended' || this.cancelRequested) {
      this.ackAndBye(res);
      this.fail(487, 'Request Terminated', 'cancelled', res);
      return;
    }
    const dialog = Dialog.asUac(this.invite, res, this.core.contact(this.protocol));
    this.session = new DialogSession(this.core, dialog, this.protocol, this.hooks(), this.options.offer ?? null);
    this.session.sendAck(this.invite.cseq().seq);
    this.state = 'answered';
    this.emit('answered', res);
  }

  /** Acknowledges a 2xx we do not want and hangs that dialog up at once. */
  private ackAndBye(res: SipResponse): void {
    const dialog = Dialog.asUac(this.invite, res, this.core.contact(this.protocol));
    const session = new DialogSession(this.core, dialog, this.protocol, { ended: () => undefined, info: () => undefined }, null);
    session.sendAck(this.invite.cseq().seq);
    session.bye();
  }

  private retryWithCredentials(res: SipResponse): boolean {
    const challenge = challengeOf(res);
    if (!challenge || this.authAttempts >= MAX_AUTH_ATTEMPTS || (this.authAttempts > 0 && !challenge.stale)) return false;
    const credentials = this.options.onChallenge ? this.options.onChallenge(challenge, res) : this.options.credentials;
    if (!credentials) return false;
    this.authAttempts++;
    // §22.2: same Call-ID, From tag and body; CSeq up by one; a new Via is added when sent.
    const retry = this.invite.clone();
    retry.headers.delete('via').delete('authorization').delete('proxy-authorization');
    retry.headers.set('CSeq', `${this.invite.cseq().seq + 1} INVITE`);
    const header = authorize(challenge, credentials, retry);
    retry.headers.append(header.name, header.value);
    this.invite = retry;
    this.provisional = false;
    this.send(retry);
    return true;
  }

  private sendCancel(): void {
    this.cancelSent = true;
    this.core.transactions.sendRequest(createCancel(this.invite), this.destination, { onResponse: () => undefined });
  }

  private fail(status: number, reason: string, cause: CallFailure['cause'], response: SipResponse | null): void {
    if (this.state === 'ended' || this.state === 'answered') return;
    this.state = 'ended';
    this.cancelTimer?.cancel();
    this.emit('failed', { status, reason, cause, response });
  }

  private hooks(): SessionHooks {
    return {
      ended: (info) => {
        if (this.state !== 'answered') return;
        this.state = 'ended';
        this.emit('ended', info);
      },
      info: (request) => this.emit('info', request),
      reinvite: (offer, request) => (this.onReinvite ? this.onReinvite(offer, request) : undefined),
    };
  }
}
