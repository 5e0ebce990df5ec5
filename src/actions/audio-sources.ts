import { errors, fieldError, type ApiError } from '../api/errors.js';
import { PlaybackLoadError } from '../media/player/prompt-player.js';
import { SpeechRequestError, type AudioHint, type AudioSources, type PreparedSpeech, type SpeechRequest } from '../media/sources.js';

export type { AudioHint, AudioSources, PreparedSpeech, SpeechRequest };

export interface ResolvedAudio {
  load: () => Promise<Int16Array>;
  source: { media_url?: string; media_name?: string };
  /** The request named no audio at all. */
  missing?: boolean;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * The audio a playback or prompt names: exactly one of `audio_url`, `media_name` or (when
 * allowed) `playback_content`. Refuses with a 422 pointing at the field when the choice is
 * missing, ambiguous, or names media that does not exist.
 */
export function resolveAudio(
  sources: AudioSources,
  fields: { url: string; media: string; content?: string },
  body: Record<string, unknown>,
  hint: AudioHint,
  cache: boolean,
): ResolvedAudio {
  const url = body[fields.url];
  const media = body[fields.media];
  const content = fields.content ? body[fields.content] : undefined;
  const given = [url, media, content].filter((v) => v !== undefined).length;
  if (given === 0) {
    // No field is required by the contract, so an empty request is accepted; the playback then
    // ends at once as failed, saying what was missing.
    const names = [fields.url, fields.media, fields.content].filter(Boolean).join(', ');
    return { load: () => Promise.reject(new PlaybackLoadError('failed', `No audio to play: give one of ${names}.`)), source: {}, missing: true };
  }
  if (given > 1) {
    throw errors.validation([fieldError.invalid(`/${fields.media}`, `${fields.url}, ${fields.media}${fields.content ? ` and ${fields.content}` : ''} cannot be used together.`)]);
  }
  if (typeof url === 'string') {
    if (!/^https?:\/\//i.test(url)) throw errors.validation([fieldError.invalid(`/${fields.url}`, 'The URL must start with http:// or https://.')]);
    return { load: () => sources.fromUrl(url, { cache, hint }), source: { media_url: url } };
  }
  if (typeof media === 'string') {
    const load = sources.fromMedia(media);
    if (!load) throw errors.validation([fieldError.invalid(`/${fields.media}`, `No media named '${media}' is stored; upload it with POST /v2/media first.`)]);
    return { load, source: { media_name: media } };
  }
  const text = String(content).replace(/\s+/g, '');
  if (text.length === 0 || !BASE64.test(text) || text.length % 4 === 1) {
    throw errors.validation([fieldError.invalid(`/${fields.content}`, 'The value must be base64-encoded MP3 or WAV audio.')]);
  }
  const bytes = Buffer.from(text, 'base64');
  return { load: () => sources.fromBytes(bytes, hint), source: {} };
}

/** Checks a speech request now; a refusal becomes a 422 at the field at fault. */
export function prepareSpeech(sources: AudioSources, request: SpeechRequest, payloadPointer = '/payload'): PreparedSpeech {
  try {
    return sources.prepareSpeech(request);
  } catch (error) {
    throw speechRefusal(error, payloadPointer);
  }
}

function speechRefusal(error: unknown, payloadPointer: string): ApiError | unknown {
  if (!(error instanceof SpeechRequestError)) return error;
  const pointer = error.pointer === '/payload' ? payloadPointer : error.pointer;
  return errors.validation([fieldError.invalid(pointer, error.message)]);
}
