/**
 * Worker-thread side of recording finalisation: runs finalize jobs one at a time, straight
 * through. The main thread, which runs every call's 20 ms media tick, only posts the request and
 * receives the result. (MP3 encoding costs 1–6 % of the recording's duration in CPU; see
 * finalize.ts for why that cannot share the media thread.)
 */
import { parentPort } from 'node:worker_threads';
import { runToCompletion } from '../audio/cooperative.js';
import { asFinalizeError, finalizeJob, type FinalizeFailure, type FinalizeRequest, type FinalizedRecording } from './finalize-job.js';
import { Mp3Engines, type Mp3Engine } from './mp3-writer.js';

export interface FinalizeWorkerJob {
  id: number;
  request: FinalizeRequest;
}

export type FinalizeWorkerReply =
  | { id: number; result: FinalizedRecording }
  | { id: number; error: { message: string; reason: FinalizeFailure; code: string | null } };

function serve(port: NonNullable<typeof parentPort>): void {
  const engines = new Mp3Engines();
  // Jobs arrive one at a time (the pool waits for each reply), so one engine serves them all.
  port.on('message', async (job: FinalizeWorkerJob) => {
    let reply: FinalizeWorkerReply;
    let mp3: Mp3Engine | null = null;
    try {
      if (job.request.format === 'mp3') mp3 = await engines.acquire();
      reply = { id: job.id, result: runToCompletion(finalizeJob(job.request, mp3)) };
    } catch (err) {
      const e = asFinalizeError(err);
      reply = { id: job.id, error: { message: e.message, reason: e.reason, code: e.code ?? null } };
    } finally {
      if (mp3 !== null) engines.release(mp3);
    }
    port.postMessage(reply);
  });
}

if (parentPort !== null) serve(parentPort);
