/** Request bodies for record_start, record_stop, record_pause, record_resume. */
import { bool, commandFields, int, stringEnum, requestBody, str } from './common.js';
import { RECORDING_TRANSCRIPTION_LANGUAGES } from './languages.js';

export const recordStartSchema = requestBody({
  ...commandFields,
  channels: stringEnum(['single', 'dual']),
  custom_file_name: { type: 'string', minLength: 1, maxLength: 40 },
  format: stringEnum(['wav', 'mp3']),
  // 0 means no limit; note the cap is lower than dial/answer's record_max_length.
  max_length: int({ min: 0, max: 14400, default: 0 }),
  play_beep: bool(),
  recording_track: stringEnum(['both', 'inbound', 'outbound'], 'both'),
  timeout_secs: int({ min: 0, default: 0 }),
  transcription: bool(false),
  transcription_engine: stringEnum(['A', 'B', 'deepgram/nova-3'], 'A'),
  transcription_language: stringEnum(RECORDING_TRANSCRIPTION_LANGUAGES, 'en-US'),
  transcription_max_speaker_count: int({ min: 1, default: 6 }),
  transcription_min_speaker_count: int({ min: 1, default: 2 }),
  transcription_profanity_filter: bool(false),
  transcription_speaker_diarization: bool(false),
  trim: stringEnum(['trim-silence']),
}, ['format', 'channels']);

/** Stop, pause and resume share one body; without recording_id they act on every recording of the leg. */
const recordingTarget = () => requestBody({ ...commandFields, recording_id: str });

export const recordStopSchema = recordingTarget();
export const recordPauseSchema = recordingTarget();
export const recordResumeSchema = recordingTarget();
