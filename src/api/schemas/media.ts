/** Request bodies for audio out: playback_start, playback_stop, speak. */
import { bool, commandFields, loopCount, stringEnum, requestBody, str, voiceSettings } from './common.js';
import { TTS_PAYLOAD_MAX } from './gather.js';
import { TTS_LANGUAGES } from './languages.js';

/*
 * The spec types `stop` and playback `target_legs` as free strings, but its descriptions name the
 * only meaningful values. We enforce them so a typo fails loudly instead of playing on the wrong leg.
 */
const STOP_VALUES = ['current', 'all'];
const TARGET_LEGS = ['self', 'opposite', 'both'];

export const playbackStartSchema = requestBody({
  ...commandFields,
  audio_type: stringEnum(['mp3', 'wav'], 'mp3'),
  audio_url: str,
  cache_audio: bool(true),
  loop: loopCount,
  media_name: str,
  overlay: bool(false),
  playback_content: str,
  stop: stringEnum(STOP_VALUES),
  target_legs: stringEnum(TARGET_LEGS, 'self'),
});

export const playbackStopSchema = requestBody({
  ...commandFields,
  overlay: bool(false),
  stop: stringEnum(STOP_VALUES, 'all'),
});

export const speakSchema = requestBody({
  ...commandFields,
  language: stringEnum(TTS_LANGUAGES),
  loop: loopCount,
  payload: { type: 'string', maxLength: TTS_PAYLOAD_MAX },
  payload_type: stringEnum(['text', 'ssml'], 'text'),
  service_level: stringEnum(['basic', 'premium'], 'premium'),
  stop: stringEnum(STOP_VALUES),
  target_legs: stringEnum(TARGET_LEGS, 'self'),
  voice: str,
  voice_settings: voiceSettings,
}, ['payload', 'voice']);

/** Fields where we enforce values that the spec only names in prose; the spec tests allow these. */
export const describedEnums: Record<string, Record<string, readonly string[]>> = {
  playback_start: { stop: STOP_VALUES, target_legs: TARGET_LEGS },
  playback_stop: { stop: STOP_VALUES },
  speak: { stop: STOP_VALUES },
};
