import type { Db } from './db.js';

export type AnswerMode = 'auto' | 'never' | 'busy' | 'reject';

export interface VirtualPhoneRecord {
  number: string;
  answer: AnswerMode;
  answer_delay_ms: number;
  created_ms: number;
}

export class VirtualPhoneRepository {
  private readonly getStmt;
  private readonly putStmt;
  private readonly deleteStmt;
  private readonly listStmt;

  constructor(db: Db) {
    this.getStmt = db.prepare<[string], VirtualPhoneRecord>('SELECT * FROM virtual_phones WHERE number = ?');
    this.putStmt = db.prepare(`INSERT INTO virtual_phones (number, answer, answer_delay_ms, created_ms) VALUES (@number, @answer, @answer_delay_ms, @created_ms)
      ON CONFLICT(number) DO UPDATE SET answer = excluded.answer, answer_delay_ms = excluded.answer_delay_ms`);
    this.deleteStmt = db.prepare('DELETE FROM virtual_phones WHERE number = ?');
    this.listStmt = db.prepare<[], VirtualPhoneRecord>('SELECT * FROM virtual_phones ORDER BY number');
  }

  get(number: string): VirtualPhoneRecord | undefined {
    return this.getStmt.get(number);
  }

  put(phone: VirtualPhoneRecord): void {
    this.putStmt.run(phone);
  }

  delete(number: string): boolean {
    return this.deleteStmt.run(number).changes > 0;
  }

  list(): VirtualPhoneRecord[] {
    return this.listStmt.all();
  }
}
