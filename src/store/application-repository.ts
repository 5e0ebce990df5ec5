import { randomInt } from 'node:crypto';
import { applicationDefaults, writableApplicationFields, type Application } from '../applications/application.js';
import type { Db } from './db.js';

export interface ApplicationPage {
  data: Application[];
  total: number;
}

export class ApplicationRepository {
  private readonly db: Db;
  private readonly getStmt;
  private readonly insertStmt;
  private readonly updateStmt;
  private readonly deleteStmt;

  constructor(db: Db) {
    this.db = db;
    this.getStmt = db.prepare<[string], { body: string }>('SELECT body FROM applications WHERE id = ?');
    this.insertStmt = db.prepare('INSERT INTO applications (id, body, created_at, updated_at) VALUES (?, ?, ?, ?)');
    this.updateStmt = db.prepare('UPDATE applications SET body = ?, updated_at = ? WHERE id = ?');
    this.deleteStmt = db.prepare('DELETE FROM applications WHERE id = ?');
  }

  get(id: string): Application | undefined {
    const row = this.getStmt.get(id);
    return row ? (JSON.parse(row.body) as Application) : undefined;
  }

  create(fields: Record<string, unknown>, now: Date, id = newApplicationId()): Application {
    const stamp = now.toISOString();
    const app = {
      ...applicationDefaults(),
      ...pickWritable(fields),
      id,
      created_at: stamp,
      updated_at: stamp,
    } as Application;
    this.insertStmt.run(app.id, JSON.stringify(app), stamp, stamp);
    return app;
  }

  update(id: string, fields: Record<string, unknown>, now: Date): Application | undefined {
    const current = this.get(id);
    if (!current) return undefined;
    const patch = pickWritable(fields);
    const updated: Application = {
      ...current,
      ...patch,
      // Nested settings merge, so a PATCH of one inbound field keeps the others.
      inbound: { ...current.inbound, ...((patch['inbound'] as Record<string, unknown> | undefined) ?? {}) },
      outbound: { ...current.outbound, ...((patch['outbound'] as Record<string, unknown> | undefined) ?? {}) },
      updated_at: now.toISOString(),
    } as Application;
    this.updateStmt.run(JSON.stringify(updated), updated.updated_at, id);
    return updated;
  }

  /** Creates or replaces an application named in the configuration file; the file wins over the API. */
  upsertConfigured(fields: Record<string, unknown> & { id: string }, now: Date): Application {
    const existing = this.get(fields.id);
    return existing ? (this.update(fields.id, fields, now) as Application) : this.create(fields, now, fields.id);
  }

  delete(id: string): Application | undefined {
    const current = this.get(id);
    if (current) this.deleteStmt.run(id);
    return current;
  }

  list(opts: { nameContains?: string; sort: string; page: number; size: number }): ApplicationPage {
    const column = SORT_COLUMNS[opts.sort.replace(/^-/, '')] ?? 'created_at';
    const direction = opts.sort.startsWith('-') ? 'DESC' : 'ASC';
    const where = opts.nameContains ? "WHERE instr(lower(json_extract(body, '$.application_name')), lower(?)) > 0" : '';
    const params = opts.nameContains ? [opts.nameContains] : [];
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM applications ${where}`).get(...params) as { n: number }).n;
    const rows = this.db
      .prepare(`SELECT body FROM applications ${where} ORDER BY ${column} ${direction}, rowid ${direction} LIMIT ? OFFSET ?`)
      .all(...params, opts.size, (opts.page - 1) * opts.size) as { body: string }[];
    return { data: rows.map((r) => JSON.parse(r.body) as Application), total };
  }
}

/** Sort names the API accepts → SQL; `connection_name` is Telnyx's name for application_name. */
const SORT_COLUMNS: Record<string, string> = {
  created_at: 'created_at',
  connection_name: "json_extract(body, '$.application_name')",
  active: "json_extract(body, '$.active')",
};

function pickWritable(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of writableApplicationFields) if (fields[key] !== undefined) out[key] = fields[key];
  return out;
}

/** Telnyx application ids are 19-digit int64 strings. */
function newApplicationId(): string {
  return `${randomInt(1, 9)}${Array.from({ length: 18 }, () => randomInt(0, 10)).join('')}`;
}
