import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type Db = Database.Database;

/**
 * Schema migrations, applied in order, each once. Append only: a released migration never changes.
 */
const migrations: string[] = [
  `
  CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  CREATE TABLE applications (
    id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE TABLE numbers (
    number TEXT PRIMARY KEY,
    application_id TEXT NOT NULL
  );
  CREATE TABLE legs (
    call_control_id TEXT PRIMARY KEY,
    call_leg_id TEXT NOT NULL,
    call_session_id TEXT NOT NULL,
    connection_id TEXT NOT NULL,
    direction TEXT NOT NULL,
    from_number TEXT NOT NULL,
    to_number TEXT NOT NULL,
    state TEXT NOT NULL,
    client_state TEXT,
    start_ms INTEGER NOT NULL,
    answer_ms INTEGER,
    end_ms INTEGER,
    hangup_cause TEXT,
    hangup_source TEXT,
    sip_hangup_cause TEXT,
    webhook_url TEXT,
    webhook_failover_url TEXT
  );
  CREATE INDEX legs_alive ON legs (state) WHERE end_ms IS NULL;
  CREATE TABLE commands (
    call_control_id TEXT NOT NULL,
    command_id TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    response TEXT NOT NULL,
    PRIMARY KEY (call_control_id, command_id)
  );
  CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    order_key TEXT NOT NULL,
    event_type TEXT NOT NULL,
    call_control_id TEXT,
    data TEXT NOT NULL,
    url TEXT,
    failover_url TEXT,
    timeout_ms INTEGER NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    finished_ms INTEGER
  );
  CREATE INDEX events_pending ON events (status, order_key, seq);
  CREATE INDEX events_call ON events (call_control_id, seq);
  CREATE TABLE webhook_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    url TEXT NOT NULL,
    started_ms INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    status_code INTEGER,
    error TEXT,
    succeeded INTEGER NOT NULL
  );
  CREATE INDEX webhook_attempts_event ON webhook_attempts (event_id, id);
  CREATE TABLE virtual_phones (
    number TEXT PRIMARY KEY,
    answer TEXT NOT NULL,
    answer_delay_ms INTEGER NOT NULL,
    created_ms INTEGER NOT NULL
  );
  `,
  // Media Storage (/v2/media): metadata here, bytes in <dataDir>/media/<file_name>.
  `
  CREATE TABLE media (
    media_name TEXT PRIMARY KEY,
    file_name TEXT NOT NULL UNIQUE,
    content_type TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL
  );
  CREATE INDEX media_expiry ON media (expires_ms);
  CREATE INDEX media_created ON media (created_ms);
  `,
  // Call recordings: metadata here, audio in <dataDir>/recordings. A row in state 'recording'
  // after a restart is a recording the crash interrupted; its partial file is finalised at start.
  `
  CREATE TABLE recordings (
    id TEXT PRIMARY KEY,
    call_control_id TEXT NOT NULL,
    call_leg_id TEXT NOT NULL,
    call_session_id TEXT NOT NULL,
    connection_id TEXT NOT NULL,
    from_number TEXT NOT NULL,
    to_number TEXT NOT NULL,
    status TEXT NOT NULL,
    format TEXT NOT NULL,
    channels TEXT NOT NULL,
    track TEXT NOT NULL,
    source TEXT NOT NULL,
    file_stem TEXT NOT NULL,
    partial_file TEXT,
    wav_file TEXT,
    mp3_file TEXT,
    options TEXT NOT NULL,
    client_state TEXT,
    error TEXT,
    started_ms INTEGER NOT NULL,
    ended_ms INTEGER,
    duration_ms INTEGER,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
  );
  CREATE INDEX recordings_call ON recordings (call_control_id);
  CREATE INDEX recordings_created ON recordings (created_ms);
  CREATE INDEX recordings_status ON recordings (status);
  CREATE TABLE recording_transcriptions (
    id TEXT PRIMARY KEY,
    recording_id TEXT NOT NULL,
    status TEXT NOT NULL,
    text TEXT NOT NULL,
    language TEXT NOT NULL,
    engine TEXT NOT NULL,
    duration_ms INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
  );
  CREATE INDEX recording_transcriptions_recording ON recording_transcriptions (recording_id);
  CREATE INDEX recording_transcriptions_created ON recording_transcriptions (created_ms);
  `,
];

export function openDatabase(file: string): Db {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  // WAL with NORMAL sync survives a killed process: every committed transaction is in the log.
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

function migrate(db: Db): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null };
  const applied = row.v ?? 0;
  migrations.forEach((sql, index) => {
    const version = index + 1;
    if (version <= applied) return;
    db.transaction(() => {
      db.exec(sql);
      db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(version, new Date().toISOString());
    })();
  });
}
