import type { Application } from '../applications/application.js';
import type { LegRecord } from '../calls/leg-record.js';
import type { Clock } from '../util/clock.js';
import type { IdSource } from '../util/ids.js';
import { isoMicros } from '../util/time.js';
import { commonPayload, type BuiltEvent } from './catalogue.js';
import type { EventData, OutboxEvent } from './types.js';

export interface OutboxWriter {
  enqueue(event: OutboxEvent, nowMs: number): unknown;
}

export interface DeliveryTrigger {
  kick(): void;
}

export interface PublisherDeps {
  outbox: OutboxWriter;
  delivery: DeliveryTrigger;
  applications: { get(id: string): Application | undefined };
  clock: Clock;
  ids: IdSource;
  defaultWebhookTimeoutMs: number;
}

/**
 * Turns a domain fact about a leg into a Telnyx event: envelope, the leg's current client_state,
 * the webhook URLs in force, and a durable outbox row written before delivery is attempted.
 */
export class EventPublisher {
  private readonly listeners = new Set<(data: EventData) => void>();

  constructor(private readonly deps: PublisherDeps) {}

  publish(leg: LegRecord, event: BuiltEvent): EventData {
    const { clock, ids, applications } = this.deps;
    const data: EventData = {
      record_type: 'event',
      event_type: event.type,
      id: ids.uuid(),
      occurred_at: isoMicros(clock.now()),
      payload: { ...commonPayload(leg), ...event.payload },
    };
    const app = applications.get(leg.connectionId);
    // An empty URL means none: applications may store "" for an unset failover URL.
    const url = leg.webhookUrl || app?.webhook_event_url || null;
    const failoverUrl = (leg.webhookUrl ? leg.webhookFailoverUrl : app?.webhook_event_failover_url) || null;
    const timeoutMs = app?.webhook_timeout_secs ? app.webhook_timeout_secs * 1000 : this.deps.defaultWebhookTimeoutMs;
    this.deps.outbox.enqueue(
      { id: data.id, orderKey: leg.callSessionId, eventType: event.type, callControlId: leg.callControlId, data, url, failoverUrl, timeoutMs },
      clock.now(),
    );
    this.deps.delivery.kick();
    for (const listener of this.listeners) {
      try {
        listener(data);
      } catch {
        // A listener's failure must never unwind call logic.
      }
    }
    return data;
  }

  /** In-process observers (the test harness, metrics). */
  subscribe(listener: (data: EventData) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
