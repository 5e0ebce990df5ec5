import { errors } from '../api/errors.js';
import type { CallEngine } from '../calls/call-engine.js';
import type { CallAction } from '../calls/command-router.js';
import type { RecordingService, StartRecording } from '../recordings/recording-service.js';
import type { RecordingChannels, RecordingFormat, RecordingTrack } from '../store/recording-repository.js';

const ok = { result: 'ok' };

/** record_start, record_stop, record_pause, record_resume. */
export function recordingActions(engine: CallEngine, recordings: RecordingService): Record<string, CallAction> {
  /** The recordings a stop/pause/resume names: the one in recording_id, or all of the leg's. */
  const targets = (callControlId: string, body: Record<string, unknown>): string[] => {
    const recordingId = typeof body['recording_id'] === 'string' ? body['recording_id'] : undefined;
    const ids = recordings.select(callControlId, recordingId);
    if (ids.length === 0) throw errors.recordingNotFound(recordingId === undefined ? undefined : '/recording_id');
    return ids;
  };
  return {
    record_start: {
      precondition: 'answered',
      run: ({ leg, body }) => {
        if (!engine.audioStarted(leg.callControlId)) throw errors.recordingBeforeAudio();
        recordings.start(leg, recordStartRequest(body));
        return { ...ok };
      },
    },
    record_stop: {
      precondition: 'answered',
      run: ({ leg, body }) => {
        for (const id of targets(leg.callControlId, body)) recordings.stop(id);
        return { ...ok };
      },
    },
    record_pause: {
      precondition: 'answered',
      run: ({ leg, body }) => {
        for (const id of targets(leg.callControlId, body)) recordings.pause(id);
        return { ...ok };
      },
    },
    record_resume: {
      precondition: 'answered',
      run: ({ leg, body }) => {
        for (const id of targets(leg.callControlId, body)) recordings.resume(id);
        return { ...ok };
      },
    },
  };
}

/** record_start's body as a recording request (the schema has checked every field). */
export function recordStartRequest(body: Record<string, unknown>): StartRecording {
  const track = (body['recording_track'] ?? 'both') as RecordingTrack;
  return {
    format: body['format'] as RecordingFormat,
    // A single track is one voice: mono whatever `channels` says.
    channels: track === 'both' ? (body['channels'] as RecordingChannels) : 'single',
    track,
    customFileName: typeof body['custom_file_name'] === 'string' ? body['custom_file_name'] : null,
    options: {
      maxLengthSecs: num(body['max_length']),
      timeoutSecs: num(body['timeout_secs']),
      trimSilence: body['trim'] === 'trim-silence',
      playBeep: body['play_beep'] === true,
      transcription: body['transcription'] === true
        ? { engine: String(body['transcription_engine'] ?? 'A'), language: String(body['transcription_language'] ?? 'en-US') }
        : null,
    },
  };
}

/** The `record_*` fields of dial and answer (record-from-answer) as a recording request. */
export function recordFromAnswerRequest(body: Record<string, unknown>): StartRecording | null {
  if (body['record'] !== 'record-from-answer') return null;
  const track = (body['record_track'] ?? 'both') as RecordingTrack;
  return {
    format: (body['record_format'] ?? 'mp3') as RecordingFormat,
    channels: track === 'both' ? ((body['record_channels'] ?? 'dual') as RecordingChannels) : 'single',
    track,
    customFileName: typeof body['record_custom_file_name'] === 'string' ? body['record_custom_file_name'] : null,
    options: {
      maxLengthSecs: num(body['record_max_length']),
      timeoutSecs: num(body['record_timeout_secs']),
      trimSilence: body['record_trim'] === 'trim-silence',
      playBeep: false,
      transcription: null,
    },
  };
}

function num(value: unknown): number {
  return typeof value === 'number' ? value : 0;
}
