/**
 * One speech-to-text engine. Engines receive engine-format audio (16-bit PCM mono, 8 kHz) and
 * convert it to whatever their model wants themselves; choosing an engine for a language happens
 * above them (transcriber.ts), so a new engine is a single small class.
 */

export interface TranscribeOptions {
  /** The language spoken, as a BCP 47 tag (`en-US`, `en`, `de-DE`). */
  language: string;
  /**
   * Phrases the caller expects ("billing", "technical support", "yes", "no"). Engines that can
   * constrain recognition to them do (pocketsphinx: a JSGF grammar, far more accurate on telephone
   * audio, and the answer is always one of the phrases or empty); the others may use them as a
   * hint (OpenAI-compatible servers: the `prompt`) or ignore them.
   */
  grammar?: readonly string[];
  /**
   * A whole JSGF grammar, for answers that are any run of some words (a number said digit by
   * digit): engines that take grammars use it instead of `grammar`; the others ignore it.
   */
  jsgf?: string;
  /** Abandon the transcription (the call hung up, the gather was stopped). */
  signal?: AbortSignal;
}

export interface Transcript {
  /** What was said, as the engine wrote it; empty when it heard no words. */
  text: string;
  /**
   * The engine's own confidence, from 0 to 1, when it gives a meaningful one. Engines differ in
   * how they compute it, so compare it only with results of the same engine.
   */
  confidence?: number;
  /**
   * With a grammar: the phrase recognised, exactly as the caller gave it (`2` when `text` is
   * "two"); absent when nothing matched.
   */
  phrase?: string;
}

export interface SttStreamOptions {
  language: string;
  /** As for `transcribe`. */
  grammar?: readonly string[];
  /** As for `transcribe`. */
  jsgf?: string;
  /** Stops the stream, as `close()` does. */
  signal?: AbortSignal;
}

export interface SttStreamResult {
  text: string;
  /**
   * False for a partial hypothesis that later results of the same utterance replace; true once
   * the utterance is over and the text will not change.
   */
  final: boolean;
  confidence?: number;
  /** As for `Transcript`. */
  phrase?: string;
}

/**
 * Live transcription: audio goes in as it arrives (typically one 20 ms frame at a time), results
 * come out by iterating the stream, one final result per utterance, possibly preceded by partial
 * ones. Iteration ends after `end()` once the engine has finished, and throws an `SttError` when
 * the engine fails.
 */
export interface SttStream extends AsyncIterable<SttStreamResult> {
  /** Engine-format audio (16-bit PCM mono, 8 kHz), any length. Ignored after `end` or `close`. */
  write(pcm: Int16Array): void;
  /** No more audio: the last utterance is finished and iteration ends after its result. */
  end(): void;
  /** Stops at once; pending results are dropped and iteration ends. */
  close(): void;
}

export interface SttProvider {
  /** Stable identifier for logs (`pocketsphinx`, `openai:<url>`). */
  readonly name: string;
  /** The model that transcribes, as reported to applications (`stt_model`). */
  readonly model: string;
  /** Whether this engine can transcribe `language`. Must be cheap and must not throw. */
  supports(language: string): boolean;
  /** Transcribes a whole recording. Empty audio gives empty text. */
  transcribe(pcm: Int16Array, options: TranscribeOptions): Promise<Transcript>;
  /**
   * Live transcription, for engines that can transcribe while the audio arrives. Engines
   * without it are used by collecting the audio (e.g. up to the end of speech) and calling
   * `transcribe`.
   */
  stream?(options: SttStreamOptions): SttStream;
  /** Release child processes, sockets and workers. */
  close?(): Promise<void>;
}
