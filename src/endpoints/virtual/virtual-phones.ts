import type { CallEngine } from '../../calls/call-engine.js';
import type { OutboundRouter, RemoteParty } from '../../calls/remote-party.js';
import type { VirtualPhoneRecord, VirtualPhoneRepository } from '../../store/virtual-phone-repository.js';
import type { MediaScheduler } from '../../media/scheduler.js';
import type { Clock } from '../../util/clock.js';
import type { IdSource } from '../../util/ids.js';
import { VirtualCall } from './virtual-call.js';

/** Keeps the most recent calls inspectable after they end, without growing forever. */
const RETAINED_CALLS = 5_000;
/** Of those, the most recent keep what they heard; older ones keep only their log. */
const RETAINED_AUDIO = 200;

/**
 * Virtual phones: in-process callers and callees, so a voice app can be tested with no network,
 * account or number. Phones that `dial` reaches are stored; their calls live in memory.
 */
export class VirtualPhones implements OutboundRouter {
  private readonly calls = new Map<string, VirtualCall>();
  private readonly withAudio: VirtualCall[] = [];
  private engine: CallEngine | null = null;

  constructor(
    private readonly phones: VirtualPhoneRepository,
    private readonly clock: Clock,
    private readonly ids: IdSource,
    private readonly scheduler: MediaScheduler | null = null,
  ) {}

  /** The engine and the phones refer to each other; the engine is bound once both exist. */
  bind(engine: CallEngine): void {
    this.engine = engine;
  }

  register(phone: Omit<VirtualPhoneRecord, 'created_ms'>): VirtualPhoneRecord {
    const existing = this.phones.get(phone.number);
    const record = { ...phone, created_ms: existing?.created_ms ?? this.clock.now() };
    this.phones.put(record);
    return record;
  }

  unregister(number: string): boolean {
    return this.phones.delete(number);
  }

  phone(number: string): VirtualPhoneRecord | undefined {
    return this.phones.get(number);
  }

  listPhones(): VirtualPhoneRecord[] {
    return this.phones.list();
  }

  /** A virtual phone calls an application; the call is routed like any inbound call. */
  placeCall(from: string, to: string, connectionId: string): VirtualCall {
    const engine = this.mustEngine();
    let call: VirtualCall | undefined;
    engine.incoming({
      connectionId,
      from,
      to,
      remoteFor: (callControlId) => {
        call = new VirtualCall(this.ids.uuid(), callControlId, 'outbound', from, to, this.clock, engine, 'auto', 0, this.scheduler);
        return call;
      },
    });
    if (!call) throw new Error('the engine did not bind the caller');
    this.keep(call);
    return call;
  }

  /** OutboundRouter: an application dials a number a virtual phone holds. */
  route(to: string, from: string, callControlId: string): RemoteParty | null {
    const phone = this.phones.get(to);
    if (!phone) return null;
    const call = new VirtualCall(this.ids.uuid(), callControlId, 'inbound', from, to, this.clock, this.mustEngine(),
      phone.answer, phone.answer_delay_ms, this.scheduler);
    this.keep(call);
    return call;
  }

  call(id: string): VirtualCall | undefined {
    return this.calls.get(id);
  }

  listCalls(filter: { number?: string; callControlId?: string; state?: string }): VirtualCall[] {
    return [...this.calls.values()].filter((c) =>
      (!filter.number || c.from === filter.number || c.to === filter.number)
      && (!filter.callControlId || c.callControlId === filter.callControlId)
      && (!filter.state || c.state === filter.state));
  }

  private keep(call: VirtualCall): void {
    this.calls.set(call.id, call);
    this.withAudio.push(call);
    if (this.withAudio.length > RETAINED_AUDIO) {
      const oldest = this.withAudio.shift() as VirtualCall;
      // A call still up keeps listening; it is looked at again after the next one.
      if (oldest.state === 'ended') oldest.releaseAudio();
      else this.withAudio.push(oldest);
    }
    if (this.calls.size <= RETAINED_CALLS) return;
    for (const [id, old] of this.calls) {
      if (old.state === 'ended') {
        this.calls.delete(id);
        return;
      }
    }
  }

  private mustEngine(): CallEngine {
    if (!this.engine) throw new Error('virtual phones used before the call engine was bound');
    return this.engine;
  }
}
