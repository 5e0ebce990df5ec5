import type { Clock } from '../../../util/clock.js';
import { viaRport } from '../headers/via.js';
import type { Via } from '../headers/via.js';
import { createResponse } from '../message.js';
import type { SipRequest, SipResponse } from '../message.js';
import { isReliable } from '../transport.js';
import type { SipAddress, SipSender } from '../transport.js';
import { hostAddress } from '../uri.js';
import { MachineDriver } from './driver.js';
import { inviteServerInitial, inviteServerTransition } from './invite-server.js';
import type { InviteServerEvent, InviteServerState } from './invite-server.js';
import { nonInviteServerInitial, nonInviteServerTransition } from './non-invite-server.js';
import type { NonInviteServerEvent, NonInviteServerState } from './non-invite-server.js';
import type { Effect, MachineConfig, SipTimers, TimerName } from './types.js';

export interface ServerTransactionOptions {
  request: SipRequest;
  source: SipAddress;
  sender: SipSender;
  clock: Clock;
  timers: SipTimers;
  onTerminated: (tx: ServerTransaction) => void;
  onIgnored?: (reason: string) => void;
}

type AnyDriver =
  | { kind: 'invite'; driver: MachineDriver<InviteServerState, InviteServerEvent> }
  | { kind: 'non-invite'; driver: MachineDriver<NonInviteServerState, NonInviteServerEvent> };

// The drivers only ever start the timers their machine names, so the narrowing is safe.
const inviteTimer = (timer: TimerName): InviteServerEvent => ({ type: 'timer', timer: timer as 'G' | 'H' | 'I' });
const nonInviteTimer = (): NonInviteServerEvent => ({ type: 'timer', timer: 'J' });

/**
 * A server transaction. The TU answers through `respond`; retransmitted requests and ACKs for
 * non-2xx responses are absorbed here and never reach the TU.
 */
export class ServerTransaction {
  readonly request: SipRequest;
  readonly source: SipAddress;
  /** Where responses go (§18.2.2), fixed when the request arrives. */
  readonly destination: SipAddress;
  /** The To tag the TU answers with; the layer reuses it for a 487 after CANCEL (§9.2). */
  toTag: string | null = null;
  /** Timer H fired: a non-2xx final response was never acknowledged. */
  onTimeout: ((tx: ServerTransaction) => void) | null = null;
  onTransportError: ((err: Error, tx: ServerTransaction) => void) | null = null;
  private readonly machine: AnyDriver;
  private lastResponse: SipResponse | null = null;
  private pending: SipResponse | null = null;
  private transportError: Error | null = null;

  constructor(private readonly options: ServerTransactionOptions) {
    this.request = options.request;
    this.source = options.source;
    this.destination = responseDestination(options.request.topVia(), options.source);
    const config: MachineConfig = { reliable: isReliable(options.source.protocol), timers: options.timers };
    const perform = (effect: Effect): void => this.perform(effect);
    this.machine = options.request.method === 'INVITE'
      ? { kind: 'invite', driver: new MachineDriver<InviteServerState, InviteServerEvent>(options.clock, inviteServerInitial(config), inviteServerTransition, config, inviteTimer, perform) }
      : { kind: 'non-invite', driver: new MachineDriver<NonInviteServerState, NonInviteServerEvent>(options.clock, nonInviteServerInitial(), nonInviteServerTransition, config, nonInviteTimer, perform) };
  }

  get kind(): 'invite' | 'non-invite' {
    return this.machine.kind;
  }

  get state(): string {
    return this.machine.driver.state.phase;
  }

  /** The last response sent, provisional or final. */
  get response(): SipResponse | null {
    return this.lastResponse;
  }

  /** True once a final response has been sent. */
  get answered(): boolean {
    return (this.lastResponse?.status ?? 0) >= 200;
  }

  start(): void {
    if (this.machine.kind === 'invite') this.machine.driver.dispatch({ type: 'start' });
  }

  /** Sends a response built by the TU (see createResponse). Ignored once the state forbids it. */
  respond(response: SipResponse): void {
    this.pending = response;
    this.dispatchTu(response.status);
    this.pending = null;
  }

  /** A retransmission of the request, or an ACK matching this INVITE transaction. */
  receive(request: SipRequest): void {
    if (this.machine.kind === 'invite') this.machine.driver.dispatch(request.method === 'ACK' ? { type: 'ack' } : { type: 'request' });
    else this.machine.driver.dispatch({ type: 'request' });
  }

  private dispatchTu(status: number): void {
    if (this.machine.kind === 'invite') this.machine.driver.dispatch({ type: 'tu-response', status });
    else this.machine.driver.dispatch({ type: 'tu-response', status });
  }

  private perform(effect: Effect): void {
    switch (effect.type) {
      case 'send-trying':
        // Remembered so a retransmitted INVITE gets the 100 again (§17.2.1).
        this.lastResponse = createResponse(this.request, 100);
        this.send(this.lastResponse);
        break;
      case 'send-response':
        if (this.pending) {
          this.lastResponse = this.pending;
          this.send(this.pending);
        }
        break;
      case 'resend-response':
        if (this.lastResponse) this.send(this.lastResponse);
        break;
      case 'timeout':
        this.onTimeout?.(this);
        break;
      case 'transport-error':
        this.onTransportError?.(this.transportError ?? new Error('transport error'), this);
        break;
      case 'terminate':
        this.options.onTerminated(this);
        break;
      case 'ignored':
        this.options.onIgnored?.(effect.reason);
        break;
      default:
        this.options.onIgnored?.(`server transaction cannot ${effect.type}`);
    }
  }

  private send(response: SipResponse): void {
    this.options.sender.send(response, this.destination, (err) => {
      this.transportError = err;
      if (this.machine.kind === 'invite') this.machine.driver.dispatch({ type: 'transport-error' });
      else this.machine.driver.dispatch({ type: 'transport-error' });
    });
  }
}

/**
 * §18.2.2 with RFC 3581: over TCP, the connection the request came on (falling back to
 * received/sent-by); over UDP, `received` (or sent-by) and `rport` (or the sent-by port).
 */
export function responseDestination(via: Via, source: SipAddress): SipAddress {
  const received = via.params.get('received');
  const host = typeof received === 'string' && received.length > 0 ? received : hostAddress(via.host);
  if (source.protocol === 'TCP') {
    const tcp: SipAddress = { protocol: 'TCP', host, port: via.port ?? 5060 };
    if (source.connectionId !== undefined) tcp.connectionId = source.connectionId;
    return tcp;
  }
  return { protocol: 'UDP', host, port: viaRport(via) ?? via.port ?? 5060 };
}
