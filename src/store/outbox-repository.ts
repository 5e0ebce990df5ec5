import type { Statement } from 'better-sqlite3';
import type { EventData, OutboxEvent } from '../events/types.js';
import type { Db } from './db.js';

/**
 * `pending`: waiting for (another) delivery round. `stored`: the application has no webhook URL,
 * so there is nothing to deliver. `delivered` and `failed` are final.
 */
export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'stored';

export const deliveryStatuses: readonly DeliveryStatus[] = ['pending', 'delivered', 'failed', 'stored'];

/** A head-of-line event ready for its next delivery round. */
export interface DueEvent {
  seq: number;
  id: string;
  orderKey: string;
  eventType: string;
  callControlId: string | null;
  /** EventData exactly as stored (JSON), so the body can be built without a parse/serialise round trip. */
  dataJson: string;
  url: string;
  failoverUrl: string | null;
  timeoutMs: number;
  /** HTTP attempts made so far, across rounds and restarts. */
  attemptCount: number;
  nextAttemptMs: number;
}

export interface AttemptRecord {
  attempt: number;
  url: string;
  startedMs: number;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
  succeeded: boolean;
}

export interface DeliveryRecord {
  seq: number;
  id: string;
  orderKey: string;
  eventType: string;
  callControlId: string | null;
  data: EventData;
  url: string | null;
  failoverUrl: string | null;
  status: DeliveryStatus;
  attemptCount: number;
  nextAttemptMs: number;
  createdMs: number;
  finishedMs: number | null;
  attempts: AttemptRecord[];
}

export interface DeliveryFilter {
  eventType?: string;
  status?: DeliveryStatus;
}

interface EventRow {
  seq: number;
  id: string;
  order_key: string;
  event_type: string;
  call_control_id: string | null;
  data: string;
  url: string | null;
  failover_url: string | null;
  timeout_ms: number;
  status: string;
  attempts: number;
  next_attempt_ms: number;
  created_ms: number;
  finished_ms: number | null;
}

interface AttemptRow {
  attempt: number;
  url: string;
  started_ms: number;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
  succeeded: number;
}

// The oldest unfinished event of each order key. Only a head may be delivered, which is what keeps
// one key strictly ordered; finished rows (delivered, failed, stored) never hold anything back.
// This reads every pending row, so it is for start-up and retry wake-ups only; the dispatcher's
// per-event path uses the indexed lookups (selectHead, selectPendingSince).
const HEADS = `
  SELECT e.* FROM (
    SELECT order_key, MIN(seq) AS head FROM events WHERE status = 'pending' GROUP BY order_key
  ) h JOIN events e ON e.seq = h.head`;

/**
 * The durable webhook outbox: every event is written here before anything is told about it,
 * and stays until delivered or given up, so a crash loses nothing.
 */
export class OutboxRepository {
  private readonly insertEvent: Statement<[Record<string, unknown>]>;
  private readonly selectDueKeys: Statement<[number], { order_key: string }>;
  private readonly selectHead: Statement<[string], EventRow>;
  private readonly selectPendingSince: Statement<[number], { seq: number; order_key: string }>;
  private readonly selectLastSeq: Statement<[], { seq: number }>;
  private readonly selectWake: Statement<[number], { wake: number | null }>;
  private readonly insertAttempt: Statement<[Record<string, unknown>]>;
  private readonly bumpAttempts: Statement<[number, string]>;
  private readonly finish: Statement<[string, number, string]>;
  private readonly updateNextAttempt: Statement<[number, string]>;
  private readonly selectById: Statement<[string], EventRow>;
  private readonly selectByCall: Statement<[string], EventRow>;
  private readonly selectRecent: Statement<[{ eventType: string | null; status: string | null; limit: number }], EventRow>;
  private readonly selectAttempts: Statement<[string], AttemptRow>;
  private readonly countPending: Statement<[], { n: number }>;
  private readonly recordAttemptTx: (eventId: string, attempt: AttemptRecord) => void;

  constructor(private readonly db: Db) {
    this.insertEvent = db.prepare(`
      INSERT INTO events (id, order_key, event_type, call_control_id, data, url, failover_url, timeout_ms,
                          status, attempts, next_attempt_ms, created_ms, finished_ms)
      VALUES (@id, @orderKey, @eventType, @callControlId, @data, @url, @failoverUrl, @timeoutMs,
              @status, 0, @now, @now, @finishedMs)`);
    this.selectDueKeys = db.prepare(`${HEADS} WHERE e.next_attempt_ms <= ? ORDER BY e.seq`);
    // Served by events_pending (status, order_key, seq): one index seek, whatever is pending.
    this.selectHead = db.prepare(`SELECT * FROM events WHERE status = 'pending' AND order_key = ? ORDER BY seq LIMIT 1`);
    // The unary + keeps SQLite off events_pending (status=?), which would read every pending row;
    // a rowid range reads only the rows after the cursor.
    this.selectPendingSince = db.prepare(`SELECT seq, order_key FROM events WHERE seq > ? AND +status = 'pending' ORDER BY seq`);
    this.selectLastSeq = db.prepare('SELECT COALESCE(MAX(seq), 0) AS seq FROM events');
    this.selectWake = db.prepare(`SELECT MIN(next_attempt_ms) AS wake FROM (${HEADS}) WHERE next_attempt_ms > ?`);
    this.insertAttempt = db.prepare(`
      INSERT INTO webhook_attempts (event_id, attempt, url, started_ms, duration_ms, status_code, error, succeeded)
      VALUES (@eventId, @attempt, @url, @startedMs, @durationMs, @statusCode, @error, @succeeded)`);
    this.bumpAttempts = db.prepare('UPDATE events SET attempts = MAX(attempts, ?) WHERE id = ?');
    this.finish = db.prepare(`UPDATE events SET status = ?, finished_ms = ? WHERE id = ? AND status = 'pending'`);
    this.updateNextAttempt = db.prepare(`UPDATE events SET next_attempt_ms = ? WHERE id = ? AND status = 'pending'`);
    this.selectById = db.prepare('SELECT * FROM events WHERE id = ?');
    this.selectByCall = db.prepare('SELECT * FROM events WHERE call_control_id = ? ORDER BY seq');
    // Newest first so LIMIT keeps the most recent; callers get them back in seq order.
    this.selectRecent = db.prepare(`
      SELECT * FROM events
      WHERE (@eventType IS NULL OR event_type = @eventType) AND (@status IS NULL OR status = @status)
      ORDER BY seq DESC LIMIT @limit`);
    this.selectAttempts = db.prepare(`
      SELECT attempt, url, started_ms, duration_ms, status_code, error, succeeded
      FROM webhook_attempts WHERE event_id = ? ORDER BY id`);
    this.countPending = db.prepare(`SELECT COUNT(*) AS n FROM events WHERE status = 'pending'`);
    this.recordAttemptTx = db.transaction((eventId: string, a: AttemptRecord) => {
      this.insertAttempt.run({
        eventId,
        attempt: a.attempt,
        url: a.url,
        startedMs: Math.round(a.startedMs),
        durationMs: Math.round(a.durationMs),
        statusCode: a.statusCode,
        error: a.error,
        succeeded: a.succeeded ? 1 : 0,
      });
      this.bumpAttempts.run(a.attempt, eventId);
    });
  }

  /**
   * Stores an event for delivery and returns its seq. The insert is committed (WAL) before this
   * returns, so the event survives a crash from then on.
   */
  enqueue(event: OutboxEvent, nowMs: number): number {
    const deliverable = event.url !== null;
    const result = this.insertEvent.run({
      id: event.id,
      orderKey: event.orderKey,
      eventType: event.eventType,
      callControlId: event.callControlId,
      data: JSON.stringify(event.data),
      url: event.url,
      failoverUrl: event.failoverUrl,
      timeoutMs: event.timeoutMs,
      status: deliverable ? 'pending' : 'stored',
      now: nowMs,
      finishedMs: deliverable ? null : nowMs,
    });
    return Number(result.lastInsertRowid);
  }

  /**
   * The order keys whose head (oldest pending event) is due by `nowMs`, oldest head first.
   * Reads every pending row: meant for start-up and wake-ups, not for each event.
   */
  dueKeys(nowMs: number): string[] {
    return this.selectDueKeys.all(nowMs).map((row) => row.order_key);
  }

  /**
   * The oldest pending event of one order key, due or not: the only one of that key that may be
   * delivered next. One index seek.
   */
  head(orderKey: string): DueEvent | undefined {
    const row = this.selectHead.get(orderKey);
    return row ? toDue(row) : undefined;
  }

  /** Pending events with a seq above `afterSeq`, in seq order; reads only those rows. */
  pendingSince(afterSeq: number): Array<{ seq: number; orderKey: string }> {
    return this.selectPendingSince.all(afterSeq).map((row) => ({ seq: row.seq, orderKey: row.order_key }));
  }

  /** The highest seq ever stored (0 if none). Seqs are never reused, so later events are above it. */
  lastSeq(): number {
    return this.selectLastSeq.get()?.seq ?? 0;
  }

  /**
   * The earliest next attempt time among pending heads that is later than `afterMs`, or null.
   * Heads already due are left out: they are either in flight or waiting for a concurrency slot,
   * and a finishing delivery picks them up, so a timer for them would only spin.
   */
  nextWakeMs(afterMs: number = Number.MIN_SAFE_INTEGER): number | null {
    return this.selectWake.get(afterMs)?.wake ?? null;
  }

  /** Logs one HTTP attempt and raises the event's attempt count to match. */
  recordAttempt(eventId: string, attempt: AttemptRecord): void {
    this.recordAttemptTx(eventId, attempt);
  }

  markDelivered(id: string, nowMs: number): void {
    this.finish.run('delivered', nowMs, id);
  }

  /** Gives up on the event, which lets the next event of its order key go. */
  markFailed(id: string, nowMs: number): void {
    this.finish.run('failed', nowMs, id);
  }

  reschedule(id: string, nextAttemptMs: number): void {
    this.updateNextAttempt.run(nextAttemptMs, id);
  }

  get(id: string): DeliveryRecord | undefined {
    const row = this.selectById.get(id);
    return row ? this.toRecord(row) : undefined;
  }

  /** Every event of one leg in seq order, each with its attempts. */
  listForCall(callControlId: string, filter: DeliveryFilter = {}): DeliveryRecord[] {
    return this.selectByCall
      .all(callControlId)
      .filter((row) => matches(row, filter))
      .map((row) => this.toRecord(row));
  }

  /** The `limit` most recent events (optionally filtered), returned in seq order. */
  listRecent(limit: number, filter: DeliveryFilter = {}): DeliveryRecord[] {
    return this.selectRecent
      .all({ eventType: filter.eventType ?? null, status: filter.status ?? null, limit })
      .reverse()
      .map((row) => this.toRecord(row));
  }

  pendingCount(): number {
    return this.countPending.get()?.n ?? 0;
  }

  private toRecord(row: EventRow): DeliveryRecord {
    return {
      seq: row.seq,
      id: row.id,
      orderKey: row.order_key,
      eventType: row.event_type,
      callControlId: row.call_control_id,
      data: JSON.parse(row.data) as EventData,
      url: row.url,
      failoverUrl: row.failover_url,
      status: toStatus(row.status),
      attemptCount: row.attempts,
      nextAttemptMs: row.next_attempt_ms,
      createdMs: row.created_ms,
      finishedMs: row.finished_ms,
      attempts: this.selectAttempts.all(row.id).map((a) => ({
        attempt: a.attempt,
        url: a.url,
        startedMs: a.started_ms,
        durationMs: a.duration_ms,
        statusCode: a.status_code,
        error: a.error,
        succeeded: a.succeeded !== 0,
      })),
    };
  }
}

function matches(row: EventRow, filter: DeliveryFilter): boolean {
  return (filter.eventType === undefined || row.event_type === filter.eventType)
    && (filter.status === undefined || row.status === filter.status);
}

function toStatus(value: string): DeliveryStatus {
  const found = deliveryStatuses.find((s) => s === value);
  if (!found) throw new Error(`events row has unknown status '${value}'`);
  return found;
}

function toDue(row: EventRow): DueEvent {
  // Only rows with a URL are ever pending (enqueue stores the rest as 'stored').
  if (row.url === null) throw new Error(`pending event ${row.id} has no webhook URL`);
  return {
    seq: row.seq,
    id: row.id,
    orderKey: row.order_key,
    eventType: row.event_type,
    callControlId: row.call_control_id,
    dataJson: row.data,
    url: row.url,
    failoverUrl: row.failover_url,
    timeoutMs: row.timeout_ms,
    attemptCount: row.attempts,
    nextAttemptMs: row.next_attempt_ms,
  };
}
