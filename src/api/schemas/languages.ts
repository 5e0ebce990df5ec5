/**
 * Enumerations too long to keep inline with the request schemas. Values mirror the Telnyx
 * OpenAPI enums exactly (the telnyx 7.24.0 SDK literal types match them too).
 */

/** `language` on speak and gather_using_speak. */
export const TTS_LANGUAGES = [
  'arb', 'cmn-CN', 'cy-GB', 'da-DK', 'de-DE', 'en-AU', 'en-GB', 'en-GB-WLS', 'en-IN', 'en-US', 'es-ES',
  'es-MX', 'es-US', 'fr-CA', 'fr-FR', 'hi-IN', 'is-IS', 'it-IT', 'ja-JP', 'ko-KR', 'nb-NO', 'nl-NL', 'pl-PL',
  'pt-BR', 'pt-PT', 'ro-RO', 'ru-RU', 'sv-SE', 'tr-TR',
] as const;

/** `language` on gather_using_ai (Google speech recognition). */
export const GOOGLE_TRANSCRIPTION_LANGUAGES = [
  'af', 'sq', 'am', 'ar', 'hy', 'az', 'eu', 'bn', 'bs', 'bg', 'my', 'ca', 'yue', 'zh', 'hr', 'cs', 'da',
  'nl', 'en', 'et', 'fil', 'fi', 'fr', 'gl', 'ka', 'de', 'el', 'gu', 'iw', 'hi', 'hu', 'is', 'id', 'it',
  'ja', 'jv', 'kn', 'kk', 'km', 'ko', 'lo', 'lv', 'lt', 'mk', 'ms', 'ml', 'mr', 'mn', 'ne', 'no', 'fa', 'pl',
  'pt', 'pa', 'ro', 'ru', 'rw', 'sr', 'si', 'sk', 'sl', 'ss', 'st', 'es', 'su', 'sw', 'sv', 'ta', 'te', 'th',
  'tn', 'tr', 'ts', 'uk', 'ur', 'uz', 've', 'vi', 'xh', 'zu',
] as const;

/** `transcription_language` on record_start. */
export const RECORDING_TRANSCRIPTION_LANGUAGES = [
  'af', 'af-ZA', 'am', 'am-ET', 'ar', 'ar-AE', 'ar-BH', 'ar-DZ', 'ar-EG', 'ar-IL', 'ar-IQ', 'ar-JO', 'ar-KW',
  'ar-LB', 'ar-MA', 'ar-MR', 'ar-OM', 'ar-PS', 'ar-QA', 'ar-SA', 'ar-TN', 'ar-YE', 'as', 'auto_detect', 'az',
  'az-AZ', 'ba', 'be', 'bg', 'bg-BG', 'bn', 'bn-BD', 'bn-IN', 'bo', 'br', 'bs', 'bs-BA', 'ca', 'ca-ES', 'cs',
  'cs-CZ', 'cy', 'da', 'da-DK', 'de', 'de-AT', 'de-CH', 'de-DE', 'el', 'el-GR', 'en', 'en-AU', 'en-CA',
  'en-GB', 'en-GH', 'en-HK', 'en-IE', 'en-IN', 'en-KE', 'en-NG', 'en-NZ', 'en-PH', 'en-PK', 'en-SG', 'en-TZ',
  'en-US', 'en-ZA', 'es', 'es-419', 'es-AR', 'es-BO', 'es-CL', 'es-CO', 'es-CR', 'es-DO', 'es-EC', 'es-ES',
  'es-GT', 'es-HN', 'es-MX', 'es-NI', 'es-PA', 'es-PE', 'es-PR', 'es-PY', 'es-SV', 'es-US', 'es-UY', 'es-VE',
  'et', 'et-EE', 'eu', 'eu-ES', 'fa', 'fa-IR', 'fi', 'fi-FI', 'fil-PH', 'fo', 'fr', 'fr-BE', 'fr-CA',
  'fr-CH', 'fr-FR', 'gl', 'gl-ES', 'gu', 'gu-IN', 'ha', 'haw', 'he', 'hi', 'hi-IN', 'hr', 'hr-HR', 'ht',
  'hu', 'hu-HU', 'hy', 'hy-AM', 'id', 'id-ID', 'is', 'is-IS', 'it', 'it-CH', 'it-IT', 'iw-IL', 'ja', 'ja-JP',
  'jv-ID', 'jw', 'ka', 'ka-GE', 'kk', 'kk-KZ', 'km', 'km-KH', 'kn', 'kn-IN', 'ko', 'ko-KR', 'la', 'lb', 'ln',
  'lo', 'lo-LA', 'lt', 'lt-LT', 'lv', 'lv-LV', 'mg', 'mi', 'mk', 'mk-MK', 'ml', 'ml-IN', 'mn', 'mn-MN', 'mr',
  'mr-IN', 'ms', 'ms-MY', 'mt', 'my', 'my-MM', 'ne', 'ne-NP', 'nl', 'nl-BE', 'nl-NL', 'nn', 'no', 'no-NO',
  'oc', 'pa', 'pa-Guru-IN', 'pl', 'pl-PL', 'ps', 'pt', 'pt-BR', 'pt-PT', 'ro', 'ro-RO', 'ru', 'ru-RU',
  'rw-RW', 'sa', 'sd', 'si', 'si-LK', 'sk', 'sk-SK', 'sl', 'sl-SI', 'sn', 'so', 'sq', 'sq-AL', 'sr', 'sr-RS',
  'ss-latn-za', 'st-ZA', 'su', 'su-ID', 'sv', 'sv-SE', 'sw', 'sw-KE', 'sw-TZ', 'ta', 'ta-IN', 'ta-LK',
  'ta-MY', 'ta-SG', 'te', 'te-IN', 'tg', 'th', 'th-TH', 'tk', 'tl', 'tn-latn-za', 'tr', 'tr-TR', 'ts-ZA',
  'tt', 'uk', 'uk-UA', 'ur', 'ur-IN', 'ur-PK', 'uz', 'uz-UZ', 've-ZA', 'vi', 'vi-VN', 'xh-ZA', 'yi', 'yo',
  'yue-Hant-HK', 'zh', 'zh-TW', 'zu-ZA',
] as const;
