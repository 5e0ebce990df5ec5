import type { Db } from './db.js';

/**
 * Remembers each command_id with the response it got, so a repeat within the window is acknowledged
 * with the same answer instead of being carried out twice.
 */
export class CommandRepository {
  private readonly findStmt;
  private readonly putStmt;
  private readonly pruneStmt;

  constructor(db: Db, private readonly windowMs = 60_000) {
    this.findStmt = db.prepare<[string, string, number], { response: string }>(
      'SELECT response FROM commands WHERE call_control_id = ? AND command_id = ? AND at_ms > ?');
    this.putStmt = db.prepare(
      'INSERT INTO commands (call_control_id, command_id, at_ms, response) VALUES (?, ?, ?, ?) ON CONFLICT(call_control_id, command_id) DO UPDATE SET at_ms = excluded.at_ms, response = excluded.response');
    this.pruneStmt = db.prepare('DELETE FROM commands WHERE at_ms <= ?');
  }

  /** The stored response of a command seen within the window, if any. `scope` is the call_control_id ('' for dial). */
  recent(scope: string, commandId: string, nowMs: number): unknown {
    const row = this.findStmt.get(scope, commandId, nowMs - this.windowMs);
    return row ? JSON.parse(row.response) : undefined;
  }

  remember(scope: string, commandId: string, nowMs: number, response: unknown): void {
    this.putStmt.run(scope, commandId, nowMs, JSON.stringify(response));
  }

  prune(nowMs: number): void {
    this.pruneStmt.run(nowMs - this.windowMs);
  }
}
