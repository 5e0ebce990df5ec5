/** The Telnyx webhook envelope's `data` object (CONTRACT §5.1). `meta` is added per delivery attempt. */
export interface EventData {
  record_type: 'event';
  event_type: string;
  id: string;
  occurred_at: string;
  payload: Record<string, unknown>;
}

/** An event accepted for delivery: written to the outbox before anyone is told about it. */
export interface OutboxEvent {
  /** Same as data.id. */
  id: string;
  /** Events sharing an order key are delivered strictly one after another, in seq order (the call session). */
  orderKey: string;
  eventType: string;
  callControlId: string | null;
  data: EventData;
  /** Primary webhook URL; null means the application has none and the event is only stored. */
  url: string | null;
  failoverUrl: string | null;
  timeoutMs: number;
}
