/**
 * Turning a spool into the recording the app downloads: `finalizeRecording(spool, options)`.
 *
 * The same call recovers a spool left behind by a crash (`recoverSpool` is an alias, and
 * `findSpools` lists what a previous run left in a directory): the spool is self-describing
 * and whatever whole samples it holds are kept, so recovery needs nothing but the spool and the
 * options the recording was started with.
 *
 * WHERE IT RUNS. By default on a small pool of worker threads (one fewer than the cores, at
 * most two; see `configureFinalizers`). Measured with bench/recording.ts, warm, per minute of
 * audio: MP3 costs 0.17 s of CPU mono and 0.41 s stereo (LAME in WebAssembly, see
 * mp3-writer.ts), WAV ~2 ms, trim-silence adds ~60 ms per channel. Slicing MP3 encoding on the
 * main thread would bound each pause but not the total: a hundred calls recording stereo MP3
 * need about 0.7 of a core of encoding on average, on top of the thread that also runs every
 * call's 20 ms media tick. On workers it uses the other cores and, under overload, falls behind
 * without harming live calls (the queue grows). recording-finalize.test.ts reports how busy
 * each way keeps this thread. WAV goes to the workers too, because the job's file I/O
 * (including the fsync that makes the recording durable) is synchronous. `runOn: 'caller'` runs the job on the
 * calling thread in slices with `setImmediate` yields instead — for tools, tests and benchmarks.
 */
import { readdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../../util/module-worker.js';
import { runCooperatively } from '../audio/cooperative.js';
import {
  RecordingFinalizeError,
  asFinalizeError,
  finalizeJob,
  type FinalizeRequest,
  type FinalizedRecording,
  type RecordingFormat,
} from './finalize-job.js';
import type { FinalizeWorkerJob, FinalizeWorkerReply } from './finalize-worker.js';
import { DEFAULT_MP3_KBPS_PER_CHANNEL, Mp3Engines, type Mp3KbpsPerChannel } from './mp3-writer.js';
import { DEFAULT_TRIM_MARGIN_MS } from './speech-range.js';
import { SPOOL_SUFFIX } from './spool.js';

export { RecordingFinalizeError, type FinalizeFailure, type FinalizedRecording, type RecordingFormat } from './finalize-job.js';

export interface FinalizeOptions {
  format: RecordingFormat;
  /** `trim: "trim-silence"`: drop the silence before the first and after the last speech. */
  trimSilence?: boolean;
  /** Silence kept around the speech when trimming, ms. Default 200. */
  trimMarginMs?: number;
  /**
   * Where the recording goes. Default: the spool path with `.spool` replaced by `.wav`/`.mp3`
   * (or the extension appended, for a spool named otherwise).
   */
  output?: string;
  /** MP3 bitrate per channel, kbit/s. Default 32 (see mp3-writer.ts). */
  mp3KbpsPerChannel?: Mp3KbpsPerChannel;
  /** 'worker' (default) or 'caller': see WHERE IT RUNS. */
  runOn?: 'worker' | 'caller';
}

// Sample frames per slice. On the caller's thread a slice should stay within a few milliseconds:
// 1152 stereo sample frames take about 1 ms to encode, a second of WAV (copy and VAD) ~1 ms. On a worker the slice size only sets the read size.
const CALLER_SLICE_FRAMES = { wav: 8000, mp3: 1152 } as const;
const WORKER_SLICE_FRAMES = 16_384;

/** LAME instances for finalisations run on this thread (`runOn: 'caller'`). */
const callerEngines = new Mp3Engines();

export function defaultOutputPath(spoolPath: string, format: RecordingFormat): string {
  const base = spoolPath.endsWith(SPOOL_SUFFIX) ? spoolPath.slice(0, -SPOOL_SUFFIX.length) : spoolPath;
  return `${base}.${format}`;
}

/**
 * Turns a closed spool (or one a crash left behind) into the final WAV or MP3 and removes the
 * spool once the recording is safely in place. Run one finalisation per spool at a time.
 */
export async function finalizeRecording(spoolPath: string, options: FinalizeOptions): Promise<FinalizedRecording> {
  if (options.format !== 'wav' && options.format !== 'mp3') throw new RangeError(`unknown recording format ${String(options.format)}`);
  const trimMarginMs = options.trimMarginMs ?? DEFAULT_TRIM_MARGIN_MS;
  if (!(trimMarginMs >= 0)) throw new RangeError('trimMarginMs must be ≥ 0');
  const runOn = options.runOn ?? 'worker';
  const request: FinalizeRequest = {
    spoolPath,
    outputPath: options.output ?? defaultOutputPath(spoolPath, options.format),
    format: options.format,
    trimSilence: options.trimSilence ?? false,
    trimMarginMs,
    mp3KbpsPerChannel: options.mp3KbpsPerChannel ?? DEFAULT_MP3_KBPS_PER_CHANNEL,
    sliceFrames: runOn === 'caller' ? CALLER_SLICE_FRAMES[options.format] : WORKER_SLICE_FRAMES,
  };
  if (runOn === 'caller') {
    const mp3 = request.format === 'mp3' ? await callerEngines.acquire() : null;
    try {
      return await runCooperatively(finalizeJob(request, mp3));
    } catch (err) {
      throw asFinalizeError(err);
    } finally {
      if (mp3 !== null) callerEngines.release(mp3);
    }
  }
  return pool().run(request);
}

/**
 * Finalises a spool left by a crashed or killed process: the same operation, named for the
 * startup path that calls it. Needs the options the recording was started with.
 */
export const recoverSpool = finalizeRecording;

/** Spools in `dir` (full paths, sorted), e.g. to recover them at startup. */
export async function findSpools(dir: string): Promise<string[]> {
  const names = await readdir(dir);
  return names
    .filter((n) => n.endsWith(SPOOL_SUFFIX))
    .sort()
    .map((n) => join(dir, n));
}

/** Stops the worker threads (queued jobs are rejected). The next finalize starts them again. */
export async function shutdownFinalizers(): Promise<void> {
  const current = sharedPool;
  sharedPool = null;
  await current?.close();
}

// ---- worker pool ----

interface PendingJob {
  id: number;
  request: FinalizeRequest;
  resolve(result: FinalizedRecording): void;
  reject(error: Error): void;
}

interface PooledWorker {
  worker: Worker;
  job: PendingJob | null;
  idleTimer: NodeJS.Timeout | null;
}

/** An idle worker is stopped after this long, so a quiet server gives the memory back. */
const IDLE_MS = 30_000;

let sharedPool: FinalizerPool | null = null;
let poolSize = Math.max(1, Math.min(2, availableParallelism() - 1));

function pool(): FinalizerPool {
  sharedPool ??= new FinalizerPool(poolSize);
  return sharedPool;
}

/**
 * Sets how many worker threads finalise recordings (default: one fewer than the CPU count, at
 * most two, at least one — each keeps up with roughly 140 concurrent stereo MP3 recordings). Takes
 * effect for workers started from now on.
 */
export function configureFinalizers(options: { workers: number }): void {
  if (!Number.isInteger(options.workers) || options.workers < 1) throw new RangeError('workers must be a positive integer');
  poolSize = options.workers;
  sharedPool?.resize(poolSize);
}

class FinalizerPool {
  private size: number;
  private readonly workers: PooledWorker[] = [];
  private readonly queue: PendingJob[] = [];
  private nextId = 1;
  private closed = false;

  constructor(size: number) {
    this.size = size;
  }

  run(request: FinalizeRequest): Promise<FinalizedRecording> {
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, request, resolve, reject });
      this.dispatch();
    });
  }

  resize(size: number): void {
    this.size = size;
    this.dispatch();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error('recording finalizers are shutting down'));
    await Promise.all(this.workers.splice(0).map((w) => this.stop(w)));
  }

  private dispatch(): void {
    while (!this.closed && this.queue.length > 0) {
      let slot = this.workers.find((w) => w.job === null);
      if (slot === undefined) {
        if (this.workers.length >= this.size) return;
        slot = this.spawn();
      }
      const job = this.queue.shift() as PendingJob;
      slot.job = job;
      if (slot.idleTimer !== null) clearTimeout(slot.idleTimer);
      slot.idleTimer = null;
      // A busy worker keeps the process alive until its job is done; an idle one does not.
      slot.worker.ref();
      const message: FinalizeWorkerJob = { id: job.id, request: job.request };
      slot.worker.postMessage(message);
    }
  }

  private spawn(): PooledWorker {
    const worker = startModuleWorker(import.meta.url, 'finalize-worker');
    const slot: PooledWorker = { worker, job: null, idleTimer: null };
    worker.on('message', (reply: FinalizeWorkerReply) => this.settle(slot, reply));
    worker.on('error', (err) => this.retire(slot, err));
    worker.on('exit', (code) => this.retire(slot, new Error(`recording finalizer exited with code ${code}`)));
    this.workers.push(slot);
    return slot;
  }

  private settle(slot: PooledWorker, reply: FinalizeWorkerReply): void {
    const job = slot.job;
    if (job === null || job.id !== reply.id) return;
    slot.job = null;
    if ('result' in reply) {
      job.resolve(reply.result);
    } else {
      const { reason, message, code } = reply.error;
      job.reject(new RecordingFinalizeError(reason, message, code === null ? undefined : { code }));
    }
    if (this.queue.length > 0) {
      this.dispatch();
      return;
    }
    slot.worker.unref();
    slot.idleTimer = setTimeout(() => {
      const i = this.workers.indexOf(slot);
      if (i >= 0 && slot.job === null) {
        this.workers.splice(i, 1);
        void this.stop(slot);
      }
    }, IDLE_MS);
    slot.idleTimer.unref();
  }

  /** A worker died (crash, failed start): fail its job and let the next dispatch replace it. */
  private retire(slot: PooledWorker, error: Error): void {
    const i = this.workers.indexOf(slot);
    if (i >= 0) this.workers.splice(i, 1);
    if (slot.idleTimer !== null) clearTimeout(slot.idleTimer);
    const job = slot.job;
    slot.job = null;
    job?.reject(new RecordingFinalizeError('io', `recording finalizer failed: ${error.message}`, { cause: error }));
    this.dispatch();
  }

  private async stop(slot: PooledWorker): Promise<void> {
    if (slot.idleTimer !== null) clearTimeout(slot.idleTimer);
    slot.worker.removeAllListeners();
    // An error while terminating has nobody left to tell; it must not become an uncaught one.
    slot.worker.on('error', () => {});
    const job = slot.job;
    slot.job = null;
    job?.reject(new RecordingFinalizeError('io', 'recording finalizers are shutting down'));
    await slot.worker.terminate();
  }
}
