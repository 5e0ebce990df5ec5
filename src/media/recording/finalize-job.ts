/**
 * The work of turning a spool into the final recording, written once as a cooperative job (see
 * audio/cooperative.ts) so that it can run on a worker thread straight through, or on the
 * calling thread in slices. File I/O is synchronous on purpose: on a worker that costs nothing,
 * and it keeps the job a plain generator that needs no event loop between its steps.
 *
 * Steps:
 *  1. Read the spool's header; the sample count is whatever whole sample frames the file holds,
 *     so a spool cut short by a crash, even mid-sample, finalises to everything it got.
 *  2. With `trimSilence`, a first pass runs the VAD over the audio to find the range to keep.
 *  3. Write `<output>.partial`: a WAV with exact sizes, or MP3 frames behind a reserved tag frame
 *     that is filled in at the end. fsync it, rename it onto `<output>` (atomic: readers see the
 *     old file or the complete new one), fsync the directory, and only then delete the spool.
 * A crash at any point leaves either the spool (finalise again: the result is the same) or the
 * finished file, never neither. A stale `.partial` from a crash is overwritten by the next run.
 */
import { closeSync, fstatSync, fsyncSync, openSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Job } from '../audio/cooperative.js';
import { encodeWav } from '../audio/wav.js';
import { SAMPLE_RATE } from '../frame.js';
import { Mp3StreamEncoder, type Mp3Engine, type Mp3KbpsPerChannel } from './mp3-writer.js';
import { SpeechRangeFinder, type SampleRange } from './speech-range.js';
import { SPOOL_HEADER_BYTES, readSpoolHeader, swap16 } from './spool.js';
import { littleEndianHost } from '../../util/endian.js';

export type RecordingFormat = 'wav' | 'mp3';

export interface FinalizeRequest {
  spoolPath: string;
  outputPath: string;
  format: RecordingFormat;
  trimSilence: boolean;
  trimMarginMs: number;
  mp3KbpsPerChannel: Mp3KbpsPerChannel;
  /** Sample frames handled between yields. */
  sliceFrames: number;
}

export interface FinalizedRecording {
  /** Path of the finished file. */
  file: string;
  durationMs: number;
  sizeBytes: number;
  channels: 1 | 2;
  format: RecordingFormat;
  /** Audio removed from the start by trimming, ms (0 without trimming). */
  trimmedStartMs: number;
  /** Audio in the spool, ms (the file's duration before trimming). */
  spooledMs: number;
}

export type FinalizeFailure = 'not_found' | 'corrupt' | 'io';

export class RecordingFinalizeError extends Error {
  readonly reason: FinalizeFailure;
  /** The system error code behind an 'io' failure (ENOSPC, EACCES…), when there is one. */
  readonly code: string | undefined;

  constructor(reason: FinalizeFailure, message: string, options?: { cause?: unknown; code?: string }) {
    super(message, options);
    this.name = 'RecordingFinalizeError';
    this.reason = reason;
    this.code = options?.code ?? (options?.cause as NodeJS.ErrnoException | undefined)?.code;
  }
}

/**
 * The finalisation of one spool as a job. An MP3 needs `mp3`, a LAME instance lent to this job
 * alone (see Mp3Engines).
 */
export function* finalizeJob(request: FinalizeRequest, mp3: Mp3Engine | null = null): Job<FinalizedRecording> {
  const spool = openSpool(request.spoolPath);
  let result: FinalizedRecording;
  try {
    const { fd, channels, sampleFrames } = spool;
    let range: SampleRange = { start: 0, end: sampleFrames };
    if (request.trimSilence) {
      const finder = new SpeechRangeFinder(channels, request.trimMarginMs);
      yield* forEachSlice(fd, channels, { start: 0, end: sampleFrames }, request.sliceFrames, (samples, frames) => {
        finder.push(samples, frames);
      });
      range = finder.range(sampleFrames);
    }
    const temp = `${request.outputPath}.partial`;
    const out = openSync(temp, 'w', 0o600);
    let sizeBytes: number;
    try {
      try {
        sizeBytes =
          request.format === 'wav'
            ? yield* writeWav(fd, out, channels, range, request.sliceFrames)
            : yield* writeMp3(fd, out, channels, range, request.sliceFrames, request.mp3KbpsPerChannel, mp3);
        fsyncSync(out);
      } finally {
        closeSync(out);
      }
      renameSync(temp, request.outputPath);
    } catch (err) {
      removeQuietly(temp);
      throw err;
    }
    syncDirectory(dirname(request.outputPath));
    result = {
      file: request.outputPath,
      durationMs: framesToMs(range.end - range.start),
      sizeBytes,
      channels,
      format: request.format,
      trimmedStartMs: framesToMs(range.start),
      spooledMs: framesToMs(sampleFrames),
    };
  } finally {
    closeSync(spool.fd);
  }
  // Only now that the recording is in place does the spool go.
  removeQuietly(request.spoolPath);
  return result;
}

/** Any failure as a RecordingFinalizeError (file system errors become 'io', keeping their code). */
export function asFinalizeError(err: unknown): RecordingFinalizeError {
  if (err instanceof RecordingFinalizeError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new RecordingFinalizeError('io', `finalising the recording failed: ${message}`, { cause: err });
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone (or not ours to remove): nothing depends on it.
  }
}

interface OpenSpool {
  fd: number;
  channels: 1 | 2;
  /** Whole sample frames in the file (a trailing part frame from a crash is ignored). */
  sampleFrames: number;
}

function openSpool(path: string): OpenSpool {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new RecordingFinalizeError('not_found', `no recording spool at ${path}`, { cause: err });
    throw new RecordingFinalizeError('io', `cannot open recording spool ${path}: ${String(err)}`, { cause: err });
  }
  try {
    const size = fstatSync(fd).size;
    const head = new Uint8Array(SPOOL_HEADER_BYTES);
    const got = size >= SPOOL_HEADER_BYTES ? readSync(fd, head, 0, SPOOL_HEADER_BYTES, 0) : 0;
    const header = got === SPOOL_HEADER_BYTES ? readSpoolHeader(head) : undefined;
    if (header === undefined) {
      throw new RecordingFinalizeError('corrupt', `${path} is not a recording spool (${size} bytes, no spool header)`);
    }
    const sampleFrames = Math.floor((size - header.dataOffset) / (2 * header.channels));
    return { fd, channels: header.channels, sampleFrames };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/** Reads range [start, end) of the spool slice by slice, yielding between slices. */
function* forEachSlice(
  fd: number,
  channels: 1 | 2,
  range: SampleRange,
  sliceFrames: number,
  visit: (samples: Int16Array, frames: number, bytes: Uint8Array) => void,
): Job<void> {
  const frameBytes = 2 * channels;
  const bytes = new Uint8Array(sliceFrames * frameBytes);
  const samples = new Int16Array(bytes.buffer);
  for (let at = range.start; at < range.end; ) {
    const frames = Math.min(sliceFrames, range.end - at);
    readFully(fd, bytes, frames * frameBytes, SPOOL_HEADER_BYTES + at * frameBytes);
    if (!littleEndianHost) swap16(bytes, frames * frameBytes);
    visit(samples, frames, bytes);
    at += frames;
    if (at < range.end) yield;
  }
}

function* writeWav(fd: number, out: number, channels: 1 | 2, range: SampleRange, sliceFrames: number): Job<number> {
  const dataBytes = (range.end - range.start) * 2 * channels;
  const header = encodeWav(new Int16Array(0), SAMPLE_RATE, channels);
  const view = new DataView(header.buffer);
  view.setUint32(4, header.length - 8 + dataBytes, true);
  view.setUint32(40, dataBytes, true);
  writeFully(out, header, header.length);
  yield* forEachSlice(fd, channels, range, sliceFrames, (_samples, frames, bytes) => {
    // The bytes are copied as they are in the spool (little-endian), not as host samples.
    if (!littleEndianHost) swap16(bytes, frames * 2 * channels);
    writeFully(out, bytes, frames * 2 * channels);
  });
  return header.length + dataBytes;
}

function* writeMp3(
  fd: number,
  out: number,
  channels: 1 | 2,
  range: SampleRange,
  sliceFrames: number,
  kbpsPerChannel: Mp3KbpsPerChannel,
  engine: Mp3Engine | null,
): Job<number> {
  if (engine === null) throw new Error('MP3 finalisation needs an MP3 engine');
  const encoder = new Mp3StreamEncoder(engine, channels, kbpsPerChannel);
  // The tag frame's place; it is written last, when its contents are known.
  writeFully(out, new Uint8Array(encoder.infoFrameBytes), encoder.infoFrameBytes);
  let size = encoder.infoFrameBytes;
  const left = channels === 2 ? new Int16Array(sliceFrames) : null;
  const right = channels === 2 ? new Int16Array(sliceFrames) : null;
  yield* forEachSlice(fd, channels, range, sliceFrames, (samples, frames) => {
    let encoded: Uint8Array;
    if (left === null || right === null) {
      encoded = encoder.encode(frames === samples.length ? samples : samples.subarray(0, frames));
    } else {
      for (let i = 0; i < frames; i++) {
        left[i] = samples[2 * i] as number;
        right[i] = samples[2 * i + 1] as number;
      }
      encoded =
        frames === sliceFrames ? encoder.encode(left, right) : encoder.encode(left.subarray(0, frames), right.subarray(0, frames));
    }
    writeFully(out, encoded, encoded.length);
    size += encoded.length;
  });
  const tail = encoder.finish();
  writeFully(out, tail, tail.length);
  size += tail.length;
  const info = encoder.infoFrame();
  writeFully(out, info, info.length, 0);
  return size;
}

function framesToMs(sampleFrames: number): number {
  return (sampleFrames * 1000) / SAMPLE_RATE;
}

function readFully(fd: number, into: Uint8Array, length: number, position: number): void {
  let done = 0;
  while (done < length) {
    const got = readSync(fd, into, done, length - done, position + done);
    if (got === 0) throw new RecordingFinalizeError('io', 'recording spool shrank while being read');
    done += got;
  }
}

/** Writes all `length` bytes, at `position` if given, else at the current offset. */
function writeFully(fd: number, bytes: Uint8Array, length: number, position?: number): void {
  let done = 0;
  while (done < length) {
    done += writeSync(fd, bytes, done, length - done, position === undefined ? null : position + done);
  }
}

/** Makes the rename durable. Not every platform can fsync a directory; that is fine. */
function syncDirectory(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch {
    // best effort
  } finally {
    closeSync(fd);
  }
}
