/**
 * Worker-thread side of the flite provider: runs flite and turns its WAV into engine samples, so
 * the main thread, which also runs every call's 20 ms media tick, only receives finished audio.
 * (Synthesis takes 50–100 ms of CPU per sentence and resampling its output another 5–15 ms.)
 */
import { parentPort, workerData } from 'node:worker_threads';
import { TtsError, type TtsErrorCode } from './errors.js';
import { FliteProcess } from './flite-wasi.js';
import { wavToEnginePcm } from './pcm.js';

export interface FliteWorkerData {
  /** Compiled once in the parent; posting a Module shares its code instead of recompiling. */
  module: WebAssembly.Module;
}

export interface FliteJob {
  id: number;
  args: string[];
  /** Path given to `-o`. */
  output: string;
}

export type FliteJobReply =
  | { id: number; pcm: Int16Array }
  | { id: number; error: { code: TtsErrorCode; message: string } };

function synthesize(process: FliteProcess, job: FliteJob): Int16Array {
  const result = process.run(job.args, job.output);
  if (result.exitCode !== 0 || result.wav === null) {
    const detail = result.output.trim().slice(0, 300);
    throw new TtsError('provider_error', `flite exited with code ${result.exitCode}${detail ? `: ${detail}` : ''}`);
  }
  return wavToEnginePcm(result.wav, 'flite');
}

function serve(port: NonNullable<typeof parentPort>, data: FliteWorkerData): void {
  // The next process is instantiated while idle, taking ~10 ms off the next request.
  let spare: FliteProcess | null = new FliteProcess(data.module);
  port.on('message', (job: FliteJob) => {
    let reply: FliteJobReply;
    try {
      const process = spare ?? new FliteProcess(data.module);
      spare = null;
      reply = { id: job.id, pcm: synthesize(process, job) };
    } catch (error) {
      const code = error instanceof TtsError ? error.code : 'provider_error';
      const message = error instanceof Error ? error.message : String(error);
      reply = { id: job.id, error: { code, message: code === 'provider_error' && !(error instanceof TtsError) ? `flite failed: ${message}` : message } };
    }
    port.postMessage(reply, 'pcm' in reply ? [reply.pcm.buffer as ArrayBuffer] : []);
    setImmediate(() => {
      spare ??= new FliteProcess(data.module);
    });
  });
}

if (parentPort !== null && (workerData as Partial<FliteWorkerData> | null)?.module instanceof WebAssembly.Module) {
  serve(parentPort, workerData as FliteWorkerData);
}
