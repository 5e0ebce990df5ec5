import { Dialog } from './dialog.js';
import { TypedEmitter } from './emitter.js';
import type { NameAddr } from './headers/name-addr.js';
import { newTag } from './ids.js';
import { createResponse } from './message.js';
import type { SipRequest } from './message.js';
import { DialogSession } from './session.js';
import type { SessionHooks } from './session.js';
import type { ServerTransaction } from './transaction/server-transaction.js';
import type { SipAddress } from './transport.js';
import { bodyOf } from './ua-core.js';
import { hostReference } from './uri.js';
import type { CallEndInfo, SessionBody, UaCore } from './ua-core.js';

export type SipIncomingCallEvents = {
  /** The caller sent CANCEL before we answered; 487 has been sent. `ended` follows. */
  cancelled: [];
  /** The ACK for our 2xx arrived: media may flow both ways. */
  confirmed: [ack: SipRequest];
  /** Always the last event. */
  ended: [info: CallEndInfo];
  info: [request: SipRequest];
};

export type IncomingCallState = 'ringing' | 'accepted' | 'confirmed' | 'ended';

export type ExtraHeaders = ReadonlyArray<readonly [string, string]>;

/**
 * An INVITE we received, from ringing to hang-up (UAS, RFC 3261 §13.3). The methods return
 * false instead of throwing when the call is no longer in a state that allows them.
 */
export class SipIncomingCall extends TypedEmitter<SipIncomingCallEvents> {
  state: IncomingCallState = 'ringing';
  /** Our To tag: the same in every response, 487 included (§9.2). */
  readonly localTag = newTag();
  /** Set to answer re-INVITEs; see SessionHooks.reinvite. */
  onReinvite: SessionHooks['reinvite'] | undefined;
  private session: DialogSession | null = null;

  constructor(
    private readonly core: UaCore,
    readonly request: SipRequest,
    private readonly tx: ServerTransaction,
    readonly source: SipAddress,
  ) {
    super();
    tx.toTag = this.localTag;
    tx.onTransportError = () => this.end({ by: 'local', reason: 'transport-error' });
  }

  get callId(): string {
    return this.request.callId();
  }

  get from(): NameAddr {
    return this.request.from();
  }

  get to(): NameAddr {
    return this.request.to();
  }

  /** The caller's session description, when the INVITE carried one. */
  get offer(): SessionBody | null {
    return bodyOf(this.request);
  }

  /** A provisional response: 180 Ringing by default, 183 with early-media SDP. */
  progress(status = 180, body?: SessionBody, headers: ExtraHeaders = []): boolean {
    if (this.state !== 'ringing' || status <= 100 || status >= 200) return false;
    this.tx.respond(this.response(status, body, headers));
    return true;
  }

  /** 200 OK with our answer; retransmitted until the ACK (§13.3.1.4). */
  accept(answer?: SessionBody, headers: ExtraHeaders = []): boolean {
    if (this.state !== 'ringing') return false;
    const contact = this.core.contact(this.source.protocol);
    const response = this.response(200, answer, headers);
    this.tx.respond(response);
    const transport = this.source.protocol === 'TCP' ? ';transport=tcp' : '';
    const dialog = Dialog.asUas(this.request, response, contact, `sip:${hostReference(this.source.host)}:${this.source.port}${transport}`);
    this.session = new DialogSession(this.core, dialog, this.source.protocol, this.hooks(), answer ?? null);
    this.state = 'accepted';
    this.session.awaitAck(response, this.tx.destination, (ack) => {
      if (this.state !== 'accepted') return;
      this.state = 'confirmed';
      this.emit('confirmed', ack);
    });
    return true;
  }

  /** A final error response: 486 Busy Here by default. */
  reject(status = 486, reason?: string, headers: ExtraHeaders = []): boolean {
    if (this.state !== 'ringing' || status < 300 || status > 699) return false;
    const response = this.response(status, undefined, headers);
    if (reason !== undefined) response.reason = reason;
    this.tx.respond(response);
    this.end({ by: 'local', reason: 'rejected', status });
    return true;
  }

  /** Hangs up an answered call. Before the ACK, the BYE waits for it (§15). */
  bye(): boolean {
    if (!this.session || this.state === 'ended') return false;
    this.session.bye();
    return true;
  }

  /** Sends INFO in the dialog (e.g. DTMF). */
  sendInfo(body: SessionBody): boolean {
    if (!this.session?.active) return false;
    this.session.sendInfo(body);
    return true;
  }

  /** The re-INVITE machinery of the dialog, once answered. */
  get dialogSession(): DialogSession | null {
    return this.session;
  }

  /** Called by the UA after the transaction layer answered a CANCEL with 200 and the INVITE with 487. */
  cancelledByCaller(): void {
    if (this.state !== 'ringing') return;
    this.emit('cancelled');
    this.end({ by: 'remote', reason: 'cancelled', status: 487 });
  }

  /** UA shutdown while still ringing. */
  shutdown(): void {
    if (this.state === 'ringing') this.reject(503);
    else this.session?.bye();
  }

  private response(status: number, body: SessionBody | undefined, headers: ExtraHeaders) {
    const contact: Array<[string, string]> = status < 300 ? [['Contact', this.core.contact(this.source.protocol)]] : [];
    return createResponse(this.request, status, {
      toTag: this.localTag,
      headers: [...contact, ...this.core.standardHeaders(), ...headers],
      ...(body ? { body: body.body, contentType: body.contentType } : {}),
    });
  }

  private hooks(): SessionHooks {
    return {
      ended: (info) => this.end(info),
      info: (request) => this.emit('info', request),
      reinvite: (offer, request) => (this.onReinvite ? this.onReinvite(offer, request) : undefined),
    };
  }

  private end(info: CallEndInfo): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.emit('ended', info);
  }
}
