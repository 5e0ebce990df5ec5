import { networkInterfaces } from 'node:os';
import { SystemClock } from '../../util/clock.js';
import type { Clock } from '../../util/clock.js';
import { DigestVerifier } from './digest.js';
import { dialogKey } from './dialog.js';
import { TypedEmitter } from './emitter.js';
import type { SipParseError } from './errors.js';
import { newBranch } from './ids.js';
import { SipIncomingCall } from './incoming-call.js';
import type { SipMessage, SipRequest, SipResponse } from './message.js';
import { SipOutgoingCall } from './outgoing-call.js';
import type { OutgoingCallOptions } from './outgoing-call.js';
import type { ParseLimits } from './parser.js';
import type { ClientTransactionUser } from './transaction/client-transaction.js';
import { TransactionLayer } from './transaction/layer.js';
import type { ServerTransaction } from './transaction/server-transaction.js';
import type { SipTimers } from './transaction/types.js';
import { SipTransport } from './transport.js';
import type { SipAddress, TransportProtocol } from './transport.js';
import { hostAddress, hostReference } from './uri.js';
import type { Uri } from './uri.js';
import { ALLOWED_METHODS, reply, replyUnsupported } from './ua-core.js';
import type { DialogOwner, UaCore } from './ua-core.js';

export interface SipUserAgentOptions {
  clock?: Clock;
  /** Address to bind. Default 0.0.0.0. */
  host?: string;
  /** Address written in Via and Contact. Default: `host`, or the first external IPv4 when binding to any. */
  advertisedHost?: string;
  /** Default 5060; 0 for a free port; null disables. */
  udpPort?: number | null;
  tcpPort?: number | null;
  timers?: Partial<SipTimers>;
  /** User-Agent / Server header value. */
  userAgent?: string;
  /** User part of our Contact URI. */
  contactUser?: string;
  limits?: Partial<ParseLimits>;
  /** Sees every message sent and received (SIP trace). */
  trace?: (direction: 'in' | 'out', message: SipMessage, peer: SipAddress) => void;
  /** Demand digest credentials on incoming INVITEs (inbound trunks). */
  inboundAuth?: { realm: string; password: (username: string) => string | undefined; nonceTtlMs?: number };
}

export type SipUserAgentEvents = {
  /** A new call. Answer with progress/accept/reject; with no listener the UA answers 480. */
  invite: [call: SipIncomingCall];
  /** Malformed input was refused (any 400/505 has already been sent). */
  rejected: [error: SipParseError, source: SipAddress];
};

/** Option tags we implement; a Require naming anything else gets 420 (§8.2.2.3). */
const SUPPORTED_EXTENSIONS: ReadonlySet<string> = new Set();
/** Methods that only make sense inside a dialog: outside one they get 481 (§12.2.2). */
const DIALOG_ONLY: ReadonlySet<string> = new Set(['BYE', 'INFO', 'UPDATE', 'PRACK']);

/**
 * The SIP user agent: transport + transactions + dialogs behind one object. Out-of-dialog
 * OPTIONS and unsupported methods are answered here; calls are handed out as SipIncomingCall
 * (event `invite`) and SipOutgoingCall (`invite()`).
 */
export class SipUserAgent extends TypedEmitter<SipUserAgentEvents> {
  readonly clock: Clock;
  private readonly transport: SipTransport;
  private readonly transactions: TransactionLayer;
  private readonly dialogs = new Map<string, DialogOwner>();
  private readonly outgoing = new Map<string, SipOutgoingCall>();
  private readonly ringing = new Map<ServerTransaction, SipIncomingCall>();
  private readonly verifier: DigestVerifier | null;
  private readonly core: UaCore;
  readonly advertisedHost: string;

  constructor(private readonly options: SipUserAgentOptions = {}) {
    super();
    this.clock = options.clock ?? new SystemClock();
    this.advertisedHost = options.advertisedHost ?? defaultAdvertisedHost(options.host ?? '0.0.0.0');
    this.transport = new SipTransport(
      { host: options.host ?? '0.0.0.0', udpPort: options.udpPort, tcpPort: options.tcpPort, ...(options.limits ? { limits: options.limits } : {}) },
      {
        onMessage: (inbound) => this.transactions.receive(inbound),
        onRejected: (err, source) => this.emit('rejected', err, source),
        ...(options.trace ? { onTrace: options.trace } : {}),
      },
    );
    this.transactions = new TransactionLayer({
      sender: this.transport,
      clock: this.clock,
      timers: options.timers ?? {},
      user: {
        onRequest: (request, tx, source) => this.onRequest(request, tx, source),
        onCancel: (invite) => this.ringing.get(invite)?.cancelledByCaller(),
        onStrayResponse: (response) => this.onStrayResponse(response),
      },
    });
    const auth = options.inboundAuth;
    this.verifier = auth ? new DigestVerifier({ realm: auth.realm, clock: this.clock, password: auth.password, ...(auth.nonceTtlMs ? { nonceTtlMs: auth.nonceTtlMs } : {}) }) : null;
    this.core = this.createCore();
  }

  async start(): Promise<void> {
    await this.transport.start();
  }

  /** Hangs up what is still up (best effort) and closes the sockets. */
  async stop(): Promise<void> {
    for (const call of [...this.ringing.values()]) call.shutdown();
    for (const call of [...this.outgoing.values()]) call.cancel();
    for (const owner of [...this.dialogs.values()]) owner.bye();
    await new Promise((resolve) => setImmediate(resolve));
    await this.transport.stop();
  }

  port(protocol: TransportProtocol): number | null {
    return this.transport.port(protocol);
  }

  /** Places a call. Listen for progress / answered / failed / ended on the result. */
  invite(options: OutgoingCallOptions): SipOutgoingCall {
    const call = new SipOutgoingCall(this.core, options);
    const key = `${call.callId}\u0000${call.localTag}`;
    this.outgoing.set(key, call);
    const forget = (): void => void this.outgoing.delete(key);
    call.on('failed', forget).on('ended', forget);
    call.start();
    return call;
  }

  private onRequest(request: SipRequest, tx: ServerTransaction | null, source: SipAddress): void {
    if (!tx) {
      if (request.method === 'ACK') this.dialogFor(request)?.handleAck(request);
      return;
    }
    if (!this.preconditionsMet(request, tx)) return;
    if (request.toTag() !== null) {
      const owner = this.dialogFor(request);
      if (owner) owner.handleRequest(request, tx);
      else reply(this.core, tx, 481);
      return;
    }
    if (request.method === 'INVITE') return this.onInvite(request, tx, source);
    if (request.method === 'OPTIONS') return reply(this.core, tx, 200, [['Accept', 'application/sdp']]);
    if (DIALOG_ONLY.has(request.method)) return reply(this.core, tx, 481);
    replyUnsupported(this.core, tx);
  }

  /** §8.2.2.1 unknown URI scheme (416), §8.2.2.3 unsupported Require (420), §8.2.3 body type (415). */
  private preconditionsMet(request: SipRequest, tx: ServerTransaction): boolean {
    if (request.requestUri().kind === 'other') {
      reply(this.core, tx, 416);
      return false;
    }
    const unsupported = request.headers.list('require').filter((tag) => !SUPPORTED_EXTENSIONS.has(tag.toLowerCase()));
    if (unsupported.length > 0 && request.method !== 'CANCEL') {
      reply(this.core, tx, 420, [['Unsupported', unsupported.join(', ')]]);
      return false;
    }
    if (request.method === 'INVITE' && request.body.length > 0 && request.contentType() !== 'application/sdp') {
      reply(this.core, tx, 415, [['Accept', 'application/sdp']]);
      return false;
    }
    return true;
  }

  private onInvite(request: SipRequest, tx: ServerTransaction, source: SipAddress): void {
    if (this.verifier) {
      const verdict = this.verifier.verify(request);
      if (verdict !== 'ok') return reply(this.core, tx, 401, [['WWW-Authenticate', this.verifier.challenge(verdict === 'stale')]]);
    }
    if (this.listenerCount('invite') === 0) return reply(this.core, tx, 480);
    const call = new SipIncomingCall(this.core, request, tx, source);
    this.ringing.set(tx, call);
    call.on('ended', () => this.ringing.delete(tx));
    call.on('confirmed', () => this.ringing.delete(tx));
    this.emit('invite', call);
  }

  private onStrayResponse(response: SipResponse): void {
    if (response.status < 200 || response.status >= 300 || response.cseq().method !== 'INVITE') return;
    const fromTag = response.fromTag() ?? '';
    const owner = this.dialogs.get(dialogKey(response.callId(), fromTag, response.toTag() ?? ''));
    if (owner) return owner.handleStray2xx(response);
    this.outgoing.get(`${response.callId()}\u0000${fromTag}`)?.handleStray2xx(response);
  }

  /** In-dialog requests: our tag is in To, the peer's in From (§12.2.2). */
  private dialogFor(request: SipRequest): DialogOwner | undefined {
    return this.dialogs.get(dialogKey(request.callId(), request.toTag() ?? '', request.fromTag() ?? ''));
  }

  private createCore(): UaCore {
    const via = (protocol: TransportProtocol): string =>
      `SIP/2.0/${protocol} ${hostReference(this.advertisedHost)}:${this.port(protocol) ?? 5060};branch=${newBranch()};rport`;
    return {
      clock: this.clock,
      timers: this.transactions.timers,
      transactions: this.transactions,
      sendRequest: (request: SipRequest, destination: SipAddress, user: ClientTransactionUser) => {
        request.headers.prepend('Via', via(destination.protocol));
        return this.transactions.sendRequest(request, destination, user);
      },
      sendAck: (ack, destination) => {
        ack.headers.delete('via').prepend('Via', via(destination.protocol));
        this.transport.send(ack, destination);
      },
      sendMessage: (message, destination) => this.transport.send(message, destination),
      contact: (protocol) => {
        const user = this.options.contactUser ?? 'switchboard';
        const transport = protocol === 'TCP' ? ';transport=tcp' : '';
        return `<sip:${user}@${hostReference(this.advertisedHost)}:${this.port(protocol) ?? 5060}${transport}>`;
      },
      destinationFor: (uri, fallback) => destinationFor(uri, fallback),
      standardHeaders: () => [['User-Agent', this.options.userAgent ?? 'Switchboard'], ['Allow', ALLOWED_METHODS.join(', ')]],
      registerDialog: (key, owner) => void this.dialogs.set(key, owner),
      unregisterDialog: (key, owner) => {
        if (this.dialogs.get(key) === owner) this.dialogs.delete(key);
      },
    };
  }
}

/**
 * Host, port and transport from the URI itself. RFC 3263 (NAPTR/SRV) is not implemented: names
 * are resolved by the operating system when sending.
 */
export function destinationFor(uri: Uri, fallback: TransportProtocol): SipAddress | null {
  if (uri.kind !== 'sip') return null;
  const transport = uri.params.get('transport')?.toLowerCase();
  const protocol: TransportProtocol = transport === 'tcp' ? 'TCP' : transport === 'udp' ? 'UDP' : fallback;
  const maddr = uri.params.get('maddr');
  return { protocol, host: hostAddress(typeof maddr === 'string' ? maddr : uri.host), port: uri.port ?? 5060 };
}

function defaultAdvertisedHost(bound: string): string {
  if (bound !== '0.0.0.0' && bound !== '::') return bound;
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}
