/**
 * Where the audio of playback and speech comes from, as the call actions see it. Loads reject
 * with a PlaybackLoadError, so the player reports `file_not_found` or `failed` with the reason.
 */
export type AudioHint = 'wav' | 'mp3';

/** A synthesis that passed its checks; calling it runs the engine. */
export type PreparedSpeech = () => Promise<Int16Array>;

export interface SpeechRequest {
  payload: string;
  payloadType: 'text' | 'ssml';
  voice: string;
  language: string | undefined;
}

export interface AudioSources {
  /** Fetches (or revalidates a cached copy of) an audio URL and decodes it. */
  fromUrl(url: string, options: { cache: boolean; hint: AudioHint }): Promise<Int16Array>;
  /** Stored media by name: its loading, or null when no media has that name. */
  fromMedia(mediaName: string): (() => Promise<Int16Array>) | null;
  /** Decodes audio bytes sent inline. */
  fromBytes(bytes: Uint8Array, hint: AudioHint): Promise<Int16Array>;
  /**
   * Checks a speech request (voice, language, SSML) and returns its synthesis. Throws
   * SpeechRequestError when it cannot be spoken, so the command is refused before it is queued.
   */
  prepareSpeech(request: SpeechRequest): PreparedSpeech;
}

/** Why a speech request cannot be spoken, pointing at the field at fault. */
export class SpeechRequestError extends Error {
  constructor(readonly pointer: '/voice' | '/language' | '/payload', message: string) {
    super(message);
  }
}

