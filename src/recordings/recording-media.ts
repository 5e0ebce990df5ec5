import { VoiceActivityDetector } from '../media/dsp/vad.js';
import { FRAME_SAMPLES } from '../media/frame.js';
import { finalizeRecording, RecordingSpool, recordingBeep, SilenceTimer, SpoolWriteBatch } from '../media/recording/index.js';
import type { RecordingMedia, SilenceWatch } from './recording-service.js';

/** The recording service's media: spool files, finalising to WAV/MP3, silence detection, beep. */
export function recordingMedia(log: (message: string, fields?: object) => void): RecordingMedia {
  const beep = recordingBeep();
  // Spools fill during the media tick's pass; their writes are made together once it is over.
  const batch = new SpoolWriteBatch();
  return {
    openSpool(path, layout) {
      // The spool itself is the writer: append runs every tick, so no wrapper sits in between.
      return RecordingSpool.create(path, {
        channels: layout.channels,
        track: layout.track,
        onError: (error) => log('recording spool write failed', { path, error: error.message }),
        batch,
      });
    },
    async finalize(spoolPath, options) {
      const result = await finalizeRecording(spoolPath, {
        format: options.format, trimSilence: options.trimSilence, output: `${options.outputStem}.${options.format}`,
      });
      return { file: result.file, durationMs: result.durationMs };
    },
    silenceWatch: (timeoutSecs) => new VadSilenceWatch(timeoutSecs * 1000),
    beep: () => beep,
  };
}

/** timeout_secs: the detector's decisions fed to a silence timer, one frame at a time. */
class VadSilenceWatch implements SilenceWatch {
  private readonly vad = new VoiceActivityDetector();
  private readonly timer: SilenceTimer;
  private static readonly silent = new Int16Array(FRAME_SAMPLES);

  constructor(timeoutMs: number) {
    this.timer = new SilenceTimer(timeoutMs);
  }

  frame(frame: Int16Array | null): boolean {
    this.vad.process(frame ?? VadSilenceWatch.silent);
    return this.timer.update(this.vad);
  }
}
