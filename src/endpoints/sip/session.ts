import type { Dialog } from './dialog.js';
import { createResponse } from './message.js';
import type { SipRequest, SipResponse } from './message.js';
import type { ServerTransaction } from './transaction/server-transaction.js';
import type { SipAddress, TransportProtocol } from './transport.js';
import { TwoXxRetransmitter } from './two-xx.js';
import { bodyOf, reply, replyUnsupported } from './ua-core.js';
import type { CallEndInfo, DialogOwner, SessionBody, UaCore } from './ua-core.js';

export interface SessionHooks {
  ended(info: CallEndInfo): void;
  info(request: SipRequest): void;
  /**
   * Answers a re-INVITE's offer. Return a body to accept with it, null to refuse (488), or
   * undefined to answer with the current local body (a session refresh).
   */
  reinvite?(offer: SessionBody | null, request: SipRequest): SessionBody | null | undefined;
}

export type ReinviteResult = { ok: true; answer: SessionBody | null } | { ok: false; status: number };

/**
 * Everything that happens inside an established dialog, for either role: BYE both ways,
 * re-INVITE both ways, INFO, OPTIONS, the UAS's 2xx retransmission until ACK and the UAC's ACK
 * (re)sending. Calls own one once their dialog is confirmed.
 */
export class DialogSession implements DialogOwner {
  /** No more events go to the call; the dialog may still wait for an ACK before sending BYE. */
  private closed = false;
  private released = false;
  private byePending = false;
  private twoXx: TwoXxRetransmitter | null = null;
  private ackWaiter: ((ack: SipRequest) => void) | null = null;
  private lastAck: SipRequest | null = null;
  private reinviting = false;

  constructor(
    private readonly core: UaCore,
    readonly dialog: Dialog,
    private readonly protocol: TransportProtocol,
    private readonly hooks: SessionHooks,
    private localBody: SessionBody | null,
  ) {
    core.registerDialog(dialog.key, this);
  }

  get active(): boolean {
    return !this.closed;
  }

  /** Our 2xx is out and its ACK has not arrived yet. */
  get awaitingAck(): boolean {
    return this.twoXx?.active ?? false;
  }

  /** Null when the peer's target is not a SIP URI: requests are then not sent at all. */
  private get destination(): SipAddress | null {
    return this.core.destinationFor(this.dialog.nextHop(), this.protocol);
  }

  /** UAS: resend `response` until the ACK arrives; BYE and end the call if it never does. */
  awaitAck(response: SipResponse, destination: SipAddress, onAck?: (ack: SipRequest) => void): void {
    this.ackWaiter = onAck ?? null;
    this.twoXx = new TwoXxRetransmitter(this.core.clock, this.core.timers, () => this.core.sendMessage(response, destination), () => {
      this.sendBye();
      this.release();
      this.close({ by: 'local', reason: 'ack-timeout' });
    });
    this.twoXx.start();
  }

  handleAck(ack: SipRequest): void {
    if (!this.twoXx?.active) return;
    this.twoXx.stop();
    const waiter = this.ackWaiter;
    this.ackWaiter = null;
    if (this.byePending) {
      this.byePending = false;
      this.sendBye();
      this.release();
      return;
    }
    waiter?.(ack);
  }

  /** UAC: ACK a 2xx to INVITE (§13.2.2.4), remembered for the peer's retransmissions. */
  sendAck(inviteSeq: number, body?: SessionBody): void {
    const init = body ? { body: body.body, contentType: body.contentType } : {};
    this.lastAck = this.dialog.createAck(inviteSeq, { ...init, headers: this.core.standardHeaders().filter(([n]) => n !== 'Allow') });
    const destination = this.destination;
    if (destination) this.core.sendAck(this.lastAck, destination);
  }

  /** A retransmitted 2xx: the ACK got lost, send it again. */
  handleStray2xx(response: SipResponse): void {
    const destination = this.destination;
    if (this.lastAck && destination && response.cseq().seq === this.lastAck.cseq().seq) this.core.sendAck(this.lastAck, destination);
  }

  handleRequest(request: SipRequest, tx: ServerTransaction): void {
    if (!this.dialog.acceptRemoteSeq(request)) return reply(this.core, tx, 500);
    switch (request.method) {
      case 'BYE':
        reply(this.core, tx, 200);
        this.release();
        return this.close({ by: 'remote', reason: 'bye' });
      case 'INVITE':
        return this.answerReinvite(request, tx);
      case 'OPTIONS':
        return reply(this.core, tx, 200, [['Accept', 'application/sdp']]);
      case 'INFO':
        reply(this.core, tx, 200);
        if (!this.closed) this.hooks.info(request);
        return;
      default:
        return replyUnsupported(this.core, tx);
    }
  }

  /** Ends the call now; the BYE waits for the ACK if our 2xx is still unacknowledged (§15). */
  bye(): void {
    if (this.closed) return;
    this.close({ by: 'local', reason: 'bye' });
    if (this.twoXx?.active) {
      this.byePending = true;
      return;
    }
    this.sendBye();
    this.release();
  }

  /** Sends INFO (e.g. DTMF as application/dtmf-relay); the result is not awaited. */
  sendInfo(body: SessionBody): void {
    if (this.closed) return;
    const destination = this.destination;
    if (!destination) return;
    const info = this.dialog.createRequest('INFO', { body: body.body, contentType: body.contentType, headers: this.core.standardHeaders() });
    this.core.sendRequest(info, destination, { onResponse: () => undefined });
  }

  /** Sends a re-INVITE with a new offer; 491 at once if another one is in progress (§14.1). */
  reinvite(offer: SessionBody, done: (result: ReinviteResult) => void): void {
    if (this.closed || this.reinviting || this.twoXx?.active) return done({ ok: false, status: 491 });
    const destination = this.destination;
    if (!destination) return done({ ok: false, status: 416 });
    this.reinviting = true;
    const request = this.dialog.createRequest('INVITE', { body: offer.body, contentType: offer.contentType, headers: this.core.standardHeaders() });
    const finish = (result: ReinviteResult): void => {
      this.reinviting = false;
      done(result);
      // §14.1: a 481 or 408 to a re-INVITE ends the dialog.
      if (!result.ok && (result.status === 481 || result.status === 408)) this.bye();
    };
    this.core.sendRequest(request, destination, {
      onResponse: (res) => {
        if (res.status < 200) return;
        if (res.status >= 300) return finish({ ok: false, status: res.status });
        this.dialog.refreshTarget(res);
        this.localBody = offer;
        this.sendAck(request.cseq().seq);
        finish({ ok: true, answer: bodyOf(res) });
      },
      onTimeout: () => finish({ ok: false, status: 408 }),
      onTransportError: () => finish({ ok: false, status: 503 }),
    });
  }

  /** Drops the dialog without signalling (UA shutdown after BYE, or a failed setup). */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.twoXx?.stop();
    this.core.unregisterDialog(this.dialog.key, this);
    this.dialog.state = 'terminated';
  }

  private answerReinvite(request: SipRequest, tx: ServerTransaction): void {
    if (this.closed) return reply(this.core, tx, 481);
    // §14.2: an INVITE while our own is pending gets 491; one while our 2xx awaits ACK gets 500.
    if (this.reinviting) return reply(this.core, tx, 491);
    if (this.twoXx?.active) return reply(this.core, tx, 500, [['Retry-After', '1']]);
    const offer = bodyOf(request);
    const answer = this.hooks.reinvite ? this.hooks.reinvite(offer, request) : undefined;
    if (answer === null) return reply(this.core, tx, 488);
    const body = answer ?? this.localBody;
    if (answer) this.localBody = answer;
    this.dialog.refreshTarget(request);
    const response = createResponse(request, 200, {
      headers: [['Contact', this.dialog.localContact], ...this.core.standardHeaders()],
      ...(body ? { body: body.body, contentType: body.contentType } : {}),
    });
    tx.respond(response);
    this.awaitAck(response, tx.destination);
  }

  private sendBye(): void {
    const destination = this.destination;
    if (!destination) return;
    const bye = this.dialog.createRequest('BYE', { headers: this.core.standardHeaders().filter(([n]) => n !== 'Allow') });
    this.core.sendRequest(bye, destination, { onResponse: () => undefined });
  }

  private close(info: CallEndInfo): void {
    if (this.closed) return;
    this.closed = true;
    this.hooks.ended(info);
  }
}
