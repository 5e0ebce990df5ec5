/**
 * Worker-thread side of recording finalisation: runs finalize jobs one at a time, straight
 * through. The main thread, which runs every call's 20 ms media tick, only posts the request and
 * receives the result. (MP3 encoding costs 1–6 % of the recording's duration in CPU; see
 * finalize.ts for why that cannot share the media thread.)
 */
import { parentPort } from 'node:worker_threads';
import { runToCompletion } from '../audio/cooperative.js';
import { asFinalizeError, finalizeJob, type FinalizeFailure, type FinalizeRequest, type FinalizedRecording } from './finalize-job.js';

export interface FinalizeWorkerJob {
  id: number;
  request: FinalizeRequest;
}

export type FinalizeWorkerReply =
  | { id: number; result: FinalizedRecording }
  | { id: number; error: { message: string; reason: FinalizeFailure; code: string | null } };

function serve(port: NonNullable<typeof parentPort>): void {
  port.on('message', (job: FinalizeWorkerJob) => {
    let reply: FinalizeWorkerReply;
    try {
      reply = { id: job.id, result: runToCompletion(finalizeJob(job.request)) };
    } catch (err) {
      const e = asFinalizeError(err);
      reply = { id: job.id, error: { message: e.message, reason: e.reason, code: e.code ?? null } };
    }
    port.postMessage(reply);
  });
}

if (parentPort !== null) serve(parentPort);
