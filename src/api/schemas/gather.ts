/** Request bodies for the DTMF gather family: gather, gather_stop, gather_using_audio, gather_using_speak. */
import { commandFields, int, stringEnum, requestBody, str, voiceSettings } from './common.js';
import type { JsonSchema } from './common.js';
import { TTS_LANGUAGES } from './languages.js';

const millis = (dflt: number): JsonSchema => int({ min: 0, default: dflt });

/** Digit collection rules shared by every gather variant. */
const digitRules: Record<string, JsonSchema> = {
  inter_digit_timeout_millis: millis(5000),
  maximum_digits: int({ min: 1, max: 128, default: 128 }),
  minimum_digits: int({ min: 1, max: 128, default: 1 }),
  terminating_digit: { type: 'string', default: '#' },
  timeout_millis: millis(60000),
  valid_digits: { type: 'string', default: '0123456789#*' },
};

/** Prompted gathers replay their prompt this many times when the caller stays silent. */
const maximumTries = int({ min: 1, default: 3 });

export const gatherSchema = requestBody({
  ...commandFields,
  ...digitRules,
  gather_id: { type: 'string', minLength: 1, maxLength: 40 },
  initial_timeout_millis: millis(5000),
});

export const gatherStopSchema = requestBody({ ...commandFields });

export const gatherUsingAudioSchema = requestBody({
  ...commandFields,
  ...digitRules,
  audio_url: str,
  invalid_audio_url: str,
  invalid_media_name: str,
  maximum_tries: maximumTries,
  media_name: str,
});

/** TTS text limit, shared with speak. */
export const TTS_PAYLOAD_MAX = 3000;

export const gatherUsingSpeakSchema = requestBody({
  ...commandFields,
  ...digitRules,
  invalid_payload: { type: 'string', maxLength: TTS_PAYLOAD_MAX },
  language: stringEnum(TTS_LANGUAGES),
  maximum_tries: maximumTries,
  payload: { type: 'string', maxLength: TTS_PAYLOAD_MAX },
  payload_type: stringEnum(['text', 'ssml'], 'text'),
  service_level: stringEnum(['basic', 'premium'], 'premium'),
  voice: str,
  voice_settings: voiceSettings,
}, ['voice', 'payload']);
