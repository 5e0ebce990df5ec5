import type { SpeechPreparer } from '../media/playback-sources.js';
import { SpeechRequestError, type PreparedSpeech, type SpeechRequest } from '../media/sources.js';
import { isTtsError, planSpeech, type SpeechSynthesizer } from './tts/index.js';

/**
 * Speech for call actions: the voice, language and SSML are checked when the command arrives,
 * so a request no engine can speak is refused with a 422 instead of failing on the call.
 */
export function speechPreparer(synthesizer: SpeechSynthesizer): SpeechPreparer {
  return {
    prepare(request: SpeechRequest): PreparedSpeech {
      const speak = { payload: request.payload, payloadType: request.payloadType, voice: request.voice, ...(request.language ? { language: request.language } : {}) };
      try {
        synthesizer.route(speak);
        planSpeech(request.payload, request.payloadType, request.language ? { language: request.language } : {});
      } catch (error) {
        if (isTtsError(error, 'invalid_voice')) throw new SpeechRequestError('/voice', error.message);
        if (isTtsError(error, 'unsupported_language')) throw new SpeechRequestError('/language', error.message);
        if (isTtsError(error, 'invalid_ssml')) throw new SpeechRequestError('/payload', error.message);
        throw error;
      }
      return () => synthesizer.synthesize(speak);
    },
  };
}
