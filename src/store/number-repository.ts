import type { Db } from './db.js';

/** Which application answers calls to a number (or SIP user). */
export class NumberRepository {
  private readonly getStmt;
  private readonly putStmt;
  private readonly deleteStmt;
  private readonly listStmt;

  constructor(db: Db) {
    this.getStmt = db.prepare<[string], { application_id: string }>('SELECT application_id FROM numbers WHERE number = ?');
    this.putStmt = db.prepare('INSERT INTO numbers (number, application_id) VALUES (?, ?) ON CONFLICT(number) DO UPDATE SET application_id = excluded.application_id');
    this.deleteStmt = db.prepare('DELETE FROM numbers WHERE number = ?');
    this.listStmt = db.prepare<[], { number: string; application_id: string }>('SELECT number, application_id FROM numbers ORDER BY number');
  }

  applicationFor(number: string): string | undefined {
    return this.getStmt.get(number)?.application_id;
  }

  route(number: string, applicationId: string): void {
    this.putStmt.run(number, applicationId);
  }

  unroute(number: string): boolean {
    return this.deleteStmt.run(number).changes > 0;
  }

  list(): { number: string; application_id: string }[] {
    return this.listStmt.all();
  }
}
