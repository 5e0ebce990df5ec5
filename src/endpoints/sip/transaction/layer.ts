import type { Clock, Timer } from '../../../util/clock.js';
import { sentByKey, viaBranch } from '../headers/via.js';
import { newTag } from '../ids.js';
import { createResponse } from '../message.js';
import type { SipRequest, SipResponse } from '../message.js';
import type { InboundMessage, SipAddress, SipSender } from '../transport.js';
import { ClientTransaction } from './client-transaction.js';
import type { ClientTransactionUser } from './client-transaction.js';
import { ServerTransaction } from './server-transaction.js';
import { resolveTimers } from './types.js';
import type { SipTimers } from './types.js';

/** The transaction user (UA core) above the layer. */
export interface TransactionUser {
  /** A new request. ACKs matching no transaction (ACK for 2xx, §13.2.2.4) arrive with tx null. */
  onRequest(request: SipRequest, tx: ServerTransaction | null, source: SipAddress): void;
  /** A CANCEL hit an INVITE still proceeding: 200 went to the CANCEL, 487 to the INVITE (§9.2). */
  onCancel?(invite: ServerTransaction, cancel: SipRequest): void;
  /** A response matching no client transaction, such as a retransmitted 2xx to INVITE (§17.1.1.2). */
  onStrayResponse?(response: SipResponse, source: SipAddress): void;
}

export interface TransactionLayerOptions {
  sender: SipSender;
  clock: Clock;
  user: TransactionUser;
  timers?: Partial<SipTimers>;
  onIgnored?: (reason: string) => void;
}

/**
 * Matches messages to transactions by branch (§17.1.3, §17.2.3), absorbs retransmissions, and
 * hands new requests and unmatched responses up. Messages are assumed validated by the transport.
 */
export class TransactionLayer {
  readonly timers: SipTimers;
  private readonly clients = new Map<string, ClientTransaction>();
  private readonly servers = new Map<string, ServerTransaction>();
  /** INVITE server transactions that ended with a 2xx, remembered for 64*T1 (see below). */
  private readonly accepted = new Map<string, Timer>();

  constructor(private readonly options: TransactionLayerOptions) {
    this.timers = resolveTimers(options.timers);
  }

  get clientCount(): number {
    return this.clients.size;
  }

  get serverCount(): number {
    return this.servers.size;
  }

  /** Starts a client transaction. The request must already carry its top Via with a branch. */
  sendRequest(request: SipRequest, destination: SipAddress, user: ClientTransactionUser): ClientTransaction {
    const key = clientKey(request.topVia(), request.method);
    const tx = new ClientTransaction({
      request,
      destination,
      sender: this.options.sender,
      clock: this.options.clock,
      timers: this.timers,
      user,
      onTerminated: (done) => {
        if (this.clients.get(key) === done) this.clients.delete(key);
      },
      ...(this.options.onIgnored ? { onIgnored: this.options.onIgnored } : {}),
    });
    this.clients.set(key, tx);
    tx.start();
    return tx;
  }

  receive(inbound: InboundMessage): void {
    const { message, source } = inbound;
    if (message.kind === 'response') {
      const tx = this.clients.get(clientKey(message.topVia(), message.cseq().method));
      if (tx) tx.receiveResponse(message);
      else this.options.user.onStrayResponse?.(message, source);
      return;
    }
    const key = serverKey(message);
    const existing = this.servers.get(key);
    if (existing) {
      existing.receive(message);
      return;
    }
    // RFC 6026 §8.7: a retransmitted INVITE after our 2xx is not a new call; the UAS core is
    // already retransmitting the 2xx.
    if (message.method === 'INVITE' && this.accepted.has(key)) return;
    if (message.method === 'ACK') {
      this.options.user.onRequest(message, null, source);
      return;
    }
    const tx = this.createServer(message, source, key);
    if (message.method === 'CANCEL') this.cancel(message, tx);
    else this.options.user.onRequest(message, tx, source);
  }

  private createServer(request: SipRequest, source: SipAddress, key: string): ServerTransaction {
    const tx = new ServerTransaction({
      request,
      source,
      sender: this.options.sender,
      clock: this.options.clock,
      timers: this.timers,
      onTerminated: (done) => {
        if (this.servers.get(key) === done) this.servers.delete(key);
        if (done.kind === 'invite' && done.answered && (done.response?.status ?? 0) < 300) this.remember(key);
      },
      ...(this.options.onIgnored ? { onIgnored: this.options.onIgnored } : {}),
    });
    this.servers.set(key, tx);
    tx.start();
    return tx;
  }

  private remember(key: string): void {
    this.accepted.get(key)?.cancel();
    this.accepted.set(key, this.options.clock.setTimer(64 * this.timers.T1, () => this.accepted.delete(key)));
  }

  /** §9.2: CANCEL matches the INVITE server transaction with the same branch and sent-by. */
  private cancel(cancel: SipRequest, cancelTx: ServerTransaction): void {
    const inviteKey = serverKey(cancel, 'INVITE');
    const invite = this.servers.get(inviteKey);
    if (!invite || invite.kind !== 'invite') {
      // Already answered with 2xx: the CANCEL is too late but did match (§9.2).
      cancelTx.respond(createResponse(cancel, this.accepted.has(inviteKey) ? 200 : 481, { toTag: newTag() }));
      return;
    }
    const toTag = invite.toTag ?? newTag();
    cancelTx.respond(createResponse(cancel, 200, { toTag }));
    if (invite.answered) return;
    invite.respond(createResponse(invite.request, 487, { toTag }));
    this.options.user.onCancel?.(invite, cancel);
  }
}

function clientKey(via: ReturnType<SipRequest['topVia']>, method: string): string {
  return `${viaBranch(via) ?? ''}|${method}`;
}

/**
 * Branch + sent-by + method, with ACK matching its INVITE (§17.2.3). Requests without a branch
 * (RFC 2543 peers) get a key from the dialog identifiers, which is good enough to absorb their
 * retransmissions; the full RFC 2543 matching rules are not implemented.
 */
function serverKey(request: SipRequest, method = request.method === 'ACK' ? 'INVITE' : request.method): string {
  const via = request.topVia();
  const branch = viaBranch(via) ?? `2543:${request.callId()}:${request.cseq().seq}:${request.fromTag() ?? ''}`;
  return `${branch}|${sentByKey(via)}|${method}`;
}
