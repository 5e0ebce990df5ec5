/**
 * Parsing the `voice` string of speak / gather_using_speak into what routing needs: which vendor
 * family it names, the model and voice id, and whatever the name itself tells us about gender
 * and language. Local engines use those hints to pick a similar-sounding fallback when the vendor
 * is not configured here.
 */
import { TtsError } from './errors.js';

export type VoiceFamily =
  | 'basic'
  | 'polly'
  | 'azure'
  | 'elevenlabs'
  | 'telnyx'
  | 'minimax'
  | 'rime'
  | 'resemble'
  | 'inworld'
  | 'fishaudio'
  | 'xai'
  | 'humain';

export type VoiceGender = 'male' | 'female';

export interface ResolvedVoice {
  /** The string exactly as the request gave it. */
  requested: string;
  family: VoiceFamily;
  /** Vendor model or engine (`neural`, `eleven_multilingual_v2`, `KokoroTTS`), when the string names one. */
  model?: string;
  /** The vendor's voice id (`Joanna`, `en-US-AvaNeural`, `af`); `male`/`female` for basic voices. */
  id: string;
  gender?: VoiceGender;
  /** The language the voice itself speaks, when its name reveals it. */
  language?: string;
}

/** How each family is written in a voice string, for messages and docs. */
export const VOICE_FAMILY_FORMATS: Readonly<Record<VoiceFamily, string>> = {
  basic: 'male | female',
  polly: 'Polly.<Voice> | AWS.Polly.<Voice>[-Neural] | aws.Polly.<Engine>.<Voice>',
  azure: 'Azure.<VoiceId>',
  elevenlabs: 'ElevenLabs.<Model>.<VoiceId>',
  telnyx: 'Telnyx.<Model>.<Voice>',
  minimax: 'Minimax.<Model>.<Voice>',
  rime: 'Rime.<Model>.<Voice>',
  resemble: 'Resemble.<Model>.<Voice>',
  inworld: 'Inworld.<Model>.<Voice>',
  fishaudio: 'FishAudio.<Model>.<Voice>',
  xai: 'xAI.<Model>.<Voice>',
  humain: 'Humain.<Model>.<Voice>',
};

// Families whose strings are `<Prefix>.[<Model>.]<Voice>` with nothing more to learn from them.
const GENERIC_FAMILIES: ReadonlySet<string> = new Set([
  'elevenlabs', 'telnyx', 'minimax', 'rime', 'resemble', 'inworld', 'fishaudio', 'xai', 'humain',
]);

// Amazon Polly voices: language and gender. Telnyx ignores `language` for Polly voices because
// each voice speaks one language, so a local fallback must follow the voice too (Polly.Hans asked
// for with language en-US still speaks German). Names are matched without accents or case.
const POLLY_CATALOGUE = `
arb: Zeina/f
ar-AE: Hala/f Zayd/m
ca-ES: Arlet/f
cmn-CN: Zhiyu/f
yue-CN: Hiujin/f
cy-GB: Gwyneth/f
da-DK: Naja/f Mads/m Sofie/f
de-DE: Marlene/f Vicki/f Hans/m Daniel/m
de-AT: Hannah/f
de-CH: Sabrina/f
en-AU: Nicole/f Russell/m Olivia/f
en-GB: Amy/f Emma/f Brian/m Arthur/m
en-GB-WLS: Geraint/m
en-IE: Niamh/f
en-IN: Aditi/f Raveena/f Kajal/f
en-NZ: Aria/f
en-ZA: Ayanda/f
en-US: Danielle/f Gregory/m Ivy/f Joanna/f Kendra/f Kimberly/f Salli/f Joey/m Justin/m Kevin/m Matthew/m Ruth/f Stephen/m Patrick/m
es-ES: Conchita/f Lucia/f Enrique/m Sergio/m
es-MX: Mia/f Andres/m
es-US: Lupe/f Penelope/f Miguel/m Pedro/m
fi-FI: Suvi/f
fr-BE: Isabelle/f
fr-CA: Chantal/f Gabrielle/f Liam/m
fr-FR: Celine/f Lea/f Mathieu/m Remi/m
is-IS: Dora/f Karl/m
it-IT: Carla/f Bianca/f Giorgio/m Adriano/m
ja-JP: Mizuki/f Takumi/m Kazuha/f Tomoko/f
ko-KR: Seoyeon/f
nb-NO: Liv/f Ida/f
nl-BE: Lisa/f
nl-NL: Lotte/f Ruben/m Laura/f
pl-PL: Ewa/f Maja/f Jacek/m Jan/m Ola/f
pt-BR: Camila/f Vitoria/f Ricardo/m Thiago/m
pt-PT: Ines/f Cristiano/m
ro-RO: Carmen/f
ru-RU: Tatyana/f Maxim/m
sv-SE: Astrid/f Elin/f
tr-TR: Filiz/f Burcu/f
`;

interface CatalogueEntry {
  language: string;
  gender: VoiceGender;
}

const pollyVoices: ReadonlyMap<string, CatalogueEntry> = (() => {
  const map = new Map<string, CatalogueEntry>();
  for (const line of POLLY_CATALOGUE.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const language = line.slice(0, colon).trim();
    for (const item of line.slice(colon + 1).trim().split(/\s+/)) {
      const [name, g] = item.split('/');
      if (name) map.set(foldName(name), { language, gender: g === 'm' ? 'male' : 'female' });
    }
  }
  return map;
})();

// Kokoro voice ids start with a language letter and a gender letter (`af_heart`, `bm_george`).
const KOKORO_LANGUAGES: Readonly<Record<string, string>> = {
  a: 'en-US', b: 'en-GB', e: 'es-ES', f: 'fr-FR', h: 'hi-IN', i: 'it-IT', j: 'ja-JP', p: 'pt-BR', z: 'cmn-CN',
};

function foldName(name: string): string {
  return name.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

function invalid(voice: string, why: string): TtsError {
  const formats = Object.values(VOICE_FAMILY_FORMATS).join(', ');
  return new TtsError('invalid_voice', `voice "${voice}" ${why}; accepted forms: ${formats}`);
}

/** The voice's gender and language, as far as its vendor name tells. */
function hints(family: VoiceFamily, model: string | undefined, id: string): Pick<ResolvedVoice, 'gender' | 'language'> {
  if (family === 'polly') return pollyVoices.get(foldName(id)) ?? {};
  if (family === 'azure') {
    // Azure ids lead with their locale: `de-DE-KatjaNeural`, `zh-CN-XiaoxiaoNeural`.
    const match = /^([a-z]{2,3}-[A-Za-z]{2,4})-/.exec(id);
    return match?.[1] ? { language: match[1] } : {};
  }
  if (family === 'telnyx' && model !== undefined && /kokoro/i.test(model)) {
    const match = /^([a-z])([fm])(?:_|$)/.exec(id);
    if (match?.[1] && match[2]) {
      const language = KOKORO_LANGUAGES[match[1]];
      const gender = match[2] === 'm' ? 'male' : 'female';
      return language === undefined ? { gender } : { gender, language };
    }
  }
  return {};
}

function build(requested: string, family: VoiceFamily, model: string | undefined, id: string): ResolvedVoice {
  if (id === '') throw invalid(requested, 'names no voice');
  const voice: ResolvedVoice = { requested, family, id, ...hints(family, model, id) };
  if (model !== undefined && model !== '') voice.model = model;
  return voice;
}

// `AWS.Polly.Joanna-Neural` carries the engine as a suffix of the voice name.
function splitEngineSuffix(name: string): { id: string; engine?: string } {
  const match = /^(.+)-(neural|standard|generative|long-form)$/i.exec(name);
  return match?.[1] && match[2] ? { id: match[1], engine: match[2].toLowerCase() } : { id: name };
}

/** Parses a speak `voice` string. Throws `TtsError` (`invalid_voice`) when it fits no known format. */
export function parseVoice(voice: string): ResolvedVoice {
  const requested = voice;
  const text = voice.trim();
  if (text === '') throw invalid(requested, 'is empty');
  const lower = text.toLowerCase();
  if (lower === 'male' || lower === 'female') {
    return { requested, family: 'basic', id: lower, gender: lower };
  }

  const parts = text.split('.');
  const prefix = (parts[0] ?? '').toLowerCase();

  if (prefix === 'polly' || (prefix === 'aws' && parts[1]?.toLowerCase() === 'polly')) {
    const rest = parts.slice(prefix === 'aws' ? 2 : 1);
    const last = rest[rest.length - 1] ?? '';
    const { id, engine } = splitEngineSuffix(last);
    const model = rest.length >= 2 ? rest[0]?.toLowerCase() : engine;
    return build(requested, 'polly', model, id);
  }
  if (prefix === 'azure') return build(requested, 'azure', undefined, parts.slice(1).join('.'));
  if (GENERIC_FAMILIES.has(prefix)) {
    const family = prefix as VoiceFamily;
    if (parts.length >= 3) return build(requested, family, parts[1], parts.slice(2).join('.'));
    return build(requested, family, undefined, parts[1] ?? '');
  }
  throw invalid(requested, 'is not a known voice format');
}

/** The primary language subtag, lower-cased: `en-GB-WLS` → `en`, `cmn-CN` → `cmn`, `arb` → `arb`. */
export function primaryLanguage(language: string): string {
  return (language.split(/[-_]/)[0] ?? '').toLowerCase();
}

export function isEnglish(language: string): boolean {
  return primaryLanguage(language) === 'en';
}
