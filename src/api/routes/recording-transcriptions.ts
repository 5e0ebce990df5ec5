import type { FastifyInstance } from 'fastify';
import type { RecordingRepository, TranscriptionFilter, TranscriptionRow } from '../../store/recording-repository.js';
import { errors } from '../errors.js';
import { ListQuery, pageMeta } from '../list-query.js';

type Query = Record<string, string | string[] | undefined>;
type IdParams = { recording_transcription_id: string };

const FILTERS = ['filter[recording_id]', 'filter[created_at][gte]', 'filter[created_at][lte]'] as const;

/**
 * `/v2/recording_transcriptions`: the texts of recordings made with `transcription: true`.
 * The list is paged by number (page[number], page[size]) with the same meta as /v2/recordings,
 * which is what the SDK's pager reads (see the report on the spec's cursor meta).
 */
export function registerRecordingTranscriptionRoutes(app: FastifyInstance, deps: { recordings: RecordingRepository }): void {
  const { recordings } = deps;

  const found = (id: string): TranscriptionRow => {
    const row = recordings.getTranscription(id);
    if (!row) throw errors.transcriptionNotFound();
    return row;
  };

  app.get<{ Querystring: Query }>('/v2/recording_transcriptions', async (request) => {
    const q = new ListQuery(request.query, FILTERS);
    const page = q.page();
    const filter: TranscriptionFilter = {};
    const recordingId = q.string('filter[recording_id]');
    const after = q.time('filter[created_at][gte]', 'gte');
    const before = q.time('filter[created_at][lte]', 'lte');
    if (recordingId !== undefined) filter.recordingId = recordingId;
    if (after !== undefined) filter.createdAfterMs = after;
    if (before !== undefined) filter.createdBeforeMs = before;
    const result = recordings.listTranscriptions(page, filter);
    return { data: result.rows.map(presentTranscription), meta: pageMeta(page, result.total) };
  });

  app.get<{ Params: IdParams }>('/v2/recording_transcriptions/:recording_transcription_id', async (request) => {
    return { data: presentTranscription(found(request.params.recording_transcription_id)) };
  });

  app.delete<{ Params: IdParams }>('/v2/recording_transcriptions/:recording_transcription_id', async (request) => {
    const row = found(request.params.recording_transcription_id);
    recordings.deleteTranscription(row.id);
    return { data: presentTranscription(row) };
  });
}

/** The RecordingTranscription of the spec. */
export function presentTranscription(row: TranscriptionRow): Record<string, unknown> {
  return {
    id: row.id,
    record_type: 'recording_transcription',
    recording_id: row.recordingId,
    status: row.status,
    transcription_text: row.text,
    duration_millis: row.durationMs,
    created_at: new Date(row.createdMs).toISOString(),
    updated_at: new Date(row.updatedMs).toISOString(),
  };
}
