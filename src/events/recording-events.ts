import type { LegRecord } from '../calls/leg-record.js';
import type { RecordingRow, TranscriptionRow } from '../store/recording-repository.js';
import { isoMicros } from '../util/time.js';
import { callingPartyType } from './ai-events.js';

/** call.recording.* payloads, beyond the five fields every call event carries. */
export const recordingEvents = {
  saved: (leg: LegRecord, row: RecordingRow, urls: { recording_urls: Record<string, string>; public_recording_urls: Record<string, string> }) => ({
    type: 'call.recording.saved',
    payload: {
      recording_id: row.id,
      channels: row.channels,
      format: row.format,
      recording_started_at: isoMicros(row.startedMs),
      recording_ended_at: isoMicros(row.endedMs ?? row.startedMs),
      start_time: isoMicros(row.startedMs),
      end_time: isoMicros(row.endedMs ?? row.startedMs),
      duration_millis: row.durationMs ?? 0,
      recording_urls: urls.recording_urls,
      public_recording_urls: urls.public_recording_urls,
      from: leg.from,
      to: leg.to,
    },
  }),
  /** `reason` is from Telnyx's list; `detail` says in words what went wrong. */
  error: (leg: LegRecord, row: RecordingRow, reason: string, detail: string) => ({
    type: 'call.recording.error',
    payload: { recording_id: row.id, reason, detail, from: leg.from, to: leg.to },
  }),
  transcriptionSaved: (leg: LegRecord, row: RecordingRow, transcription: TranscriptionRow) => ({
    type: 'call.recording.transcription.saved',
    payload: {
      recording_id: row.id,
      recording_transcription_id: transcription.id,
      status: transcription.status,
      transcription_text: transcription.text,
      calling_party_type: callingPartyType(leg),
    },
  }),
};
