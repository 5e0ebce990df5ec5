import type { ResolvedVoice } from './voices.js';

export interface SynthesisOptions {
  voice: ResolvedVoice;
  /** The language to speak, after voice resolution (a BCP 47 tag such as `en-US`, or `arb`). */
  language: string;
  /** Speaking-rate multiplier: 1 is the engine's normal pace, 0.5 half as fast, 2 twice. */
  rate?: number;
  /** Abandon the synthesis (the call hung up, the speak was stopped). */
  signal?: AbortSignal;
}

/**
 * One speech engine. Providers only turn a short stretch of plain text into audio: SSML, pauses,
 * long-text chunking and caching happen above them (speech-synthesizer.ts), so that every engine
 * gets the same treatment and a new engine is a single small class.
 */
export interface TtsProvider {
  /** Stable identifier, used in cache keys and logs (`flite`, `espeak-ng`, `openai:<url>`). */
  readonly name: string;
  /** Whether this engine can speak `voice` in `language`. Must be cheap and must not throw. */
  canSpeak(voice: ResolvedVoice, language: string): boolean;
  /** The engine's own name for the voice that will speak, for logs and the fallback table. */
  engineVoice(voice: ResolvedVoice, language: string): string;
  /** Engine-format audio (16-bit PCM mono, 8 kHz). Empty text gives empty audio. */
  synthesize(text: string, options: SynthesisOptions): Promise<Int16Array>;
  /** Get ready for a first request without its cold-start cost (compilation, workers). */
  warmUp?(): Promise<void>;
  /** Release workers, sockets and child processes. */
  close?(): Promise<void>;
}
