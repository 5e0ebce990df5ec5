/** Call recording: the live spool, finalising it into WAV/MP3, the start beep and the silence timer. */
export {
  RecordingSpool,
  SpoolWriteBatch,
  SPOOL_SUFFIX,
  spoolLayout,
  type RecordingChannels,
  type RecordingSpoolOptions,
  type RecordingTrack,
  type SpoolLayout,
} from './spool.js';
export {
  RecordingFinalizeError,
  configureFinalizers,
  defaultOutputPath,
  finalizeRecording,
  findSpools,
  recoverSpool,
  shutdownFinalizers,
  type FinalizeFailure,
  type FinalizeOptions,
  type FinalizedRecording,
  type RecordingFormat,
} from './finalize.js';
export { recordingBeep, RECORDING_BEEP, type BeepOptions } from './beep.js';
export { SilenceTimer, type SpeechDecision } from './silence-timer.js';
export { SpeechRangeFinder, DEFAULT_TRIM_MARGIN_MS, MIN_TALKSPURT_FRAMES, type SampleRange } from './speech-range.js';
export { DEFAULT_MP3_KBPS_PER_CHANNEL, type Mp3KbpsPerChannel } from './mp3-writer.js';
