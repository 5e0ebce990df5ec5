import type { Db } from './db.js';

export type RecordingStatus = 'recording' | 'completed' | 'failed';
export type RecordingFormat = 'wav' | 'mp3';
export type RecordingChannels = 'single' | 'dual';
export type RecordingTrack = 'both' | 'inbound' | 'outbound';

/** What record_start asked for beyond format and channels; kept so a crash can be finished the same way. */
export interface RecordingOptions {
  maxLengthSecs: number;
  timeoutSecs: number;
  trimSilence: boolean;
  playBeep: boolean;
  transcription: { engine: string; language: string } | null;
  /**
   * What started it, as the API's `initiated_by` reports it (e.g. `StartCallRecordingAPI` for
   * record_start); absent means record_start.
   */
  initiatedBy?: string;
}

export interface RecordingRow {
  id: string;
  callControlId: string;
  callLegId: string;
  callSessionId: string;
  connectionId: string;
  from: string;
  to: string;
  status: RecordingStatus;
  format: RecordingFormat;
  channels: RecordingChannels;
  track: RecordingTrack;
  source: 'call';
  /** The file name without extension: custom_file_name or the call leg id, plus a timestamp. */
  fileStem: string;
  /** The raw audio being written (under the recordings directory) while recording. */
  partialFile: string | null;
  wavFile: string | null;
  mp3File: string | null;
  options: RecordingOptions;
  clientState: string | null;
  /** Why it failed, for call.recording.error. */
  error: string | null;
  startedMs: number;
  endedMs: number | null;
  durationMs: number | null;
  createdMs: number;
  updatedMs: number;
}

export interface TranscriptionRow {
  id: string;
  recordingId: string;
  status: 'completed';
  text: string;
  language: string;
  engine: string;
  durationMs: number;
  createdMs: number;
  updatedMs: number;
}

export interface RecordingFilter {
  callControlId?: string;
  callLegId?: string;
  callSessionId?: string;
  connectionId?: string;
  from?: string;
  to?: string;
  /** created_ms bounds, inclusive. */
  createdAfterMs?: number;
  createdBeforeMs?: number;
  /** started_ms bounds, inclusive. */
  startedAfterMs?: number;
  startedBeforeMs?: number;
  /** ended_ms bounds, inclusive; a recording without an end never matches them. */
  endedAfterMs?: number;
  endedBeforeMs?: number;
}

export interface TranscriptionFilter {
  recordingId?: string;
  /** created_ms bounds, inclusive. */
  createdAfterMs?: number;
  createdBeforeMs?: number;
}

interface RawRecording {
  id: string;
  call_control_id: string;
  call_leg_id: string;
  call_session_id: string;
  connection_id: string;
  from_number: string;
  to_number: string;
  status: RecordingStatus;
  format: RecordingFormat;
  channels: RecordingChannels;
  track: RecordingTrack;
  source: 'call';
  file_stem: string;
  partial_file: string | null;
  wav_file: string | null;
  mp3_file: string | null;
  options: string;
  client_state: string | null;
  error: string | null;
  started_ms: number;
  ended_ms: number | null;
  duration_ms: number | null;
  created_ms: number;
  updated_ms: number;
}

interface RawTranscription {
  id: string;
  recording_id: string;
  status: 'completed';
  text: string;
  language: string;
  engine: string;
  duration_ms: number;
  created_ms: number;
  updated_ms: number;
}

const RECORDING_COLUMNS = [
  'id', 'call_control_id', 'call_leg_id', 'call_session_id', 'connection_id', 'from_number', 'to_number', 'status', 'format',
  'channels', 'track', 'source', 'file_stem', 'partial_file', 'wav_file', 'mp3_file', 'options', 'client_state', 'error',
  'started_ms', 'ended_ms', 'duration_ms', 'created_ms', 'updated_ms',
] as const;

/** The `recordings` and `recording_transcriptions` tables. */
export class RecordingRepository {
  private readonly upsertStmt;
  private readonly getStmt;
  private readonly unfinishedStmt;
  private readonly deleteStmt;
  private readonly insertTranscriptionStmt;
  private readonly getTranscriptionStmt;
  private readonly transcriptionsForStmt;
  private readonly deleteTranscriptionStmt;
  private readonly countTranscriptionsStmt;
  private readonly pageTranscriptionsStmt;

  constructor(private readonly db: Db) {
    const placeholders = RECORDING_COLUMNS.map((c) => `@${c}`).join(', ');
    const updates = RECORDING_COLUMNS.filter((c) => c !== 'id').map((c) => `${c} = excluded.${c}`).join(', ');
    this.upsertStmt = db.prepare(`INSERT INTO recordings (${RECORDING_COLUMNS.join(', ')}) VALUES (${placeholders}) ON CONFLICT(id) DO UPDATE SET ${updates}`);
    this.getStmt = db.prepare<[string], RawRecording>('SELECT * FROM recordings WHERE id = ?');
    this.unfinishedStmt = db.prepare<[], RawRecording>("SELECT * FROM recordings WHERE status = 'recording' ORDER BY created_ms");
    this.deleteStmt = db.prepare('DELETE FROM recordings WHERE id = ?');
    this.insertTranscriptionStmt = db.prepare(
      'INSERT INTO recording_transcriptions (id, recording_id, status, text, language, engine, duration_ms, created_ms, updated_ms) VALUES (@id, @recording_id, @status, @text, @language, @engine, @duration_ms, @created_ms, @updated_ms)',
    );
    this.getTranscriptionStmt = db.prepare<[string], RawTranscription>('SELECT * FROM recording_transcriptions WHERE id = ?');
    this.transcriptionsForStmt = db.prepare<[string], RawTranscription>('SELECT * FROM recording_transcriptions WHERE recording_id = ? ORDER BY created_ms');
    this.deleteTranscriptionStmt = db.prepare('DELETE FROM recording_transcriptions WHERE id = ?');
    this.countTranscriptionsStmt = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM recording_transcriptions');
    this.pageTranscriptionsStmt = db.prepare<[number, number], RawTranscription>(
      'SELECT * FROM recording_transcriptions ORDER BY created_ms DESC, id LIMIT ? OFFSET ?',
    );
  }

  save(row: RecordingRow): void {
    this.upsertStmt.run(toRaw(row));
  }

  get(id: string): RecordingRow | undefined {
    const raw = this.getStmt.get(id);
    return raw && fromRaw(raw);
  }

  /** Recordings a previous process left in progress. */
  unfinished(): RecordingRow[] {
    return this.unfinishedStmt.all().map(fromRaw);
  }

  /** Newest first; `status` other than completed is included only when asked for. */
  list(filter: RecordingFilter, page: { size: number; number: number }, statuses: readonly RecordingStatus[] = ['completed']): { rows: RecordingRow[]; total: number } {
    const q = new Conditions();
    q.where.push(`status IN (${statuses.map(() => '?').join(', ')})`);
    q.args.push(...statuses);
    q.add('call_control_id = ?', filter.callControlId);
    q.add('call_leg_id = ?', filter.callLegId);
    q.add('call_session_id = ?', filter.callSessionId);
    q.add('connection_id = ?', filter.connectionId);
    q.add('from_number = ?', filter.from);
    q.add('to_number = ?', filter.to);
    q.add('created_ms >= ?', filter.createdAfterMs);
    q.add('created_ms <= ?', filter.createdBeforeMs);
    q.add('started_ms >= ?', filter.startedAfterMs);
    q.add('started_ms <= ?', filter.startedBeforeMs);
    q.add('ended_ms >= ?', filter.endedAfterMs);
    q.add('ended_ms <= ?', filter.endedBeforeMs);
    return this.pageWhere<RawRecording, RecordingRow>('recordings', q, page, fromRaw);
  }

  delete(id: string): boolean {
    return this.deleteStmt.run(id).changes > 0;
  }

  /** Deletes these rows in one transaction: all of them or, if anything fails, none. Returns how many existed. */
  deleteMany(ids: readonly string[]): number {
    return this.db.transaction((list: readonly string[]) => {
      let n = 0;
      for (const id of new Set(list)) n += this.deleteStmt.run(id).changes;
      return n;
    })(ids);
  }

  saveTranscription(row: TranscriptionRow): void {
    this.insertTranscriptionStmt.run({
      id: row.id, recording_id: row.recordingId, status: row.status, text: row.text, language: row.language, engine: row.engine,
      duration_ms: row.durationMs, created_ms: row.createdMs, updated_ms: row.updatedMs,
    });
  }

  getTranscription(id: string): TranscriptionRow | undefined {
    const raw = this.getTranscriptionStmt.get(id);
    return raw && transcriptionFromRaw(raw);
  }

  transcriptionsFor(recordingId: string): TranscriptionRow[] {
    return this.transcriptionsForStmt.all(recordingId).map(transcriptionFromRaw);
  }

  /** Newest first. */
  listTranscriptions(page: { size: number; number: number }, filter: TranscriptionFilter = {}): { rows: TranscriptionRow[]; total: number } {
    if (filter.recordingId !== undefined || filter.createdAfterMs !== undefined || filter.createdBeforeMs !== undefined) {
      return this.listTranscriptionsWhere(page, filter);
    }
    const total = this.countTranscriptionsStmt.get()?.n ?? 0;
    const rows = this.pageTranscriptionsStmt.all(page.size, (page.number - 1) * page.size).map(transcriptionFromRaw);
    return { rows, total };
  }

  deleteTranscription(id: string): boolean {
    return this.deleteTranscriptionStmt.run(id).changes > 0;
  }

  private listTranscriptionsWhere(page: { size: number; number: number }, filter: TranscriptionFilter): { rows: TranscriptionRow[]; total: number } {
    const q = new Conditions();
    q.add('recording_id = ?', filter.recordingId);
    q.add('created_ms >= ?', filter.createdAfterMs);
    q.add('created_ms <= ?', filter.createdBeforeMs);
    return this.pageWhere<RawTranscription, TranscriptionRow>('recording_transcriptions', q, page, transcriptionFromRaw);
  }

  /** One page of `table`'s rows that meet every condition, newest first, and how many do in all. */
  private pageWhere<Raw, Row>(table: string, q: Conditions, page: { size: number; number: number }, map: (raw: Raw) => Row): { rows: Row[]; total: number } {
    const clause = q.where.length > 0 ? `WHERE ${q.where.join(' AND ')}` : '';
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM ${table} ${clause}`).get(...q.args) as { n: number }).n;
    const rows = this.db
      .prepare(`SELECT * FROM ${table} ${clause} ORDER BY created_ms DESC, id LIMIT ? OFFSET ?`)
      .all(...q.args, page.size, (page.number - 1) * page.size) as Raw[];
    return { rows: rows.map(map), total };
  }
}

function toRaw(row: RecordingRow): RawRecording {
  return {
    id: row.id, call_control_id: row.callControlId, call_leg_id: row.callLegId, call_session_id: row.callSessionId,
    connection_id: row.connectionId, from_number: row.from, to_number: row.to, status: row.status, format: row.format,
    channels: row.channels, track: row.track, source: row.source, file_stem: row.fileStem, partial_file: row.partialFile,
    wav_file: row.wavFile, mp3_file: row.mp3File, options: JSON.stringify(row.options), client_state: row.clientState,
    error: row.error, started_ms: row.startedMs, ended_ms: row.endedMs, duration_ms: row.durationMs, created_ms: row.createdMs,
    updated_ms: row.updatedMs,
  };
}

function fromRaw(raw: RawRecording): RecordingRow {
  return {
    id: raw.id, callControlId: raw.call_control_id, callLegId: raw.call_leg_id, callSessionId: raw.call_session_id,
    connectionId: raw.connection_id, from: raw.from_number, to: raw.to_number, status: raw.status, format: raw.format,
    channels: raw.channels, track: raw.track, source: raw.source, fileStem: raw.file_stem, partialFile: raw.partial_file,
    wavFile: raw.wav_file, mp3File: raw.mp3_file, options: JSON.parse(raw.options) as RecordingOptions, clientState: raw.client_state,
    error: raw.error, startedMs: raw.started_ms, endedMs: raw.ended_ms, durationMs: raw.duration_ms, createdMs: raw.created_ms,
    updatedMs: raw.updated_ms,
  };
}

function transcriptionFromRaw(raw: RawTranscription): TranscriptionRow {
  return {
    id: raw.id, recordingId: raw.recording_id, status: raw.status, text: raw.text, language: raw.language, engine: raw.engine,
    durationMs: raw.duration_ms, createdMs: raw.created_ms, updatedMs: raw.updated_ms,
  };
}

/** The conditions of a filtered query and their values; a condition whose value is absent is left out. */
class Conditions {
  readonly where: string[] = [];
  readonly args: (string | number)[] = [];

  add(expr: string, value: string | number | undefined): void {
    if (value === undefined) return;
    this.where.push(expr);
    this.args.push(value);
  }
}
