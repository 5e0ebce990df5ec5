import type { Clock } from '../../util/clock.js';
import { newTag } from './ids.js';
import { createResponse } from './message.js';
import type { SipRequest, SipResponse } from './message.js';
import type { ClientTransaction, ClientTransactionUser } from './transaction/client-transaction.js';
import type { TransactionLayer } from './transaction/layer.js';
import type { ServerTransaction } from './transaction/server-transaction.js';
import type { SipTimers } from './transaction/types.js';
import type { SipAddress, TransportProtocol } from './transport.js';
import type { Uri } from './uri.js';

/** A session description (or any body) with its media type. */
export interface SessionBody {
  contentType: string;
  body: Buffer | string;
}

export type CallEndReason = 'bye' | 'cancelled' | 'rejected' | 'ack-timeout' | 'timeout' | 'transport-error' | 'shutdown';

export interface CallEndInfo {
  by: 'local' | 'remote';
  reason: CallEndReason;
  status?: number;
}

/** The methods this UA implements (sent in Allow, RFC 3261 §20.5). */
export const ALLOWED_METHODS: readonly string[] = ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'INFO'];

/** Methods defined by SIP RFCs: these get 405, anything else 501 (§8.2.1, §21.4.6, §21.5.2). */
export const KNOWN_METHODS: ReadonlySet<string> = new Set([
  ...ALLOWED_METHODS, 'REGISTER', 'PRACK', 'SUBSCRIBE', 'NOTIFY', 'PUBLISH', 'REFER', 'MESSAGE', 'UPDATE',
]);

/** Whoever owns a dialog: in-dialog requests, ACKs and stray 2xx are routed to it. */
export interface DialogOwner {
  handleRequest(request: SipRequest, tx: ServerTransaction): void;
  handleAck(ack: SipRequest): void;
  handleStray2xx(response: SipResponse): void;
  bye(): void;
}

/** What calls need from the user agent; keeps them free of sockets and maps. */
export interface UaCore {
  readonly clock: Clock;
  readonly timers: SipTimers;
  readonly transactions: TransactionLayer;
  /** Adds a fresh top Via for the destination's transport and starts a client transaction. */
  sendRequest(request: SipRequest, destination: SipAddress, user: ClientTransactionUser): ClientTransaction;
  /** ACK for a 2xx: its own Via and branch, sent outside any transaction (§13.2.2.4, §17.1.1.3). */
  sendAck(ack: SipRequest, destination: SipAddress): void;
  /** Raw send, for 2xx retransmissions by the UAS core. */
  sendMessage(message: SipResponse, destination: SipAddress): void;
  /** Our Contact header value for a transport. */
  contact(protocol: TransportProtocol): string;
  /** Where to send a request for `uri` (no RFC 3263 DNS: host and port as written); null if not a SIP URI. */
  destinationFor(uri: Uri, fallback: TransportProtocol): SipAddress | null;
  /** User-Agent and Allow, added to requests and responses we originate. */
  standardHeaders(): Array<[string, string]>;
  registerDialog(key: string, owner: DialogOwner): void;
  unregisterDialog(key: string, owner: DialogOwner): void;
}

/**
 * A response through `tx` with the UA's standard headers. A request without a To tag gets one,
 * the same for every response of the transaction (§8.2.6.2).
 */
export function reply(core: UaCore, tx: ServerTransaction, status: number, extra: Array<[string, string]> = []): void {
  tx.toTag ??= newTag();
  tx.respond(createResponse(tx.request, status, { toTag: tx.toTag, headers: [...core.standardHeaders(), ...extra] }));
}

/** 405 for methods SIP defines but we do not implement, 501 for the rest, both with Allow. */
export function replyUnsupported(core: UaCore, tx: ServerTransaction): void {
  reply(core, tx, KNOWN_METHODS.has(tx.request.method) ? 405 : 501);
}

export function bodyOf(message: { body: Buffer; contentType(): string | null }): SessionBody | null {
  const contentType = message.contentType();
  return message.body.length > 0 && contentType !== null ? { contentType, body: message.body } : null;
}
