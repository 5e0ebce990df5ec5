import { join } from 'node:path';
import type { AudioTap, PlayRequest } from '../calls/leg-audio.js';
import type { LegRecord } from '../calls/leg-record.js';
import type { BuiltEvent } from '../events/catalogue.js';
import { recordingEvents } from '../events/recording-events.js';
import { FRAME_MS } from '../media/frame.js';
import type { RecordingChannels, RecordingFormat, RecordingOptions, RecordingRepository, RecordingRow, RecordingTrack } from '../store/recording-repository.js';
import type { Clock } from '../util/clock.js';
import type { IdSource } from '../util/ids.js';

/** What the service needs from the recording media layer (spool files, VAD, encoding). */
export interface RecordingMedia {
  /** Opens an append-only spool for one recording (synchronously: the command answers with its id). */
  openSpool(path: string, layout: { channels: RecordingChannels; track: RecordingTrack }): RecordingSpoolWriter;
  /** Turns a spool (complete, or cut short by a crash) into the final file and removes the spool. */
  finalize(spoolPath: string, options: { format: RecordingFormat; trimSilence: boolean; outputStem: string }): Promise<{ file: string; durationMs: number }>;
  /** Watches one track for `timeout_secs`: true from the frame that ends the silence after speech. */
  silenceWatch(timeoutSecs: number): SilenceWatch;
  /** The beep played at record start. */
  beep(): Int16Array;
}

export interface SilenceWatch {
  frame(frame: Int16Array | null): boolean;
}

export interface RecordingSpoolWriter {
  append(inbound: Int16Array | null, outbound: Int16Array | null): void;
  /** Around a pause, so the cut is faded rather than a click. */
  pause(): void;
  resume(): void;
  close(): void | Promise<void>;
}

/** What the service needs from the call engine. */
export interface RecordingEngine {
  addAudioTap(callControlId: string, tap: AudioTap): () => void;
  play(callControlId: string, request: PlayRequest): unknown;
}

export interface RecordingServiceDeps {
  engine: RecordingEngine;
  repository: RecordingRepository;
  /** Where spools and final files live. */
  dir: string;
  media: RecordingMedia;
  publish: (leg: LegRecord, event: BuiltEvent) => void;
  /** The stored leg record, for recordings finished after a restart. */
  findLeg: (callControlId: string) => LegRecord | undefined;
  /** URLs for call.recording.saved: authorised and public. */
  urls: (row: RecordingRow) => { recording_urls: Record<string, string>; public_recording_urls: Record<string, string> };
  /** Transcribes a finished recording; rejects with a clear reason when no engine can. */
  transcribe: (file: string, language: string) => Promise<{ text: string; engine: string }>;
  clock: Clock;
  ids: IdSource;
  log: (message: string, fields?: object) => void;
}

export interface StartRecording {
  format: RecordingFormat;
  channels: RecordingChannels;
  track: RecordingTrack;
  customFileName: string | null;
  options: RecordingOptions;
}

/**
 * Call recordings: one active recording per record_start, fed both directions of the leg's audio
 * every tick. Audio goes to a spool file as it arrives (so a crash loses at most the last moment
 * of it); stopping, a hangup, max_length or the silence timeout finalises the spool into WAV or
 * MP3 and reports call.recording.saved, then the transcription when one was asked for.
 */
export class RecordingService {
  private readonly active = new Map<string, ActiveRecording>();
  private readonly finishing = new Set<Promise<void>>();
  private readonly onAnswer = new Map<string, StartRecording>();

  constructor(private readonly deps: RecordingServiceDeps) {}

  /** Starts recording an answered leg; returns the recording id. */
  start(leg: LegRecord, request: StartRecording): string {
    const { deps } = this;
    const id = deps.ids.uuid();
    const now = deps.clock.now();
    const stem = `${request.customFileName ?? leg.callLegId}-${Math.floor(now / 1000)}`;
    const row: RecordingRow = {
      id, callControlId: leg.callControlId, callLegId: leg.callLegId, callSessionId: leg.callSessionId, connectionId: leg.connectionId,
      from: leg.from, to: leg.to, status: 'recording', format: request.format, channels: request.channels, track: request.track,
      source: 'call', fileStem: `${stem}-${id.slice(0, 8)}`, partialFile: `${id}.spool`, wavFile: null, mp3File: null,
      options: request.options, clientState: leg.clientState, error: null, startedMs: now, endedMs: null, durationMs: null,
      createdMs: now, updatedMs: now,
    };
    let spool: RecordingSpoolWriter;
    try {
      spool = deps.media.openSpool(join(deps.dir, row.partialFile as string), { channels: request.channels, track: request.track });
    } catch (error) {
      // The command (or the answer it came with) still succeeds; the app hears of the failure.
      deps.repository.save({ ...row, status: 'failed', error: String(error), partialFile: null, endedMs: now });
      deps.log('recording could not start', { recording_id: id, error: String(error) });
      deps.publish(leg, recordingEvents.error(leg, row, 'Internal server error', `The recording file could not be created: ${String(error)}`));
      return id;
    }
    // Stored before audio flows: from here on a crash leaves a row to finish at the next start.
    deps.repository.save(row);
    const watch = request.options.timeoutSecs > 0 ? deps.media.silenceWatch(request.options.timeoutSecs) : null;
    const recording = new ActiveRecording(row, spool, watch, (reason) => void this.finish(recording, reason));
    this.active.set(id, recording);
    recording.removeTap = deps.engine.addAudioTap(leg.callControlId, recording);
    if (request.options.playBeep) {
      deps.engine.play(leg.callControlId, { kind: 'playback', overlay: false, loops: 1, audio: deps.media.beep(), source: {}, events: false });
    }
    return id;
  }

  /** Starts a recording when the leg is answered (dial with `record: record-from-answer`). */
  startOnAnswer(callControlId: string, request: StartRecording): void {
    this.onAnswer.set(callControlId, request);
  }

  /** The engine reports every answer here. */
  answered(leg: LegRecord): void {
    const request = this.onAnswer.get(leg.callControlId);
    if (!request) return;
    this.onAnswer.delete(leg.callControlId);
    try {
      this.start(leg, request);
    } catch (error) {
      this.deps.log('recording from answer could not start', { call_control_id: leg.callControlId, error: String(error) });
    }
  }

  /** The leg ended before it was answered: nothing to record. */
  forget(callControlId: string): void {
    this.onAnswer.delete(callControlId);
  }

  /** The recordings of a leg that `recording_id` (or, without it, every active one) designates. */
  select(callControlId: string, recordingId: string | undefined): string[] {
    const ids = [...this.active.values()]
      .filter((r) => r.row.callControlId === callControlId && (recordingId === undefined || r.row.id === recordingId))
      .map((r) => r.row.id);
    return ids;
  }

  stop(id: string): void {
    const recording = this.active.get(id);
    if (recording) void this.finish(recording, 'stopped');
  }

  pause(id: string): void {
    const recording = this.active.get(id);
    if (!recording || recording.paused) return;
    recording.paused = true;
    recording.spool.pause();
  }

  resume(id: string): void {
    const recording = this.active.get(id);
    if (!recording?.paused) return;
    recording.paused = false;
    recording.spool.resume();
  }

  /** Waits for recordings being finalised (shutdown, tests). */
  async idle(): Promise<void> {
    await Promise.all([...this.finishing]);
  }

  /**
   * Recordings a crash interrupted: their spools hold everything written before it. Each is
   * finalised and reported like any other.
   */
  async recoverAfterRestart(): Promise<number> {
    const rows = this.deps.repository.unfinished();
    for (const row of rows) await this.finalize(row, 'recovered');
    return rows.length;
  }

  private finish(recording: ActiveRecording, reason: string): Promise<void> {
    if (recording.finished) return Promise.resolve();
    recording.finished = true;
    recording.removeTap?.();
    this.active.delete(recording.row.id);
    const done = (async () => {
      await recording.spool.close();
      await this.finalize(recording.row, reason);
    })().catch((error: unknown) => this.deps.log('recording could not be finished', { recording_id: recording.row.id, error: String(error) }));
    this.finishing.add(done);
    void done.finally(() => this.finishing.delete(done));
    return done;
  }

  private async finalize(row: RecordingRow, reason: string): Promise<void> {
    const { deps } = this;
    const leg = deps.findLeg(row.callControlId);
    const endedMs = row.endedMs ?? deps.clock.now();
    try {
      const result = await deps.media.finalize(join(deps.dir, row.partialFile ?? `${row.id}.spool`), {
        format: row.format, trimSilence: row.options.trimSilence, outputStem: join(deps.dir, row.fileStem),
      });
      const file = result.file.slice(deps.dir.length + 1);
      const saved: RecordingRow = {
        ...row, status: 'completed', partialFile: null, wavFile: row.format === 'wav' ? file : null, mp3File: row.format === 'mp3' ? file : null,
        endedMs, durationMs: result.durationMs, updatedMs: deps.clock.now(),
      };
      deps.repository.save(saved);
      deps.log('recording saved', { recording_id: row.id, reason, duration_ms: result.durationMs });
      if (leg) deps.publish(leg, recordingEvents.saved(leg, saved, deps.urls(saved)));
      if (row.options.transcription) void this.transcribe(saved, leg, result.file);
    } catch (error) {
      deps.repository.save({ ...row, status: 'failed', error: String(error), endedMs, updatedMs: deps.clock.now() });
      deps.log('recording failed', { recording_id: row.id, error: String(error) });
      if (leg) deps.publish(leg, recordingEvents.error(leg, row, 'Internal server error', `The recording could not be finished: ${String(error)}`));
    }
  }

  private async transcribe(row: RecordingRow, leg: LegRecord | undefined, file: string): Promise<void> {
    const { deps } = this;
    const language = row.options.transcription?.language ?? 'en-US';
    try {
      const result = await deps.transcribe(file, language);
      const now = deps.clock.now();
      const transcription = {
        id: deps.ids.uuid(), recordingId: row.id, status: 'completed' as const, text: result.text, language, engine: result.engine,
        durationMs: row.durationMs ?? 0, createdMs: now, updatedMs: now,
      };
      deps.repository.saveTranscription(transcription);
      if (leg) deps.publish(leg, recordingEvents.transcriptionSaved(leg, row, transcription));
    } catch (error) {
      // The recording itself is saved; the app hears why its transcription is missing.
      const detail = `Transcription failed: ${error instanceof Error ? error.message : String(error)}`;
      deps.log('recording transcription failed', { recording_id: row.id, error: detail });
      if (leg) deps.publish(leg, recordingEvents.error(leg, row, 'Internal server error', detail));
    }
  }
}

/** One recording in progress: the tap that writes the leg's audio to its spool. */
class ActiveRecording implements AudioTap {
  paused = false;
  finished = false;
  removeTap: (() => void) | null = null;
  private frames = 0;
  private readonly maxFrames: number;

  constructor(
    readonly row: RecordingRow,
    readonly spool: RecordingSpoolWriter,
    private readonly silence: SilenceWatch | null,
    private readonly end: (reason: string) => void,
  ) {
    this.maxFrames = row.options.maxLengthSecs > 0 ? (row.options.maxLengthSecs * 1000) / FRAME_MS : Infinity;
  }

  frame(inbound: Int16Array | null, outbound: Int16Array | null): void {
    if (this.paused || this.finished) return;
    this.spool.append(inbound, outbound);
    this.frames++;
    if (this.frames >= this.maxFrames) return this.end('max_length');
    // timeout_secs listens to the recorded voice: the caller, unless only the app is recorded.
    if (this.silence?.frame(this.row.track === 'outbound' ? outbound : inbound)) this.end('silence');
  }

  closed(): void {
    this.end('hangup');
  }
}
