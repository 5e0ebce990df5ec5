import type { Db } from './db.js';

/** Small key/value facts the server keeps across restarts: its signing key, its generated API key. */
export class SettingsRepository {
  private readonly getStmt;
  private readonly putStmt;

  constructor(db: Db) {
    this.getStmt = db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?');
    this.putStmt = db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value');
  }

  get(key: string): string | undefined {
    return this.getStmt.get(key)?.value;
  }

  put(key: string, value: string): void {
    this.putStmt.run(key, value);
  }

  /** Returns the stored value, creating and storing it first if absent. */
  getOrCreate(key: string, create: () => string): { value: string; created: boolean } {
    const existing = this.get(key);
    if (existing !== undefined) return { value: existing, created: false };
    const value = create();
    this.put(key, value);
    return { value, created: true };
  }
}
