/**
 * The live side of a call recording: an append-only spool file that every 20 ms tick adds one
 * frame to, and that survives the process being killed.
 *
 * FORMAT. The spool is itself a WAV file: the canonical 44-byte header (RIFF, `fmt ` with 16-bit
 * PCM at 8 kHz and 1 or 2 channels, `data`) followed by little-endian samples, interleaved
 * inbound/outbound (left/right) when dual. The RIFF and data sizes are written as 0xFFFFFFFF,
 * the conventional "length unknown, read to the end of the file" of streaming WAV writers, and
 * are never patched while recording. Why a WAV rather than raw PCM behind a home-made header:
 *  - it is just as small and just as self-describing (channels, rate, sample format), and needs
 *    no format of our own to document or version;
 *  - a spool left behind by a crash is already playable by our own `parseWav` (which reads an
 *    unknown-length data chunk to the end and drops a trailing partial sample) and by ordinary
 *    tools, which helps whoever is debugging a lost recording at 3 a.m.;
 *  - nothing is patched in place during recording, so there is no window in which a crash
 *    leaves a header that disagrees with the data in a harmful way: the sizes simply say
 *    "unknown", before and after any crash.
 * Finalising (finalize.ts) always writes a fresh file with exact sizes, so a spool is never
 * mistaken for a finished recording: the 0xFFFFFFFF sizes and the `.spool` suffix mark it.
 *
 * DURABILITY. `append` writes into a preallocated buffer and hands it to the OS (one `writeSync`)
 * every `flushIntervalFrames` frames, 10 by default. At any moment at most 10 frames are in the
 * buffer and not yet in the kernel, so `kill -9` loses at most the last 200 ms of audio; what the
 * kernel has is safe from a process crash without fsync (there is no fsync per write; power loss
 * is covered only once the final file is written, which finalize fsyncs). A write can in
 * principle be cut short (a full disk), leaving a partial sample frame at the end: the finalizer
 * drops it. `pause()` (or `flush()`) hands the buffer over at once, so the frames before a
 * pause do not wait in memory for the next append.
 *
 * A synchronous write per 200 ms keeps the per-tick path free of promises and callbacks (an
 * async write would need a second buffer and allocates per call) and lands in the page cache in
 * microseconds; the cost is that a stalled disk would stall the caller for that write.
 *
 * BATCHED WRITES. Appending to a file costs the kernel about 1 µs per KB when its code and data
 * are in the CPU caches, and several times that when each write comes alone between other
 * calls' packet sends and receives, as it does in the media tick (15–40 µs of system time per
 * 200 ms write, measured in the server at 200 calls; batched, 4–7 µs in bench/recording.ts and
 * about 20 µs in the loaded server, still the largest part of a recording's live cost). Given
 * a `SpoolWriteBatch`, a spool whose buffer fills does not write at once: the batch writes every
 * spool that filled during the tick's pass back to back, in a microtask once the pass is over.
 * The frames still reach the kernel within the same pass, so the 200 ms bound above is
 * unchanged; a spool that is appended to again before the batch ran (a catch-up pass) writes
 * first.
 *
 * PAUSE/RESUME is the caller not appending: paused audio is simply absent from the file, with
 * no gap, no partial frame and no duplicate. The one artefact a cut can still make is a click,
 * where the waveform before the pause jumps to a different one after it; `pause()` and
 * `resume()` remove it by fading the last frame before the pause out, and the first frame after
 * it in, over 5 ms (too short to hear as a fade). They are optional: without them the cut is
 * simply hard.
 *
 * `append` allocates nothing.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { encodeWav } from '../audio/wav.js';
import { FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE } from '../frame.js';
import { pcmKernels } from './pcm-kernels.js';
import { littleEndianHost } from '../../util/endian.js';

/** Telnyx `channels`: one mixed channel, or inbound left and outbound right. */
export type RecordingChannels = 'single' | 'dual';
/** Telnyx `recording_track`: both directions, or only what the caller says / what the app plays. */
export type RecordingTrack = 'both' | 'inbound' | 'outbound';
/**
 * What the spool holds per sample frame. A single-track recording is mono whatever `channels`
 * says (as Telnyx documents: the channel setting only applies when both tracks are recorded).
 */
export type SpoolLayout = 'mix' | 'inbound' | 'outbound' | 'stereo';

/** File name suffix of spools, so that recovery can find them and nothing else. */
export const SPOOL_SUFFIX = '.spool';
/** Bytes before the first sample. */
export const SPOOL_HEADER_BYTES = 44;
/** The sizes a spool's header carries while it is being written: "unknown, read to the end". */
const UNKNOWN_SIZE = 0xffffffff;
const DEFAULT_FLUSH_INTERVAL_FRAMES = 10;
const MAX_FLUSH_INTERVAL_FRAMES = 10;

export function spoolLayout(channels: RecordingChannels, track: RecordingTrack): SpoolLayout {
  if (track === 'inbound' || track === 'outbound') return track;
  return channels === 'dual' ? 'stereo' : 'mix';
}

export function layoutChannels(layout: SpoolLayout): 1 | 2 {
  return layout === 'stereo' ? 2 : 1;
}

/** The header a spool starts with (exported for tests and tools). */
export function spoolHeader(channels: 1 | 2): Uint8Array<ArrayBuffer> {
  const header = encodeWav(new Int16Array(0), SAMPLE_RATE, channels);
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  view.setUint32(4, UNKNOWN_SIZE, true);
  view.setUint32(40, UNKNOWN_SIZE, true);
  return header;
}

export interface SpoolHeader {
  channels: 1 | 2;
  /** Offset of the first sample. */
  dataOffset: number;
}

/**
 * Reads a spool's header, or returns undefined if `bytes` is not one: only the exact layout
 * `RecordingSpool` writes is accepted (8 kHz, 16-bit PCM, mono or stereo, `data` at byte 36).
 */
export function readSpoolHeader(bytes: Uint8Array): SpoolHeader | undefined {
  if (bytes.length < SPOOL_HEADER_BYTES) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number): string => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (tag(0) !== 'RIFF' || tag(8) !== 'WAVE' || tag(12) !== 'fmt ' || tag(36) !== 'data') return undefined;
  if (view.getUint32(16, true) !== 16 || view.getUint16(20, true) !== 1) return undefined;
  const channels = view.getUint16(22, true);
  if (channels !== 1 && channels !== 2) return undefined;
  if (view.getUint32(24, true) !== SAMPLE_RATE || view.getUint16(34, true) !== 16) return undefined;
  return { channels, dataOffset: SPOOL_HEADER_BYTES };
}

export interface RecordingSpoolOptions {
  /** Default 'single'. */
  channels?: RecordingChannels;
  /** Default 'both'. */
  track?: RecordingTrack;
  /** Frames buffered before they are written; 1–10, default 10 (200 ms). */
  flushIntervalFrames?: number;
  /**
   * Called once if writing fails (disk full, file removed under us). The spool then stops
   * writing; frames already written stay valid and can still be finalised.
   */
  onError?: (error: Error) => void;
  /** Writes full buffers together after the current pass (see BATCHED WRITES); default: at once. */
  batch?: SpoolWriteBatch;
}

/**
 * Spools whose buffers filled during the current pass of the media tick, written together in a
 * microtask when the pass is over (see BATCHED WRITES). One per server; it holds no audio, only
 * which spools are due.
 */
export class SpoolWriteBatch {
  private readonly due: (RecordingSpool | null)[] = [];
  private count = 0;
  private readonly writeDue = (): void => {
    const due = this.due;
    // Spools deferred while these are written (none are, from the media tick) join this run.
    for (let i = 0; i < this.count; i++) {
      const spool = due[i] as RecordingSpool;
      due[i] = null;
      spool.flush();
    }
    this.count = 0;
  };

  /** Queues a spool's write; the first of a pass schedules the run (one microtask per pass). */
  defer(spool: RecordingSpool): void {
    if (this.count === 0) queueMicrotask(this.writeDue);
    this.due[this.count++] = spool;
  }
}

export class RecordingSpool {
  readonly path: string;
  readonly layout: SpoolLayout;
  readonly channels: 1 | 2;
  private fd: number;
  private readonly flushInterval: number;
  private readonly onError: ((error: Error) => void) | undefined;
  private readonly batch: SpoolWriteBatch | undefined;
  /** Full, and queued in `batch` for writing. */
  private deferred = false;
  /**
   * `flushInterval` frames of output samples, the same memory as bytes for `writeSync`, and as
   * 32-bit words so that a stereo sample frame (left and right) is stored in one go.
   */
  private readonly buffer: Int16Array;
  private readonly bytes: Uint8Array;
  private readonly words: Uint32Array;
  /** Samples per 20 ms frame in this layout (160 mono, 320 interleaved stereo). */
  private readonly frameSamples: number;
  private buffered = 0;
  private appended = 0;
  /** Frames put into the file or the buffer (appends after a write failure are not). */
  private stored = 0;
  /** Where in `buffer` the last stored frame is (it stays there after a flush until overwritten). */
  private lastSlot = -1;
  private fadeInNext = false;
  private fadedOut = false;
  private error: Error | null = null;

  /**
   * Creates the spool file (failing if `path` exists: two recordings must never share a spool)
   * and writes its header, so even a crash before the first flush leaves a valid, empty spool.
   */
  static create(path: string, options: RecordingSpoolOptions = {}): RecordingSpool {
    return new RecordingSpool(path, options);
  }

  private constructor(path: string, options: RecordingSpoolOptions) {
    const interval = options.flushIntervalFrames ?? DEFAULT_FLUSH_INTERVAL_FRAMES;
    if (!Number.isInteger(interval) || interval < 1 || interval > MAX_FLUSH_INTERVAL_FRAMES) {
      throw new RangeError(`flushIntervalFrames must be an integer from 1 to ${MAX_FLUSH_INTERVAL_FRAMES}`);
    }
    this.path = path;
    this.layout = spoolLayout(options.channels ?? 'single', options.track ?? 'both');
    this.channels = layoutChannels(this.layout);
    this.flushInterval = interval;
    this.onError = options.onError;
    this.batch = options.batch;
    this.frameSamples = FRAME_SAMPLES * this.channels;
    this.buffer = new Int16Array(interval * this.frameSamples);
    this.bytes = new Uint8Array(this.buffer.buffer);
    this.words = new Uint32Array(this.buffer.buffer);
    this.fd = openSync(path, 'wx', 0o600);
    try {
      writeFully(this.fd, spoolHeader(this.channels), SPOOL_HEADER_BYTES);
    } catch (err) {
      closeSync(this.fd);
      throw err;
    }
  }

  /** Frames appended so far (written or still buffered). */
  get frames(): number {
    return this.appended;
  }

  /** Audio appended so far, in milliseconds. */
  get durationMs(): number {
    return this.appended * FRAME_MS;
  }

  /** The write error that stopped the spool, if any. */
  get failure(): Error | null {
    return this.error;
  }

  get closed(): boolean {
    return this.fd < 0;
  }

  /**
   * Adds one 20 ms tick: `inbound` is what the caller said, `outbound` what the app played;
   * null (nothing that tick) is silence. A frame shorter than 160 samples is padded with
   * silence and samples past 160 are ignored, so the file always advances by exactly one
   * frame per tick and stays in step with the call's clock.
   */
  append(inbound: Int16Array | null, outbound: Int16Array | null): void {
    if (this.fd < 0) throw new Error('recording spool is closed');
    this.appended++;
    if (this.error !== null) return;
    // Still full from earlier in this pass, its batched write not yet made: write it now.
    if (this.deferred) this.flush();
    const out = this.buffer;
    const base = this.buffered * this.frameSamples;
    switch (this.layout) {
      case 'inbound':
        copyFrame(out, base, inbound);
        break;
      case 'outbound':
        copyFrame(out, base, outbound);
        break;
      case 'mix':
        mixFrame(out, base, inbound, outbound);
        break;
      case 'stereo':
        interleaveFrame(out, this.words, base, inbound, outbound);
        break;
    }
    if (this.fadeInNext) {
      this.fadeInNext = false;
      fade(out, base, this.channels, false);
    }
    this.stored++;
    this.lastSlot = this.buffered;
    this.fadedOut = false;
    if (++this.buffered < this.flushInterval) return;
    if (this.batch === undefined) {
      this.flush();
    } else {
      this.deferred = true;
      this.batch.defer(this);
    }
  }

  /**
   * The recording pauses: fades out the end of the last frame (see PAUSE/RESUME) and hands
   * everything to the OS, so nothing waits in memory while paused.
   */
  pause(): void {
    if (this.fd < 0 || this.error !== null || this.stored === 0 || this.fadedOut) return;
    this.fadedOut = true;
    const frameSamples = this.frameSamples;
    const base = this.lastSlot * frameSamples;
    fade(this.buffer, base, this.channels, true);
    if (this.buffered > 0) {
      this.flush();
      return;
    }
    // The last frame has already been written; it is still in the buffer, so write it again in
    // place, faded.
    this.write(base * 2, frameSamples * 2, SPOOL_HEADER_BYTES + (this.stored - 1) * frameSamples * 2);
  }

  /** The recording resumes: the next frame fades in. */
  resume(): void {
    this.fadeInNext = this.stored > 0;
  }

  /** Hands buffered frames to the OS now (`pause` and `close` do this too). */
  flush(): void {
    this.deferred = false;
    if (this.fd < 0 || this.buffered === 0 || this.error !== null) {
      this.buffered = 0;
      return;
    }
    const length = this.buffered * this.frameSamples * 2;
    this.buffered = 0;
    this.write(0, length);
  }

  /** Writes buffer bytes [from, from + length), at `position` or the end of the file. */
  private write(from: number, length: number, position?: number): void {
    const bytes = this.bytes;
    // The file is little-endian; on the (rare) big-endian host the bytes are swapped for the
    // write and back afterwards, since `pause` may still need the samples.
    if (!littleEndianHost) swap16(bytes.subarray(from, from + length), length);
    try {
      writeFully(this.fd, from === 0 ? bytes : bytes.subarray(from, from + length), length, position);
    } catch (err) {
      this.fail(err);
    } finally {
      if (!littleEndianHost) swap16(bytes.subarray(from, from + length), length);
    }
  }

  private fail(err: unknown): void {
    this.error = err instanceof Error ? err : new Error(String(err));
    this.onError?.(this.error);
  }

  /** Flushes and closes the file. Idempotent. The spool is then ready for `finalizeRecording`. */
  close(): void {
    if (this.fd < 0) return;
    this.flush();
    const fd = this.fd;
    this.fd = -1;
    closeSync(fd);
  }
}

/**
 * writeSync until every byte is written (a regular file may take less than asked for), at the
 * current offset or at `position`.
 */
function writeFully(fd: number, bytes: Uint8Array, length: number, position?: number): void {
  let done = 0;
  while (done < length) done += writeSync(fd, bytes, done, length - done, position === undefined ? null : position + done);
}

/** Raised-cosine gains of the pause/resume fades, 5 ms (40 samples), rising. */
const FADE_GAINS = Float64Array.from({ length: 40 }, (_, i) => 0.5 - 0.5 * Math.cos((Math.PI * (i + 0.5)) / 40));

/** Fades the first (in) or last (out) 5 ms of the frame at `at`. */
function fade(samples: Int16Array, at: number, channels: number, out: boolean): void {
  for (let i = 0; i < FADE_GAINS.length; i++) {
    const gain = FADE_GAINS[i] as number;
    const n = out ? FRAME_SAMPLES - 1 - i : i;
    for (let c = 0; c < channels; c++) {
      const p = at + n * channels + c;
      samples[p] = Math.round((samples[p] as number) * gain);
    }
  }
}

function copyFrame(out: Int16Array, at: number, frame: Int16Array | null): void {
  if (frame === null) {
    out.fill(0, at, at + FRAME_SAMPLES);
  } else if (frame.length === FRAME_SAMPLES) {
    out.set(frame, at);
  } else {
    const n = Math.min(frame.length, FRAME_SAMPLES);
    for (let i = 0; i < n; i++) out[at + i] = frame[i] as number;
    out.fill(0, at + n, at + FRAME_SAMPLES);
  }
}

/** Sum of both directions, saturated to 16 bits (clipping sounds far better than wrapping). */
function mixFrame(out: Int16Array, at: number, a: Int16Array | null, b: Int16Array | null): void {
  if (a === null || b === null) {
    copyFrame(out, at, a ?? b);
    return;
  }
  if (a.length >= FRAME_SAMPLES && b.length >= FRAME_SAMPLES) {
    // Whole frames (every tick but a malformed one): eight samples an instruction where the
    // kernels run, otherwise one branch-free pass.
    const kernels = pcmKernels;
    if (kernels !== null && a.length === FRAME_SAMPLES && b.length === FRAME_SAMPLES) {
      kernels.a.set(a);
      kernels.b.set(b);
      kernels.mix();
      out.set(kernels.mixed, at);
      return;
    }
    for (let i = 0; i < FRAME_SAMPLES; i++) {
      const s = (a[i] as number) + (b[i] as number);
      out[at + i] = s > 32767 ? 32767 : s < -32768 ? -32768 : s;
    }
    return;
  }
  const na = Math.min(a.length, FRAME_SAMPLES);
  const nb = Math.min(b.length, FRAME_SAMPLES);
  for (let i = 0; i < FRAME_SAMPLES; i++) {
    const s = (i < na ? (a[i] as number) : 0) + (i < nb ? (b[i] as number) : 0);
    out[at + i] = s > 32767 ? 32767 : s < -32768 ? -32768 : s;
  }
}

/**
 * Inbound on the left (even samples), outbound on the right. On a little-endian host a sample
 * frame is one 32-bit word (left in the low half), which halves the stores of the common case.
 */
function interleaveFrame(out: Int16Array, words: Uint32Array, at: number, left: Int16Array | null, right: Int16Array | null): void {
  const nl = left === null ? 0 : Math.min(left.length, FRAME_SAMPLES);
  const nr = right === null ? 0 : Math.min(right.length, FRAME_SAMPLES);
  const kernels = pcmKernels;
  // Each side exactly a frame or nothing (every tick but a malformed one): the SIMD interleave,
  // a missing side as silence.
  if (kernels !== null && (left === null || left.length === FRAME_SAMPLES) && (right === null || right.length === FRAME_SAMPLES)) {
    if (left === null) kernels.a.fill(0);
    else kernels.a.set(left);
    if (right === null) kernels.b.fill(0);
    else kernels.b.set(right);
    kernels.interleave();
    out.set(kernels.interleaved, at);
    return;
  }
  if (littleEndianHost && nl === FRAME_SAMPLES && (nr === FRAME_SAMPLES || nr === 0)) {
    const w = at >> 1;
    const l = left as Int16Array;
    if (nr === 0) {
      for (let i = 0; i < FRAME_SAMPLES; i++) words[w + i] = (l[i] as number) & 0xffff;
    } else {
      const r = right as Int16Array;
      for (let i = 0; i < FRAME_SAMPLES; i++) words[w + i] = ((l[i] as number) & 0xffff) | ((r[i] as number) << 16);
    }
    return;
  }
  if (littleEndianHost && nl === 0 && nr === FRAME_SAMPLES) {
    const w = at >> 1;
    const r = right as Int16Array;
    for (let i = 0; i < FRAME_SAMPLES; i++) words[w + i] = (r[i] as number) << 16;
    return;
  }
  for (let i = 0; i < FRAME_SAMPLES; i++) {
    out[at + 2 * i] = i < nl ? ((left as Int16Array)[i] as number) : 0;
    out[at + 2 * i + 1] = i < nr ? ((right as Int16Array)[i] as number) : 0;
  }
}

/** In-place 16-bit byte swap, for the (rare) big-endian host: spools are little-endian. */
export function swap16(bytes: Uint8Array, length: number): void {
  for (let i = 0; i + 1 < length; i += 2) {
    const t = bytes[i] as number;
    bytes[i] = bytes[i + 1] as number;
    bytes[i + 1] = t;
  }
}
