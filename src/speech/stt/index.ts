/** Speech-to-text: recordings (and, where an engine can, live audio) to text. */
export { StreamingUpsampler, engineAudioAt } from './audio.js';
export { SttError, isSttError, type SttErrorCode } from './errors.js';
export { compileGrammar, loadDictionaryWords, numberWords, phraseWords, type CompiledGrammar } from './grammar.js';
export { OpenAiTranscriptionProvider, type OpenAiTranscriptionOptions } from './openai-transcription.js';
export { POCKETSPHINX_MODEL_DIR, PocketsphinxProvider, parsePocketsphinxOutput, type PocketsphinxOptions } from './pocketsphinx.js';
export type {
  SttProvider,
  SttStream,
  SttStreamOptions,
  SttStreamResult,
  TranscribeOptions,
  Transcript,
} from './provider.js';
export {
  POCKETSPHINX_INSTALL,
  Transcriber,
  createTranscriber,
  type CreateTranscriberOptions,
  type PocketsphinxState,
  type ProviderQuery,
  type TranscriberOptions,
  type TranscriptionResult,
} from './transcriber.js';
export { corpusWordErrorRate, wordErrors, type WordErrors } from './word-error-rate.js';
