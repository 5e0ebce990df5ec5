import type { Clock } from '../../../util/clock.js';
import type { SipRequest, SipResponse } from '../message.js';
import { isReliable } from '../transport.js';
import type { SipAddress, SipSender } from '../transport.js';
import { MachineDriver } from './driver.js';
import { inviteClientInitial, inviteClientTransition } from './invite-client.js';
import type { InviteClientEvent, InviteClientState } from './invite-client.js';
import { nonInviteClientInitial, nonInviteClientTransition } from './non-invite-client.js';
import type { NonInviteClientEvent, NonInviteClientState } from './non-invite-client.js';
import { createNon2xxAck } from './requests.js';
import type { Effect, MachineConfig, SipTimers, TimerName } from './types.js';

/** What the transaction user hears from a client transaction. */
export interface ClientTransactionUser {
  onResponse(response: SipResponse, tx: ClientTransaction): void;
  /** Timer B or F fired: treat as 408 Request Timeout (§8.1.3.1). */
  onTimeout?(tx: ClientTransaction): void;
  /** The transport failed: treat as 503 Service Unavailable (§8.1.3.1). */
  onTransportError?(err: Error, tx: ClientTransaction): void;
}

export interface ClientTransactionOptions {
  request: SipRequest;
  destination: SipAddress;
  sender: SipSender;
  clock: Clock;
  timers: SipTimers;
  user: ClientTransactionUser;
  onTerminated: (tx: ClientTransaction) => void;
  /** Reports events a state did not expect; they are otherwise dropped. */
  onIgnored?: (reason: string) => void;
}

type AnyDriver =
  | { kind: 'invite'; driver: MachineDriver<InviteClientState, InviteClientEvent> }
  | { kind: 'non-invite'; driver: MachineDriver<NonInviteClientState, NonInviteClientEvent> };

// The drivers only ever start the timers their machine names, so the narrowing is safe.
const inviteTimer = (timer: TimerName): InviteClientEvent => ({ type: 'timer', timer: timer as 'A' | 'B' | 'D' });
const nonInviteTimer = (timer: TimerName): NonInviteClientEvent => ({ type: 'timer', timer: timer as 'E' | 'F' | 'K' });

export class ClientTransaction {
  readonly request: SipRequest;
  readonly destination: SipAddress;
  private readonly machine: AnyDriver;
  private lastResponse: SipResponse | null = null;
  private ack: SipRequest | null = null;
  private transportError: Error | null = null;

  constructor(private readonly options: ClientTransactionOptions) {
    this.request = options.request;
    this.destination = options.destination;
    const config: MachineConfig = { reliable: isReliable(options.destination.protocol), timers: options.timers };
    const perform = (effect: Effect): void => this.perform(effect);
    this.machine = options.request.method === 'INVITE'
      ? { kind: 'invite', driver: new MachineDriver<InviteClientState, InviteClientEvent>(options.clock, inviteClientInitial(config), inviteClientTransition, config, inviteTimer, perform) }
      : { kind: 'non-invite', driver: new MachineDriver<NonInviteClientState, NonInviteClientEvent>(options.clock, nonInviteClientInitial(config), nonInviteClientTransition, config, nonInviteTimer, perform) };
  }

  get kind(): 'invite' | 'non-invite' {
    return this.machine.kind;
  }

  get state(): string {
    return this.machine.driver.state.phase;
  }

  /** The final (or latest) response received. */
  get response(): SipResponse | null {
    return this.lastResponse;
  }

  start(): void {
    this.dispatch({ type: 'start' });
  }

  receiveResponse(response: SipResponse): void {
    this.lastResponse = response;
    this.dispatch({ type: 'response', status: response.status });
  }

  private dispatch(event: { type: 'start' } | { type: 'response'; status: number } | { type: 'transport-error' }): void {
    if (this.machine.kind === 'invite') this.machine.driver.dispatch(event);
    else this.machine.driver.dispatch(event);
  }

  private perform(effect: Effect): void {
    const user = this.options.user;
    switch (effect.type) {
      case 'send-request':
        this.send(this.request);
        break;
      case 'send-ack':
        if (this.lastResponse) {
          this.ack ??= createNon2xxAck(this.request, this.lastResponse);
          this.send(this.ack);
        }
        break;
      case 'deliver-response':
        if (this.lastResponse) user.onResponse(this.lastResponse, this);
        break;
      case 'timeout':
        user.onTimeout?.(this);
        break;
      case 'transport-error':
        user.onTransportError?.(this.transportError ?? new Error('transport error'), this);
        break;
      case 'terminate':
        this.options.onTerminated(this);
        break;
      case 'ignored':
        this.options.onIgnored?.(effect.reason);
        break;
      default:
        this.options.onIgnored?.(`client transaction cannot ${effect.type}`);
    }
  }

  private send(message: SipRequest): void {
    this.options.sender.send(message, this.destination, (err) => {
      this.transportError = err;
      this.dispatch({ type: 'transport-error' });
    });
  }
}
