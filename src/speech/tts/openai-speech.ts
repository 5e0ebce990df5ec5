/**
 * Any server that speaks OpenAI's `POST /v1/audio/speech`: OpenAI itself, and the self-hosted
 * servers that copy its API (Kokoro-FastAPI, openedai-speech, LocalAI, Speaches...). One adapter
 * thus covers most neural voices a self-hosted deployment can run.
 */
import { TtsError } from './errors.js';
import { wavToEnginePcm } from './pcm.js';
import type { SynthesisOptions, TtsProvider } from './provider.js';
import type { ResolvedVoice } from './voices.js';

export interface OpenAiSpeechOptions {
  /** Server root, e.g. `https://api.openai.com` or `http://127.0.0.1:8880`; `/v1/audio/speech` is appended. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <apiKey>` when given. */
  apiKey?: string;
  /** The server's model (`tts-1`, `kokoro`); defaults to the model in the voice string, else `tts-1`. */
  model?: string;
  /**
   * Requested voice → the server's voice name. Keys are whole voice strings
   * (`Telnyx.KokoroTTS.af`) or bare voice ids (`af`). When given, only these voices are spoken
   * here and others fall back to local engines; when absent, the voice id is sent as is.
   */
  voices?: Readonly<Record<string, string>>;
  /** Languages the server speaks (exact tags or primary subtags); absent means any. */
  languages?: readonly string[];
  timeoutMs?: number;
  /** Name in logs and cache keys; defaults to `openai:<baseUrl>`. */
  name?: string;
}

const DEFAULT_TIMEOUT_MS = 15_000;
// The API accepts 0.25–4.0.
const MIN_SPEED = 0.25;
const MAX_SPEED = 4;

export class OpenAiSpeechProvider implements TtsProvider {
  readonly name: string;
  private readonly endpoint: string;
  private readonly options: OpenAiSpeechOptions;
  private readonly timeoutMs: number;

  constructor(options: OpenAiSpeechOptions) {
    this.options = options;
    this.endpoint = `${options.baseUrl.replace(/\/+$/, '')}/v1/audio/speech`;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.name = options.name ?? `openai:${options.baseUrl}`;
  }

  canSpeak(voice: ResolvedVoice, language: string): boolean {
    if (this.options.voices !== undefined && this.mappedVoice(voice) === undefined) return false;
    const languages = this.options.languages;
    if (languages === undefined) return true;
    const primary = language.split('-')[0]?.toLowerCase();
    return languages.some((l) => l.toLowerCase() === language.toLowerCase() || l.toLowerCase() === primary);
  }

  engineVoice(voice: ResolvedVoice): string {
    return this.mappedVoice(voice) ?? voice.id;
  }

  async synthesize(text: string, options: SynthesisOptions): Promise<Int16Array> {
    if (text.trim() === '') return new Int16Array(0);
    const body: Record<string, unknown> = {
      model: this.options.model ?? options.voice.model ?? 'tts-1',
      input: text,
      voice: this.engineVoice(options.voice),
      response_format: 'wav',
    };
    const rate = options.rate ?? 1;
    if (rate !== 1) body.speed = Math.min(MAX_SPEED, Math.max(MIN_SPEED, rate));

    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'audio/wav' };
    if (this.options.apiKey !== undefined && this.options.apiKey !== '') headers.authorization = `Bearer ${this.options.apiKey}`;

    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = options.signal === undefined ? timeout : AbortSignal.any([timeout, options.signal]);
    let response: Response;
    let bytes: Uint8Array;
    try {
      response = await fetch(this.endpoint, { method: 'POST', headers, body: JSON.stringify(body), signal });
      bytes = new Uint8Array(await response.arrayBuffer());
    } catch (error) {
      if (timeout.aborted) {
        throw new TtsError('provider_timeout', `speech server ${this.endpoint} did not answer within ${this.timeoutMs} ms`, { cause: error });
      }
      if (options.signal?.aborted) throw error;
      const detail = describeFetchError(error);
      throw new TtsError('provider_error', `speech server ${this.endpoint} is unreachable: ${detail}`, { cause: error });
    }
    if (!response.ok) {
      const detail = new TextDecoder().decode(bytes.subarray(0, 300)).trim();
      throw new TtsError('provider_error', `speech server ${this.endpoint} answered ${response.status}${detail ? `: ${detail}` : ''}`);
    }
    return wavToEnginePcm(bytes, `speech server ${this.endpoint}`);
  }

  private mappedVoice(voice: ResolvedVoice): string | undefined {
    const voices = this.options.voices;
    if (voices === undefined) return undefined;
    return voices[voice.requested] ?? voices[voice.id];
  }
}

// undici reports "fetch failed" with the useful part (ECONNREFUSED...) in its cause.
function describeFetchError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause;
  if (cause instanceof Error) return `${error.message} (${(cause as NodeJS.ErrnoException).code ?? cause.message})`;
  return error.message;
}
