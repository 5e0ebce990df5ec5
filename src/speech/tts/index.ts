/** Text-to-speech for speak and gather_using_speak. */
export { AudioCache, DEFAULT_CACHE_BYTES, type AudioCacheOptions, type AudioCacheStats } from './audio-cache.js';
export { ESPEAK_LANGUAGE_VOICES, EspeakNgProvider, espeakVoiceFor, type EspeakNgOptions } from './espeak-ng.js';
export { TtsError, isTtsError, type TtsErrorCode } from './errors.js';
export { FLITE_VOICES, FliteProvider, fliteVoiceFor, type FliteProviderOptions, type FliteVoice } from './flite.js';
export { OpenAiSpeechProvider, type OpenAiSpeechOptions } from './openai-speech.js';
export type { SynthesisOptions, TtsProvider } from './provider.js';
export {
  DEFAULT_LANGUAGE,
  TtsRegistry,
  describeVoiceFallbacks,
  formatVoiceFallbacks,
  type ProviderRoute,
  type SpeechRoute,
  type TtsRegistryOptions,
  type VoiceFallbackTable,
} from './registry.js';
export {
  SpeechSynthesizer,
  createSpeechSynthesizer,
  type ConfiguredProvider,
  type CreateSpeechSynthesizerOptions,
  type SpeakRequest,
  type SpeechSynthesizerOptions,
} from './speech-synthesizer.js';
export { planSpeech, parseSsml, type SpeechPlan, type SpeechPlanItem } from './ssml.js';
export { parseVoice, type ResolvedVoice, type VoiceFamily, type VoiceGender } from './voices.js';
