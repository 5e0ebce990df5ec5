/**
 * Which engine transcribes a request: the configured transcription server when there is one
 * for the language, otherwise pocketsphinx when it is installed (English only). When no engine
 * can take the language, the request fails with `no_engine` and a message saying what to install
 * or configure.
 */
import { isEnglish } from '../tts/voices.js';
import { SttError } from './errors.js';
import { OpenAiTranscriptionProvider, type OpenAiTranscriptionOptions } from './openai-transcription.js';
import { PocketsphinxProvider, type PocketsphinxOptions } from './pocketsphinx.js';
import type { SttProvider, SttStream, SttStreamOptions, TranscribeOptions, Transcript } from './provider.js';

/** Whether pocketsphinx was asked for and found, for the `no_engine` message. */
export type PocketsphinxState = 'installed' | 'not_installed' | 'disabled';

export interface TranscriberOptions {
  /** Engines in the order they are tried. */
  providers: readonly SttProvider[];
  pocketsphinx?: PocketsphinxState;
}

export interface TranscriptionResult extends Transcript {
  /** The engine that transcribed (`pocketsphinx`, `openai:<url>`). */
  provider: string;
  /** Its model, as reported to applications (`stt_model`). */
  model: string;
}

export interface ProviderQuery {
  /** Only engines that transcribe live (`stream`). */
  streaming?: boolean;
}

export const POCKETSPHINX_INSTALL = 'apt-get install pocketsphinx pocketsphinx-en-us';

export class Transcriber {
  readonly providers: readonly SttProvider[];
  readonly pocketsphinx: PocketsphinxState;

  constructor(options: TranscriberOptions) {
    this.providers = options.providers;
    this.pocketsphinx = options.pocketsphinx ?? (options.providers.some((p) => p instanceof PocketsphinxProvider) ? 'installed' : 'not_installed');
  }

  /** The engine for `language`; throws `no_engine` when there is none. Never runs an engine. */
  providerFor(language: string, query: ProviderQuery = {}): SttProvider {
    const provider = this.providers.find((p) => p.supports(language) && (!query.streaming || p.stream !== undefined));
    if (provider === undefined) throw new SttError('no_engine', this.noEngineMessage(language, query));
    return provider;
  }

  /** Whether some engine here transcribes `language`. */
  canTranscribe(language: string, query: ProviderQuery = {}): boolean {
    return this.providers.some((p) => p.supports(language) && (!query.streaming || p.stream !== undefined));
  }

  async transcribe(pcm: Int16Array, options: TranscribeOptions): Promise<TranscriptionResult> {
    const provider = this.providerFor(options.language);
    const transcript = await provider.transcribe(pcm, options);
    return { ...transcript, provider: provider.name, model: provider.model };
  }

  /**
   * Live transcription with the engine `transcribe` would use for the language, or null when
   * that engine transcribes whole recordings only (a configured server is preferred to a live
   * engine that is less accurate).
   */
  liveStream(options: SttStreamOptions): SttStream | null {
    if (!this.canTranscribe(options.language)) return null;
    const provider = this.providerFor(options.language);
    return provider.stream ? provider.stream(options) : null;
  }

  async close(): Promise<void> {
    await Promise.all(this.providers.map((p) => p.close?.()));
  }

  private noEngineMessage(language: string, query: ProviderQuery): string {
    const english = isEnglish(language);
    const reasons: string[] = [];
    for (const provider of this.providers) {
      if (provider instanceof PocketsphinxProvider) continue;
      if (!provider.supports(language)) reasons.push(`${provider.name} is not configured for it`);
      else if (query.streaming && provider.stream === undefined) reasons.push(`${provider.name} transcribes whole recordings only`);
    }
    if (!english) reasons.push('pocketsphinx transcribes English only');
    else if (this.pocketsphinx === 'not_installed') reasons.push('pocketsphinx is not installed');
    else if (this.pocketsphinx === 'disabled') reasons.push('pocketsphinx is disabled');

    const remedies: string[] = [];
    if (english && this.pocketsphinx === 'not_installed') remedies.push(`install pocketsphinx (Debian/Ubuntu: ${POCKETSPHINX_INSTALL})`);
    if (english && this.pocketsphinx === 'disabled') remedies.push(`enable pocketsphinx (installed with ${POCKETSPHINX_INSTALL})`);
    const server = `configure an OpenAI-compatible transcription server (OpenAI, a Whisper server such as faster-whisper or whisper.cpp, LocalAI) that handles ${language}`;
    if (!query.streaming) remedies.push(server);
    else if (this.providers.some((p) => p.supports(language))) remedies.push('collect the audio and transcribe the whole recording instead');
    else if (remedies.length === 0) remedies.push(`${server}, and transcribe whole recordings`);
    const because = reasons.length > 0 ? `: ${reasons.join(', ')}` : '';
    const live = query.streaming ? ' live' : '';
    return `no speech-to-text engine here transcribes language "${language}"${live}${because}. To transcribe it, ${remedies.join(', or ')}.`;
  }
}

export interface CreateTranscriberOptions {
  /** An OpenAI-compatible transcription server; tried first for the languages it takes. */
  openai?: OpenAiTranscriptionOptions;
  /**
   * pocketsphinx, for English, when it is installed: true (the default) looks for it with the
   * Debian paths, an object gives other paths or limits, false leaves it out.
   */
  pocketsphinx?: boolean | PocketsphinxOptions;
}

/** Builds a transcriber from configuration, looking for pocketsphinx once. */
export async function createTranscriber(options: CreateTranscriberOptions = {}): Promise<Transcriber> {
  const providers: SttProvider[] = [];
  if (options.openai !== undefined) providers.push(new OpenAiTranscriptionProvider(options.openai));
  let pocketsphinx: PocketsphinxState = 'disabled';
  if (options.pocketsphinx !== false) {
    const detected = await PocketsphinxProvider.detect(options.pocketsphinx === true || options.pocketsphinx === undefined ? {} : options.pocketsphinx);
    pocketsphinx = detected === null ? 'not_installed' : 'installed';
    if (detected !== null) providers.push(detected);
  }
  return new Transcriber({ providers, pocketsphinx });
}
