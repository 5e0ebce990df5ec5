/**
 * Any server that speaks OpenAI's `POST /v1/audio/transcriptions`: OpenAI itself, and the
 * self-hosted Whisper servers that copy its API (faster-whisper servers such as Speaches,
 * LocalAI, whisper.cpp's server started with `--inference-path /v1/audio/transcriptions`).
 *
 * The audio goes up as a 16 kHz WAV: Whisper models work at 16 kHz, and some servers
 * (older whisper.cpp builds) accept nothing else.
 */
import { encodeWav } from '../../media/audio/wav.js';
import { primaryLanguage } from '../tts/voices.js';
import { engineAudioAt } from './audio.js';
import { SttError } from './errors.js';
import type { SttProvider, TranscribeOptions, Transcript } from './provider.js';

export interface OpenAiTranscriptionOptions {
  /**
   * Server root, e.g. `https://api.openai.com` or `http://127.0.0.1:8000`;
   * `/v1/audio/transcriptions` is appended (a root that already ends in `/v1` is accepted too).
   */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <apiKey>` when given. */
  apiKey?: string;
  /** The server's model: `whisper-1`, `gpt-4o-transcribe`, `Systran/faster-whisper-small`... */
  model: string;
  /** Languages the server transcribes (exact tags or primary subtags); absent means any. */
  languages?: readonly string[];
  /** Default 30 s. */
  timeoutMs?: number;
  /** Name in logs; defaults to `openai:<baseUrl>`. */
  name?: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const UPLOAD_RATE = 16_000;

export class OpenAiTranscriptionProvider implements SttProvider {
  readonly name: string;
  readonly model: string;
  readonly endpoint: string;
  private readonly options: OpenAiTranscriptionOptions;
  private readonly timeoutMs: number;

  constructor(options: OpenAiTranscriptionOptions) {
    if (options.model.trim() === '') throw new TypeError('an OpenAI-compatible transcription server needs a model');
    this.options = options;
    this.model = options.model;
    this.endpoint = `${options.baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '')}/v1/audio/transcriptions`;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.name = options.name ?? `openai:${options.baseUrl}`;
  }

  supports(language: string): boolean {
    const languages = this.options.languages;
    if (languages === undefined) return true;
    const primary = primaryLanguage(language);
    return languages.some((l) => l.toLowerCase() === language.toLowerCase() || l.toLowerCase() === primary);
  }

  async transcribe(pcm: Int16Array, options: TranscribeOptions): Promise<Transcript> {
    if (!this.supports(options.language)) {
      throw new SttError('unsupported_language', `transcription server ${this.endpoint} is not configured for language "${options.language}"`);
    }
    options.signal?.throwIfAborted();
    if (pcm.length === 0) return { text: '' };

    const form = new FormData();
    form.append('file', new Blob([encodeWav(engineAudioAt(pcm, UPLOAD_RATE), UPLOAD_RATE)], { type: 'audio/wav' }), 'audio.wav');
    form.append('model', this.model);
    // The API takes ISO 639-1 codes: `en`, not `en-US`.
    const language = primaryLanguage(options.language);
    if (language !== '') form.append('language', language);
    form.append('response_format', 'json');
    // Whisper has no grammar, but its prompt steers spelling and vocabulary toward the phrases.
    const phrases = options.grammar?.map((p) => p.trim()).filter((p) => p !== '') ?? [];
    if (phrases.length > 0) form.append('prompt', phrases.join(', '));

    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.options.apiKey !== undefined && this.options.apiKey !== '') headers.authorization = `Bearer ${this.options.apiKey}`;

    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = options.signal === undefined ? timeout : AbortSignal.any([timeout, options.signal]);
    let response: Response;
    let body: string;
    try {
      response = await fetch(this.endpoint, { method: 'POST', headers, body: form, signal });
      body = await response.text();
    } catch (error) {
      if (options.signal?.aborted) throw error;
      if (timeout.aborted) {
        throw new SttError('provider_timeout', `transcription server ${this.endpoint} did not answer within ${this.timeoutMs} ms`, { cause: error });
      }
      throw new SttError('provider_error', `transcription server ${this.endpoint} is unreachable: ${describeFetchError(error)}`, { cause: error });
    }
    if (!response.ok) {
      const detail = body.slice(0, 300).trim();
      throw new SttError('provider_error', `transcription server ${this.endpoint} answered ${response.status}${detail ? `: ${detail}` : ''}`);
    }
    return parseTranscription(body, this.endpoint);
  }
}

function parseTranscription(body: string, endpoint: string): Transcript {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    throw new SttError('provider_error', `transcription server ${endpoint} answered with something other than JSON: ${body.slice(0, 100)}`, { cause: error });
  }
  const text = (parsed as { text?: unknown } | null)?.text;
  if (typeof text !== 'string') {
    throw new SttError('provider_error', `transcription server ${endpoint} answered JSON without a "text" string`);
  }
  // whisper.cpp and Whisper itself lead with a space and may end with a newline.
  return { text: text.trim() };
}

// undici reports "fetch failed" with the useful part (ECONNREFUSED...) in its cause.
function describeFetchError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause;
  if (cause instanceof Error) return `${error.message} (${(cause as NodeJS.ErrnoException).code ?? cause.message})`;
  return error.message;
}
