import type { CallEngine } from '../calls/call-engine.js';
import type { CallAction } from '../calls/command-router.js';
import type { PlayRequest } from '../calls/leg-audio.js';
import type { Clock } from '../util/clock.js';
import type { IdSource } from '../util/ids.js';
import { prepareSpeech, resolveAudio, type AudioSources, type PreparedSpeech } from './audio-sources.js';
import { gatherDefaults } from './gather.js';
import { PromptedGather, type PromptedGatherOptions } from './prompted-gather.js';

const ok = { result: 'ok' };
const DEFAULT_TRIES = 3;

/**
 * gather_using_audio and gather_using_speak: a DTMF gather that plays a prompt (PromptedGather).
 * Audio prompts report call.playback.*; spoken prompts report no speak events, as Telnyx lists
 * none for gather_using_speak.
 */
export function promptGatherActions(engine: CallEngine, sources: AudioSources, clock: Clock, ids: IdSource): Record<string, CallAction> {
  const start = (callControlId: string, body: Record<string, unknown>, prompt: (() => PlayRequest) | null, invalidPrompt: (() => PlayRequest) | null): void => {
    const params: PromptedGatherOptions['params'] = {
      minimum_digits: num(body['minimum_digits'], gatherDefaults.minimum_digits),
      maximum_digits: num(body['maximum_digits'], gatherDefaults.maximum_digits),
      timeout_millis: num(body['timeout_millis'], gatherDefaults.timeout_millis),
      inter_digit_timeout_millis: num(body['inter_digit_timeout_millis'], gatherDefaults.inter_digit_timeout_millis),
      valid_digits: typeof body['valid_digits'] === 'string' ? body['valid_digits'] : gatherDefaults.valid_digits,
      terminating_digit: typeof body['terminating_digit'] === 'string' ? body['terminating_digit'] : gatherDefaults.terminating_digit,
      gather_id: ids.uuid(),
    };
    engine.startCollector(callControlId, (report) => new PromptedGather({
      params,
      maximumTries: num(body['maximum_tries'], DEFAULT_TRIES),
      clock,
      prompt,
      invalidPrompt,
      play: (request) => engine.play(callControlId, request),
      report,
    }));
  };

  return {
    gather_using_audio: {
      precondition: 'answered',
      run: ({ leg, body }) => {
        const main = resolveAudio(sources, { url: 'audio_url', media: 'media_name' }, body, 'mp3', true);
        const hasInvalid = body['invalid_audio_url'] !== undefined || body['invalid_media_name'] !== undefined;
        const invalid = hasInvalid ? resolveAudio(sources, { url: 'invalid_audio_url', media: 'invalid_media_name' }, body, 'mp3', true) : null;
        const request = (audio: typeof main): (() => PlayRequest) => {
          const load = once(audio.load);
          return () => ({ kind: 'playback', overlay: false, loops: 1, audio: load(), source: audio.source, events: true });
        };
        start(leg.callControlId, body, main.missing ? null : request(main), invalid ? request(invalid) : null);
        return { ...ok };
      },
    },
    gather_using_speak: {
      precondition: 'answered',
      run: ({ leg, body }) => {
        const speech = (field: 'payload' | 'invalid_payload'): PreparedSpeech => prepareSpeech(sources, {
          payload: String(body[field]),
          payloadType: body['payload_type'] === 'ssml' ? 'ssml' : 'text',
          voice: String(body['voice']),
          language: typeof body['language'] === 'string' ? body['language'] : undefined,
        }, `/${field}`);
        const request = (field: 'payload' | 'invalid_payload', synthesize: PreparedSpeech): (() => PlayRequest) => {
          const load = once(synthesize);
          return () => ({ kind: 'speak', overlay: false, loops: 1, audio: load(), source: { text: String(body[field]) }, events: false });
        };
        const main = request('payload', speech('payload'));
        const invalid = typeof body['invalid_payload'] === 'string' ? request('invalid_payload', speech('invalid_payload')) : null;
        start(leg.callControlId, body, main, invalid);
        return { ...ok };
      },
    },
  };
}

/** Loads a prompt once: every try replays the same audio. */
function once(load: () => Promise<Int16Array>): () => Promise<Int16Array> {
  let audio: Promise<Int16Array> | null = null;
  return () => (audio ??= load());
}

function num(value: unknown, fallback: number): number {
  return typeof value === 'number' ? value : fallback;
}
