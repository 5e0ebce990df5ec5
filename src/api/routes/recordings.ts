import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RECORDING_FORMATS, PUBLIC_RECORDINGS_PREFIX, type RecordingFileFormat, type RecordingFiles } from '../../recordings/recording-files.js';
import type { RecordingFilter, RecordingRepository, RecordingRow } from '../../store/recording-repository.js';
import { errors, fieldError, type ErrorItem } from '../errors.js';
import { ListQuery, pageMeta } from '../list-query.js';

type Query = Record<string, string | string[] | undefined>;
type IdParams = { recording_id: string };

/** The filters of GET /v2/recordings, as the spec and the SDK name them. */
const FILTERS = [
  'filter[call_control_id]', 'filter[call_leg_id]', 'filter[call_session_id]', 'filter[conference_id]', 'filter[conference_region]',
  'filter[connection_id]', 'filter[created_at][gte]', 'filter[created_at][lte]', 'filter[end_time][gte]', 'filter[end_time][lte]',
  'filter[from]', 'filter[sip_call_id]', 'filter[start_time][gte]', 'filter[start_time][lte]', 'filter[to]',
] as const;

/** A batch delete names at most this many recordings. */
export const MAX_BATCH_DELETE = 1000;

/**
 * `/v2/recordings`: the call recordings the recorder finished. Only `completed` recordings exist
 * for the API (the spec's only status); one still being recorded or that failed is not found.
 * Also serves the audio: `/v2/recordings/{id}/download/{wav|mp3}` with the API key, and
 * `/public/recordings/{id}/{token}.{wav|mp3}` without (see RecordingFiles).
 */
export function registerRecordingRoutes(
  app: FastifyInstance,
  deps: { recordings: RecordingRepository; files: RecordingFiles },
): void {
  const { recordings, files } = deps;

  /** The completed recording with this id, or a 404. */
  const completed = (id: string): RecordingRow => {
    const row = recordings.get(id);
    if (!row || row.status !== 'completed') throw errors.recordingNotFound();
    return row;
  };

  app.get<{ Querystring: Query }>('/v2/recordings', async (request) => {
    const q = new ListQuery(request.query, FILTERS);
    const page = q.page();
    const filter: RecordingFilter = {};
    const set = <K extends keyof RecordingFilter>(key: K, value: RecordingFilter[K] | undefined): void => {
      if (value !== undefined) filter[key] = value;
    };
    set('callControlId', q.string('filter[call_control_id]'));
    set('callLegId', q.string('filter[call_leg_id]'));
    set('callSessionId', q.string('filter[call_session_id]'));
    set('connectionId', q.string('filter[connection_id]'));
    set('from', q.string('filter[from]'));
    set('to', q.string('filter[to]'));
    set('createdAfterMs', q.time('filter[created_at][gte]', 'gte'));
    set('createdBeforeMs', q.time('filter[created_at][lte]', 'lte'));
    set('startedAfterMs', q.time('filter[start_time][gte]', 'gte'));
    set('startedBeforeMs', q.time('filter[start_time][lte]', 'lte'));
    set('endedAfterMs', q.time('filter[end_time][gte]', 'gte'));
    set('endedBeforeMs', q.time('filter[end_time][lte]', 'lte'));
    // Switchboard records calls, not conferences, and keeps no SIP Call-ID on a recording: no
    // recording has these attributes, so a filter on them matches none.
    const unmatchable = ['filter[conference_id]', 'filter[conference_region]', 'filter[sip_call_id]'].some((k) => q.string(k) !== undefined);
    const result = unmatchable ? { rows: [], total: 0 } : recordings.list(filter, page);
    return { data: result.rows.map((row) => present(row, files)), meta: pageMeta(page, result.total) };
  });

  app.get<{ Params: IdParams }>('/v2/recordings/:recording_id', async (request) => {
    return { data: present(completed(request.params.recording_id), files) };
  });

  app.delete<{ Params: IdParams }>('/v2/recordings/:recording_id', async (request) => {
    const row = completed(request.params.recording_id);
    recordings.delete(row.id);
    await files.deleteFiles(row);
    // The resource as it was, less the download URLs: they stopped working with the delete.
    return { data: { ...present(row, files), download_urls: {} } };
  });

  app.post('/v2/recordings/actions/delete', async (request) => {
    const ids = batchIds(request.body);
    const missing = ids.flatMap((id, index) => {
      const row = recordings.get(id);
      return row && row.status === 'completed' ? [] : [{ index, id }];
    });
    // All or nothing: one unknown id and nothing is deleted, so a retry after fixing it is clean.
    if (missing.length > 0) throw errors.recordingsNotFound(missing);
    const rows = [...new Set(ids)].map((id) => recordings.get(id) as RecordingRow);
    recordings.deleteMany(rows.map((r) => r.id));
    for (const row of rows) await files.deleteFiles(row);
    return { status: 'ok' };
  });

  app.get<{ Params: IdParams & { format: string } }>('/v2/recordings/:recording_id/download/:format', async (request, reply) => {
    const row = completed(request.params.recording_id);
    const format = request.params.format;
    if (!isFormat(format)) throw errors.recordingFileNotFound(format);
    return serveFile(request, reply, files, row, format, 'private, no-store');
  });

  app.get<{ Params: IdParams & { file: string }; Querystring: Query }>(
    `${PUBLIC_RECORDINGS_PREFIX}/:recording_id/:file`,
    { config: { public: true } },
    async (request, reply) => {
      const { recording_id: id, file } = request.params;
      const match = /^([A-Za-z0-9_-]{1,100})\.(wav|mp3)$/.exec(file);
      const expires = request.query['expires'];
      if (!match || Array.isArray(expires)) throw errors.recordingUrlNotFound();
      const token = match[1] as string;
      const format = match[2] as RecordingFileFormat;
      if (!files.verify(id, format, token, expires)) throw errors.recordingUrlNotFound();
      const row = recordings.get(id);
      if (!row || row.status !== 'completed') throw errors.recordingUrlNotFound();
      return serveFile(request, reply, files, row, format, 'no-store');
    },
  );
}

/** The RecordingResponseData of the spec. */
export function present(row: RecordingRow, files: RecordingFiles): Record<string, unknown> {
  const data: Record<string, unknown> = {
    id: row.id,
    record_type: 'recording',
    call_control_id: row.callControlId,
    call_leg_id: row.callLegId,
    call_session_id: row.callSessionId,
    channels: row.channels,
    connection_id: row.connectionId,
    created_at: iso(row.createdMs),
    updated_at: iso(row.updatedMs),
    download_urls: files.downloadUrls(row),
    duration_millis: row.durationMs ?? (row.endedMs !== null ? Math.max(0, row.endedMs - row.startedMs) : 0),
    from: row.from,
    to: row.to,
    initiated_by: row.options.initiatedBy ?? 'StartCallRecordingAPI',
    recording_started_at: iso(row.startedMs),
    source: row.source,
    status: 'completed',
  };
  if (row.endedMs !== null) data['recording_ended_at'] = iso(row.endedMs);
  return data;
}

/** The resource's own timestamps: ISO 8601 in milliseconds, as the spec's examples give them. */
function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function isFormat(value: string): value is RecordingFileFormat {
  return (RECORDING_FORMATS as readonly string[]).includes(value);
}

/** The `ids` of a batch delete, checked: a non-empty-string array, at most MAX_BATCH_DELETE long. */
function batchIds(body: unknown): string[] {
  const input = body === undefined ? {} : body;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw errors.validation([fieldError.type('', 'object')]);
  const problems: ErrorItem[] = [];
  for (const key of Object.keys(input)) if (key !== 'ids') problems.push(fieldError.unknownField(`/${key}`, key));
  const ids = (input as { ids?: unknown }).ids;
  if (ids === undefined || ids === null) {
    problems.push(fieldError.missing('/ids', 'ids'));
  } else if (!Array.isArray(ids)) {
    problems.push(fieldError.type('/ids', 'array'));
  } else {
    if (ids.length > MAX_BATCH_DELETE) problems.push(fieldError.range('/ids', `At most ${MAX_BATCH_DELETE} ids can be deleted at once.`));
    ids.forEach((id, i) => {
      if (typeof id !== 'string') problems.push(fieldError.type(`/ids/${i}`, 'string'));
      else if (id.trim() === '') problems.push(fieldError.invalid(`/ids/${i}`, 'A recording id cannot be blank.'));
    });
  }
  if (problems.length > 0) throw errors.validation(problems);
  return ids as string[];
}

/**
 * Streams a recording file: 200 with the whole file, or 206 for one satisfiable `bytes=` range
 * (416 when none of it is in the file). Several ranges, a malformed header or an If-Range (we
 * offer no validators to match it) get the whole file, as RFC 9110 allows.
 */
async function serveFile(
  request: FastifyRequest,
  reply: FastifyReply,
  files: RecordingFiles,
  row: RecordingRow,
  format: RecordingFileFormat,
  cacheControl: string,
): Promise<FastifyReply> {
  const file = await files.open(row, format);
  if (!file) throw errors.recordingFileNotFound(format);
  const range = request.headers['if-range'] === undefined ? parseRange(request.headers.range, file.size) : null;
  if (range === 'unsatisfiable') {
    await file.handle.close();
    throw errors.rangeNotSatisfiable(file.size);
  }
  const start = range?.start ?? 0;
  const end = range?.end ?? file.size - 1;
  void reply
    .code(range ? 206 : 200)
    .type(file.contentType)
    .header('accept-ranges', 'bytes')
    .header('cache-control', cacheControl)
    .header('content-disposition', `attachment; filename="${file.fileName.replace(/[^A-Za-z0-9._+-]/g, '_')}"`)
    .header('content-length', String(Math.max(0, end - start + 1)));
  if (range) void reply.header('content-range', `bytes ${start}-${end}/${file.size}`);
  if (request.method === 'HEAD' || file.size === 0) {
    await file.handle.close();
    return reply.send(Readable.from([]));
  }
  return reply.send(file.handle.createReadStream({ start, end }));
}

/** One `bytes=a-b`, `bytes=a-` or `bytes=-n` range; null to ignore the header. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | null {
  if (header === undefined) return null;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m) return null;
  const [, a = '', b = ''] = m;
  if (a === '' && b === '') return null;
  if (a === '') {
    const suffix = Number(b);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(a);
  const end = b === '' ? size - 1 : Number(b);
  if (b !== '' && end < start) return null;
  if (start >= size) return 'unsatisfiable';
  return { start, end: Math.min(end, size - 1) };
}
