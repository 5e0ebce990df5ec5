/**
 * espeak-ng, when the host has it installed (Debian/Ubuntu: `apt-get install espeak-ng`), for the
 * languages flite cannot speak. espeak-ng is GPL, so it runs as a separate program and only its
 * WAV output crosses into this process.
 */
import { execFile, spawn } from 'node:child_process';
import { TtsError } from './errors.js';
import { wavToEnginePcm } from './pcm.js';
import type { SynthesisOptions, TtsProvider } from './provider.js';
import { primaryLanguage, type ResolvedVoice } from './voices.js';

/**
 * Telnyx speak languages → espeak-ng voices. Where espeak-ng has no voice for the region it gets
 * the nearest one (en-AU, en-IN and en-GB-WLS speak British English, fr-CA European French,
 * es-MX and es-US Latin American Spanish). Japanese: espeak-ng reads kana, not kanji.
 */
export const ESPEAK_LANGUAGE_VOICES: Readonly<Record<string, string>> = {
  'arb': 'ar',
  'cmn-CN': 'cmn',
  'cy-GB': 'cy',
  'da-DK': 'da',
  'de-DE': 'de',
  'en-AU': 'en-gb',
  'en-GB': 'en-gb',
  'en-GB-WLS': 'en-gb',
  'en-IN': 'en-gb',
  'en-US': 'en-us',
  'es-ES': 'es',
  'es-MX': 'es-419',
  'es-US': 'es-419',
  'fr-CA': 'fr-fr',
  'fr-FR': 'fr-fr',
  'hi-IN': 'hi',
  'is-IS': 'is',
  'it-IT': 'it',
  'ja-JP': 'ja',
  'ko-KR': 'ko',
  'nb-NO': 'nb',
  'nl-NL': 'nl',
  'pl-PL': 'pl',
  'pt-BR': 'pt-br',
  'pt-PT': 'pt',
  'ro-RO': 'ro',
  'ru-RU': 'ru',
  'sv-SE': 'sv',
  'tr-TR': 'tr',
};

// Primary subtags whose espeak-ng voice has another name (languages from Azure or Kokoro ids).
const PRIMARY_ALIASES: Readonly<Record<string, string>> = { zh: 'cmn', arb: 'ar', no: 'nb', iw: 'he', fil: 'tl' };

// espeak-ng's own pace is 175 words a minute; it accepts 80–450.
const NORMAL_WPM = 175;
const MIN_WPM = 80;
const MAX_WPM = 450;

/** The espeak-ng voice for `language`, if espeak-ng has one, among the `installed` voices. */
export function espeakVoiceFor(language: string, installed: ReadonlySet<string>): string | undefined {
  const mapped = ESPEAK_LANGUAGE_VOICES[language];
  if (mapped !== undefined && installed.has(mapped)) return mapped;
  const lower = language.toLowerCase();
  if (installed.has(lower)) return lower;
  const primary = primaryLanguage(language);
  const candidate = PRIMARY_ALIASES[primary] ?? primary;
  return installed.has(candidate) ? candidate : undefined;
}

export interface EspeakNgOptions {
  /** The program to run; defaults to `espeak-ng` on PATH. */
  command?: string;
  timeoutMs?: number;
}

export class EspeakNgProvider implements TtsProvider {
  readonly name = 'espeak-ng';
  readonly command: string;
  /** espeak-ng voice names (`de`, `en-us`, `cmn`...) the installed data provides. */
  readonly voices: ReadonlySet<string>;
  private readonly timeoutMs: number;

  constructor(voices: Iterable<string>, options: EspeakNgOptions = {}) {
    this.voices = new Set(voices);
    this.command = options.command ?? 'espeak-ng';
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  /**
   * Runs `espeak-ng --voices` once: null when the program is not installed (or not working),
   * otherwise a provider that knows which languages the installed data covers.
   */
  static async detect(options: EspeakNgOptions = {}): Promise<EspeakNgProvider | null> {
    const command = options.command ?? 'espeak-ng';
    const listing = await new Promise<string | null>((resolve) => {
      execFile(command, ['--voices'], { timeout: 5000 }, (error, stdout) => resolve(error ? null : stdout));
    });
    if (listing === null) return null;
    const voices = parseVoiceListing(listing);
    return voices.length === 0 ? null : new EspeakNgProvider(voices, options);
  }

  canSpeak(_voice: ResolvedVoice, language: string): boolean {
    return espeakVoiceFor(language, this.voices) !== undefined;
  }

  /**
   * `de` for a male voice, `de+f3` otherwise: espeak-ng's voices are male unless given a
   * variant, and a voice of unknown gender gets the female one, as with flite.
   */
  engineVoice(voice: ResolvedVoice, language: string): string {
    const base = espeakVoiceFor(language, this.voices) ?? 'en-us';
    return voice.gender === 'male' ? base : `${base}+f3`;
  }

  async synthesize(text: string, options: SynthesisOptions): Promise<Int16Array> {
    if (text.trim() === '') return new Int16Array(0);
    if (!this.canSpeak(options.voice, options.language)) {
      throw new TtsError('unsupported_language', `espeak-ng has no voice for language "${options.language}"`);
    }
    const wpm = Math.round(Math.min(MAX_WPM, Math.max(MIN_WPM, NORMAL_WPM * (options.rate ?? 1))));
    // Text goes through stdin so that nothing in it can be taken for an option.
    const args = ['-v', this.engineVoice(options.voice, options.language), '-s', String(wpm), '--stdout', '--stdin'];
    const wav = await this.run(args, text, options.signal);
    return wavToEnginePcm(wav, 'espeak-ng');
  }

  private run(args: string[], input: string, signal?: AbortSignal): Promise<Uint8Array> {
    return new Promise<Uint8Array>((resolve, reject) => {
      const child = spawn(this.command, args, { stdio: ['pipe', 'pipe', 'pipe'], signal });
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, this.timeoutMs);
      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      // A child that dies early closes stdin under us; the exit code reports that better.
      child.stdin.on('error', () => {});
      child.on('error', (error) => {
        clearTimeout(timer);
        if (signal?.aborted) reject(signal.reason instanceof Error ? signal.reason : error);
        else reject(new TtsError('provider_error', `cannot run ${this.command}: ${error.message}`, { cause: error }));
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        const message = Buffer.concat(stderr).toString('utf8').trim().slice(0, 300);
        if (timedOut) reject(new TtsError('provider_timeout', `espeak-ng took longer than ${this.timeoutMs} ms`));
        else if (code !== 0) reject(new TtsError('provider_error', `espeak-ng exited with code ${code}${message ? `: ${message}` : ''}`));
        // espeak-ng reports an unknown voice on stderr but still exits 0, with no audio.
        else if (stdout.length === 0) reject(new TtsError('provider_error', `espeak-ng produced no audio${message ? `: ${message}` : ''}`));
        else resolve(new Uint8Array(Buffer.concat(stdout)));
      });
      child.stdin.end(input);
    });
  }
}

/** Voice names from `espeak-ng --voices` (its second column, e.g. `de`, `en-us`, `cmn`). */
export function parseVoiceListing(listing: string): string[] {
  const voices: string[] = [];
  for (const line of listing.split('\n').slice(1)) {
    const name = line.trim().split(/\s+/)[1];
    if (name !== undefined && name !== '') voices.push(name.toLowerCase());
  }
  return voices;
}
