/**
 * The one entry point the speak actions use: a payload, a voice and a language in, engine-format
 * audio out. It resolves the engine, plans the speech (SSML, say-as, pauses), splits long text
 * into sentences, calls the engine for each, trims the engine's padding, joins everything with
 * the planned silences, and caches the result.
 */
import { AudioCache, type AudioCacheOptions, type AudioCacheStats } from './audio-cache.js';
import { EspeakNgProvider, type EspeakNgOptions } from './espeak-ng.js';
import { FliteProvider, type FliteProviderOptions } from './flite.js';
import { OpenAiSpeechProvider, type OpenAiSpeechOptions } from './openai-speech.js';
import { concatPcm, silence, trimSilence } from './pcm.js';
import type { TtsProvider } from './provider.js';
import { TtsRegistry, type ProviderRoute, type SpeechRoute } from './registry.js';
import { planSpeech, type SpeechPlan } from './ssml.js';
import { MAX_CHUNK_CHARS, splitSentences } from './text-chunks.js';
import type { VoiceFamily } from './voices.js';

export interface SpeakRequest {
  payload: string;
  payloadType?: 'text' | 'ssml';
  voice: string;
  language?: string;
}

export interface SpeechSynthesizerOptions {
  registry: TtsRegistry;
  /** The cache, or its options; `false` disables caching. */
  cache?: AudioCache | AudioCacheOptions | false;
  /** Longest text handed to an engine in one call (see text-chunks.ts). */
  maxChunkChars?: number;
  /** Engine calls started ahead of the one being delivered, so that audio keeps flowing. */
  lookahead?: number;
}

/** Gap between two sentences of one text stretch, in place of the padding trimmed off them. */
export const SENTENCE_GAP_MS = 300;

type Step = { text: string; rate: number } | { pauseMs: number };

/**
 * One synthesis, shared by every caller that asks for the same audio while it runs: chunks are
 * kept as they arrive so that a late reader of a stream starts from the beginning.
 */
class SharedSynthesis {
  readonly chunks: Int16Array[] = [];
  private finished = false;
  private failure: { error: unknown } | null = null;
  private waiters: (() => void)[] = [];
  readonly whole: Promise<Int16Array>;
  private settle!: { resolve(audio: Int16Array): void; reject(error: unknown): void };

  constructor() {
    this.whole = new Promise<Int16Array>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    // Callers that only stream never await `whole`; its rejection must not go unhandled.
    this.whole.catch(() => {});
  }

  push(chunk: Int16Array): void {
    this.chunks.push(chunk);
    this.wake();
  }

  finish(audio: Int16Array): void {
    this.finished = true;
    this.settle.resolve(audio);
    this.wake();
  }

  fail(error: unknown): void {
    this.failure = { error };
    this.settle.reject(error);
    this.wake();
  }

  async *read(): AsyncGenerator<Int16Array> {
    let next = 0;
    for (;;) {
      while (next < this.chunks.length) yield (this.chunks[next++] as Int16Array).slice();
      if (this.failure !== null) throw this.failure.error;
      if (this.finished) return;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}

export class SpeechSynthesizer {
  readonly registry: TtsRegistry;
  private readonly cache: AudioCache | null;
  private readonly running = new Map<string, SharedSynthesis>();
  private readonly maxChunkChars: number;
  private readonly lookahead: number;

  constructor(options: SpeechSynthesizerOptions) {
    this.registry = options.registry;
    const cache = options.cache ?? {};
    this.cache = cache === false ? null : cache instanceof AudioCache ? cache : new AudioCache(cache);
    this.maxChunkChars = options.maxChunkChars ?? MAX_CHUNK_CHARS;
    this.lookahead = Math.max(1, options.lookahead ?? 2);
  }

  /**
   * Which engine and voice would speak the request. Throws `invalid_voice` or
   * `unsupported_language`, so a speak command can be refused before any audio work starts.
   */
  route(request: Pick<SpeakRequest, 'voice' | 'language'>): SpeechRoute {
    return this.registry.resolve(request.voice, request.language);
  }

  /** The whole utterance. Callers get their own copy; changing it does not touch the cache. */
  async synthesize(request: SpeakRequest): Promise<Int16Array> {
    const started = this.begin(request);
    if ('cached' in started) return started.cached.slice();
    return (await started.shared.whole).slice();
  }

  /**
   * The utterance in pieces, as they become ready (a sentence or a pause at a time), so that
   * playback of a long payload can start after its first sentence. Stopping early does not stop
   * the synthesis: other callers may share it, and the finished audio goes to the cache.
   */
  async *stream(request: SpeakRequest): AsyncGenerator<Int16Array> {
    const started = this.begin(request);
    if ('cached' in started) yield started.cached.slice();
    else yield* started.shared.read();
  }

  /**
   * Takes the cold start off the first speak: compiles flite and starts its worker (~250 ms,
   * once per process). Worth calling at server start; not needed for correctness.
   */
  async warmUp(): Promise<void> {
    await Promise.all(this.registry.providers.map((p) => p.warmUp?.()));
  }

  cacheStats(): AudioCacheStats | null {
    return this.cache?.stats() ?? null;
  }

  async close(): Promise<void> {
    await Promise.all(this.registry.providers.map((p) => p.close?.()));
  }

  private begin(request: SpeakRequest): { cached: Int16Array } | { shared: SharedSynthesis } {
    const payloadType = request.payloadType ?? 'text';
    const route = this.route(request);
    const key = JSON.stringify([route.provider.name, route.voice.requested, route.language, payloadType, request.payload]);
    const cached = this.cache?.get(key);
    if (cached !== undefined) return { cached };
    const running = this.running.get(key);
    if (running !== undefined) return { shared: running };

    // Planning throws invalid_ssml synchronously, before anything is shared or started.
    const plan = planSpeech(request.payload, payloadType, { language: route.language });
    const shared = new SharedSynthesis();
    this.running.set(key, shared);
    // The entry leaves `running` before anyone is woken, so that a request made on waking finds
    // the cache (or, with no cache, starts afresh) rather than this finished synthesis.
    this.render(route, plan, shared).then(
      (audio) => {
        this.cache?.set(key, audio);
        this.running.delete(key);
        shared.finish(audio);
      },
      (error: unknown) => {
        this.running.delete(key);
        shared.fail(error);
      },
    );
    return { shared };
  }

  private steps(plan: SpeechPlan): Step[] {
    const steps: Step[] = [];
    for (const item of plan) {
      if ('pauseMs' in item) {
        steps.push(item);
        continue;
      }
      splitSentences(item.text, this.maxChunkChars).forEach((sentence, index) => {
        if (index > 0) steps.push({ pauseMs: SENTENCE_GAP_MS });
        steps.push({ text: sentence, rate: item.rate });
      });
    }
    return steps;
  }

  /** Runs the engine calls in order, up to `lookahead` ahead, pushing each piece as it is ready. */
  private async render(route: SpeechRoute, plan: SpeechPlan, shared: SharedSynthesis): Promise<Int16Array> {
    const steps = this.steps(plan);
    const started: Promise<Int16Array>[] = [];
    const start = (index: number): void => {
      const step = steps[index];
      if (step === undefined || started[index] !== undefined) return;
      started[index] =
        'pauseMs' in step
          ? Promise.resolve(silence(step.pauseMs))
          : route.provider
              .synthesize(step.text, { voice: route.voice, language: route.language, rate: step.rate })
              .then((audio) => trimSilence(audio));
      // A later step may fail while an earlier one is awaited; it is reported when reached.
      started[index].catch(() => {});
    };
    for (let index = 0; index < steps.length; index++) {
      for (let ahead = index; ahead <= index + this.lookahead; ahead++) start(ahead);
      const audio = await (started[index] as Promise<Int16Array>);
      if (audio.length > 0) shared.push(audio);
    }
    return concatPcm(shared.chunks);
  }
}

// ---------------------------------------------------------------------------------------------
// Assembly from configuration.

export interface ConfiguredProvider {
  /** Voice families this provider speaks (`telnyx`, `elevenlabs`...), or `*` for all. */
  families: readonly (VoiceFamily | '*')[];
  /** An OpenAI-compatible speech server, or a provider built elsewhere. */
  openai?: OpenAiSpeechOptions;
  provider?: TtsProvider;
}

export interface CreateSpeechSynthesizerOptions {
  /** Options for the embedded flite engine; `false` leaves it out. */
  flite?: FliteProviderOptions | false;
  /** Use espeak-ng when installed (default true); options, or `false` to never use it. */
  espeak?: EspeakNgOptions | boolean;
  providers?: readonly ConfiguredProvider[];
  cache?: AudioCacheOptions | false;
  defaultLanguage?: string;
}

/** Builds the usual setup: flite, espeak-ng if installed, and the configured providers. */
export async function createSpeechSynthesizer(options: CreateSpeechSynthesizerOptions = {}): Promise<SpeechSynthesizer> {
  const flite = options.flite === false ? null : new FliteProvider(options.flite ?? {});
  const espeak =
    options.espeak === false ? null : await EspeakNgProvider.detect(options.espeak === true ? {} : options.espeak ?? {});
  const routes: ProviderRoute[] = (options.providers ?? []).map((configured) => {
    const provider = configured.provider ?? (configured.openai ? new OpenAiSpeechProvider(configured.openai) : undefined);
    if (provider === undefined) throw new Error('a configured speech provider needs `openai` options or a `provider`');
    return { families: configured.families, provider };
  });
  const registry = new TtsRegistry({ flite, espeak, routes, ...(options.defaultLanguage ? { defaultLanguage: options.defaultLanguage } : {}) });
  return new SpeechSynthesizer({ registry, cache: options.cache ?? {} });
}
