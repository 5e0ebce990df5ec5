import { decodeAudio } from './audio/decode.js';
import { AudioDecodeError } from './audio/errors.js';
import type { AudioLibrary } from './audio/audio-cache.js';
import { AudioFetchError } from './audio/fetch-audio.js';
import { PlaybackLoadError } from './player/prompt-player.js';
import type { AudioHint, AudioSources, PreparedSpeech, SpeechRequest } from './sources.js';

/** Stored media as playback needs it (the Media Storage service offers this). */
export interface StoredMediaReader {
  get(mediaName: string): unknown;
  read(mediaName: string): Promise<{ bytes: Uint8Array } | null>;
}

/** Speech as playback needs it: checked at once, synthesised later. */
export interface SpeechPreparer {
  prepare(request: SpeechRequest): PreparedSpeech;
}

/**
 * The server's AudioSources: URLs through the audio library (fetch, decode, cache), stored media
 * through Media Storage, inline bytes through the decoder, speech through the synthesizer. Every
 * failure becomes a PlaybackLoadError whose detail reads well in call.playback.ended.
 */
export class PlaybackSources implements AudioSources {
  constructor(private readonly deps: { library: AudioLibrary; media: StoredMediaReader; speech: SpeechPreparer }) {}

  fromUrl(url: string, options: { cache: boolean; hint: AudioHint }): Promise<Int16Array> {
    return this.deps.library.load(url, options).catch((error: unknown) => {
      throw loadError(error, url);
    });
  }

  fromMedia(mediaName: string): (() => Promise<Int16Array>) | null {
    if (!this.deps.media.get(mediaName)) return null;
    return async () => {
      const stored = await this.deps.media.read(mediaName);
      // Deleted or expired between the command and its turn to play.
      if (!stored) throw new PlaybackLoadError('file_not_found', `Media '${mediaName}' is no longer stored.`);
      return this.fromBytes(stored.bytes, 'mp3', `media '${mediaName}'`);
    };
  }

  fromBytes(bytes: Uint8Array, hint: AudioHint, what = 'playback_content'): Promise<Int16Array> {
    return decodeAudio(bytes, hint).catch((error: unknown) => {
      throw loadError(error, what);
    });
  }

  prepareSpeech(request: SpeechRequest): PreparedSpeech {
    const synthesize = this.deps.speech.prepare(request);
    return () => synthesize().catch((error: unknown) => {
      throw error instanceof PlaybackLoadError ? error : new PlaybackLoadError('failed', `Speech synthesis failed: ${message(error)}`);
    });
  }
}

function loadError(error: unknown, what: string): PlaybackLoadError {
  if (error instanceof PlaybackLoadError) return error;
  if (error instanceof AudioFetchError) return new PlaybackLoadError(error.kind === 'not_found' ? 'file_not_found' : 'failed', error.detail);
  if (error instanceof AudioDecodeError) return new PlaybackLoadError('failed', `Cannot play ${what}: ${error.message}`);
  return new PlaybackLoadError('failed', `Cannot play ${what}: ${message(error)}`);
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
