/**
 * Which engine speaks a request. A vendor voice goes to the provider configured for its family
 * when there is one that can speak it; otherwise a local engine speaks in the voice's place,
 * chosen by language (English: flite; anything else: espeak-ng when installed), keeping the
 * voice's gender when its name reveals it. Only when no engine at all speaks the language does
 * the request fail, with `unsupported_language` and what to install or configure.
 */
import { ESPEAK_LANGUAGE_VOICES } from './espeak-ng.js';
import { TtsError } from './errors.js';
import type { TtsProvider } from './provider.js';
import { VOICE_FAMILY_FORMATS, parseVoice, type ResolvedVoice, type VoiceFamily } from './voices.js';

export const DEFAULT_LANGUAGE = 'en-US';

export interface ProviderRoute {
  /** Voice families sent to this provider; `*` takes every family (including `male`/`female`). */
  families: readonly (VoiceFamily | '*')[];
  provider: TtsProvider;
}

export interface TtsRegistryOptions {
  /** The embedded English engine; null to run without it (tests, or a remote-only setup). */
  flite: TtsProvider | null;
  /** espeak-ng when installed; null when it is not. */
  espeak: TtsProvider | null;
  /** Configured providers, tried in order for the families they take. */
  routes?: readonly ProviderRoute[];
  /** Language when the request names none and the voice implies none. */
  defaultLanguage?: string;
}

export interface SpeechRoute {
  provider: TtsProvider;
  voice: ResolvedVoice;
  /** The language that will be spoken. */
  language: string;
  /** The engine's own voice (`slt`, `de+f3`, a server's voice id). */
  engineVoice: string;
  /** True when a local engine speaks in place of a vendor voice. */
  fallback: boolean;
}

export class TtsRegistry {
  readonly flite: TtsProvider | null;
  readonly espeak: TtsProvider | null;
  readonly routes: readonly ProviderRoute[];
  readonly defaultLanguage: string;

  constructor(options: TtsRegistryOptions) {
    this.flite = options.flite;
    this.espeak = options.espeak;
    this.routes = options.routes ?? [];
    this.defaultLanguage = options.defaultLanguage ?? DEFAULT_LANGUAGE;
  }

  /** Local engines in the order they are tried. */
  get localProviders(): TtsProvider[] {
    return [this.flite, this.espeak].filter((p): p is TtsProvider => p !== null);
  }

  /** Every distinct provider, for shutting them down. */
  get providers(): TtsProvider[] {
    return [...new Set([...this.routes.map((r) => r.provider), ...this.localProviders])];
  }

  /**
   * The language a request will be spoken in. Telnyx ignores `language` for Polly voices, each of
   * which speaks one language; for other voices the request's language wins over the voice's.
   */
  languageFor(voice: ResolvedVoice, requested: string | undefined): string {
    if (voice.family === 'polly' && voice.language !== undefined) return voice.language;
    const language = requested?.trim();
    return language || voice.language || this.defaultLanguage;
  }

  configuredFor(family: VoiceFamily): TtsProvider[] {
    return this.routes.filter((r) => r.families.includes(family) || r.families.includes('*')).map((r) => r.provider);
  }

  /** Throws `invalid_voice` or `unsupported_language`; never touches an engine. */
  resolve(voice: string | ResolvedVoice, language?: string): SpeechRoute {
    const parsed = typeof voice === 'string' ? parseVoice(voice) : voice;
    const spoken = this.languageFor(parsed, language);
    for (const provider of this.configuredFor(parsed.family)) {
      if (provider.canSpeak(parsed, spoken)) return route(provider, parsed, spoken, false);
    }
    for (const provider of this.localProviders) {
      if (provider.canSpeak(parsed, spoken)) return route(provider, parsed, spoken, parsed.family !== 'basic');
    }
    throw new TtsError('unsupported_language', this.unsupportedMessage(parsed, spoken));
  }

  private unsupportedMessage(voice: ResolvedVoice, language: string): string {
    const reasons: string[] = [];
    const configured = this.configuredFor(voice.family);
    if (configured.length > 0) reasons.push(`the provider configured for ${prefixOf(voice.family)} voices does not speak it`);
    if (this.flite !== null) reasons.push('the embedded flite engine speaks English only');
    else reasons.push('the embedded flite engine is disabled');
    if (this.espeak === null) reasons.push('espeak-ng is not installed');
    else reasons.push('the installed espeak-ng has no voice for it');
    const remedies: string[] = [];
    if (this.espeak === null) remedies.push('install espeak-ng (Debian/Ubuntu: apt-get install espeak-ng)');
    remedies.push(`configure a speech provider for ${prefixOf(voice.family)} voices that speaks ${language}`);
    return `no speech engine here speaks language "${language}" (voice "${voice.requested}"): ${reasons.join(', ')}. To speak it, ${remedies.join(', or ')}.`;
  }
}

function route(provider: TtsProvider, voice: ResolvedVoice, language: string, fallback: boolean): SpeechRoute {
  return { provider, voice, language, engineVoice: provider.engineVoice(voice, language), fallback };
}

function prefixOf(family: VoiceFamily): string {
  return family === 'basic' ? 'male/female' : (VOICE_FAMILY_FORMATS[family].split(/[ .]/)[0] ?? family);
}

// ---------------------------------------------------------------------------------------------
// The fallback table, for documentation and the admin API.

export interface LanguageFallbackRow {
  language: string;
  /** Engine that speaks `male` / `female` (and unconfigured vendor voices) in this language, or null. */
  engine: string | null;
  male: string | null;
  female: string | null;
}

export interface FamilyRouteRow {
  family: VoiceFamily;
  format: string;
  /** Names of the configured providers for this family, in order; empty when none. */
  providers: string[];
}

export interface VoiceFallbackTable {
  families: FamilyRouteRow[];
  languages: LanguageFallbackRow[];
}

/** What speaks what with this registry. `languages` defaults to the 29 Telnyx speak languages. */
export function describeVoiceFallbacks(
  registry: TtsRegistry,
  languages: readonly string[] = Object.keys(ESPEAK_LANGUAGE_VOICES),
): VoiceFallbackTable {
  const families = (Object.keys(VOICE_FAMILY_FORMATS) as VoiceFamily[]).map((family) => ({
    family,
    format: VOICE_FAMILY_FORMATS[family],
    providers: registry.configuredFor(family).map((p) => p.name),
  }));
  const local = new TtsRegistry({ flite: registry.flite, espeak: registry.espeak, defaultLanguage: registry.defaultLanguage });
  const rows = languages.map((language): LanguageFallbackRow => {
    const speak = (id: 'male' | 'female'): SpeechRoute | null => {
      try {
        return local.resolve(id, language);
      } catch {
        return null;
      }
    };
    const male = speak('male');
    const female = speak('female');
    return {
      language,
      engine: (female ?? male)?.provider.name ?? null,
      male: male?.engineVoice ?? null,
      female: female?.engineVoice ?? null,
    };
  });
  return { families, languages: rows };
}

/** The table as Markdown. */
export function formatVoiceFallbacks(table: VoiceFallbackTable): string {
  const cell = (text: string): string => text.replace(/\|/g, '\\|');
  const lines = [
    '| Voice | Spoken by |',
    '|---|---|',
    ...table.families.map((row) => {
      const local = 'the local engine for the language';
      const by = row.providers.length > 0 ? `${row.providers.join(', ')}; else ${local}` : local;
      return `| \`${cell(row.format)}\` | ${cell(by)} |`;
    }),
    '',
    'A local engine speaking for a vendor voice keeps its gender when the name reveals it (Polly',
    'voices, Kokoro ids such as `af_heart`) and otherwise speaks with the female voice. Polly',
    "voices speak their own language whatever `language` says, as on Telnyx.",
    '',
    '| Language | Local engine | male | female |',
    '|---|---|---|---|',
    ...table.languages.map((row) =>
      row.engine === null
        ? `| ${row.language} | none (unsupported_language) | | |`
        : `| ${row.language} | ${row.engine} | ${row.male ?? ''} | ${row.female ?? ''} |`,
    ),
  ];
  return lines.join('\n');
}
