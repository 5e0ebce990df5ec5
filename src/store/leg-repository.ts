import type { LegRecord } from '../calls/leg-record.js';
import type { Db } from './db.js';

interface LegRow {
  call_control_id: string;
  call_leg_id: string;
  call_session_id: string;
  connection_id: string;
  direction: string;
  from_number: string;
  to_number: string;
  state: string;
  client_state: string | null;
  start_ms: number;
  answer_ms: number | null;
  end_ms: number | null;
  hangup_cause: string | null;
  hangup_source: string | null;
  sip_hangup_cause: string | null;
  webhook_url: string | null;
  webhook_failover_url: string | null;
}

/** Durable call state: every change to a leg is written through before its event is published. */
export class LegRepository {
  private readonly getStmt;
  private readonly saveStmt;
  private readonly aliveStmt;

  constructor(db: Db) {
    this.getStmt = db.prepare<[string], LegRow>('SELECT * FROM legs WHERE call_control_id = ?');
    this.saveStmt = db.prepare(`INSERT INTO legs (call_control_id, call_leg_id, call_session_id, connection_id, direction,
        from_number, to_number, state, client_state, start_ms, answer_ms, end_ms, hangup_cause, hangup_source,
        sip_hangup_cause, webhook_url, webhook_failover_url)
      VALUES (@call_control_id, @call_leg_id, @call_session_id, @connection_id, @direction, @from_number, @to_number,
        @state, @client_state, @start_ms, @answer_ms, @end_ms, @hangup_cause, @hangup_source, @sip_hangup_cause,
        @webhook_url, @webhook_failover_url)
      ON CONFLICT(call_control_id) DO UPDATE SET state = excluded.state, client_state = excluded.client_state,
        answer_ms = excluded.answer_ms, end_ms = excluded.end_ms, hangup_cause = excluded.hangup_cause,
        hangup_source = excluded.hangup_source, sip_hangup_cause = excluded.sip_hangup_cause`);
    this.aliveStmt = db.prepare<[], LegRow>('SELECT * FROM legs WHERE end_ms IS NULL ORDER BY start_ms');
  }

  get(callControlId: string): LegRecord | undefined {
    const row = this.getStmt.get(callControlId);
    return row ? fromRow(row) : undefined;
  }

  save(leg: LegRecord): void {
    this.saveStmt.run(toRow(leg));
  }

  /** Legs that were alive when the process last stopped. */
  alive(): LegRecord[] {
    return this.aliveStmt.all().map(fromRow);
  }
}

function toRow(leg: LegRecord): LegRow {
  return {
    call_control_id: leg.callControlId,
    call_leg_id: leg.callLegId,
    call_session_id: leg.callSessionId,
    connection_id: leg.connectionId,
    direction: leg.direction,
    from_number: leg.from,
    to_number: leg.to,
    state: leg.state,
    client_state: leg.clientState,
    start_ms: leg.startMs,
    answer_ms: leg.answerMs,
    end_ms: leg.endMs,
    hangup_cause: leg.hangup?.cause ?? null,
    hangup_source: leg.hangup?.source ?? null,
    sip_hangup_cause: leg.hangup?.sipCause ?? null,
    webhook_url: leg.webhookUrl,
    webhook_failover_url: leg.webhookFailoverUrl,
  };
}

function fromRow(row: LegRow): LegRecord {
  return {
    callControlId: row.call_control_id,
    callLegId: row.call_leg_id,
    callSessionId: row.call_session_id,
    connectionId: row.connection_id,
    direction: row.direction as LegRecord['direction'],
    from: row.from_number,
    to: row.to_number,
    state: row.state as LegRecord['state'],
    clientState: row.client_state,
    startMs: row.start_ms,
    answerMs: row.answer_ms,
    endMs: row.end_ms,
    hangup: row.hangup_cause
      ? {
          cause: row.hangup_cause as NonNullable<LegRecord['hangup']>['cause'],
          source: (row.hangup_source ?? 'unknown') as NonNullable<LegRecord['hangup']>['source'],
          sipCause: row.sip_hangup_cause ?? 'unspecified',
        }
      : null,
    webhookUrl: row.webhook_url,
    webhookFailoverUrl: row.webhook_failover_url,
  };
}
