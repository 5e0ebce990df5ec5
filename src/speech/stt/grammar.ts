/**
 * Recognition grammars from plain phrases. Callers (a menu, a form field) give the phrases they
 * expect as people would write them ("Technical support", "2", "Mr. Smith"); recognisers need them
 * as words of their pronouncing dictionary. Here phrases become such words (numbers spelled out,
 * punctuation dropped), phrases with a word the dictionary lacks are set aside (pocketsphinx
 * refuses a whole grammar over one unknown word), and the rest become a JSGF grammar.
 */
import { readFile } from 'node:fs/promises';

const ONES = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve',
  'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen'];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];

function belowThousand(n: number): string[] {
  const words: string[] = [];
  if (n >= 100) {
    words.push(ONES[Math.floor(n / 100)] as string, 'hundred');
    n %= 100;
    if (n === 0) return words;
  }
  if (n < 20) words.push(ONES[n] as string);
  else {
    words.push(TENS[Math.floor(n / 10)] as string);
    if (n % 10 !== 0) words.push(ONES[n % 10] as string);
  }
  return words;
}

/**
 * A digit string as spoken words: numbers below a million as a number ("42" → forty two, "1500"
 * → one thousand five hundred), longer ones and any with a leading zero digit by digit, as
 * people read out account and phone numbers ("0044" → zero zero four four).
 */
export function numberWords(digits: string): string[] {
  if (!/^\d+$/.test(digits)) return [];
  if (digits.length > 6 || (digits.length > 1 && digits.startsWith('0'))) {
    return [...digits].map((d) => ONES[Number(d)] as string);
  }
  const n = Number(digits);
  if (n === 0) return ['zero'];
  const words: string[] = [];
  if (n >= 1000) words.push(...belowThousand(Math.floor(n / 1000)), 'thousand');
  if (n % 1000 !== 0) words.push(...belowThousand(n % 1000));
  return words;
}

const IRREGULAR_ORDINALS: Readonly<Record<string, string>> = {
  one: 'first', two: 'second', three: 'third', five: 'fifth', eight: 'eighth', nine: 'ninth', twelve: 'twelfth',
};

/** "21st" → twenty first, "3rd" → third. */
function ordinalWords(digits: string): string[] {
  const words = numberWords(digits);
  const last = words.pop();
  if (last === undefined) return words;
  const ordinal = IRREGULAR_ORDINALS[last] ?? (last.endsWith('y') ? `${last.slice(0, -1)}ieth` : `${last}th`);
  return [...words, ordinal];
}

/**
 * The words of a phrase, lower-cased, with numbers spelled out and punctuation removed (an
 * apostrophe inside a word stays: "don't"). Words joined by a hyphen or slash are separated
 * unless `known` has the joined form ("e-mail").
 */
export function phraseWords(phrase: string, known?: (word: string) => boolean): string[] {
  const words: string[] = [];
  const tokens = phrase.toLowerCase().normalize('NFKC').replace(/&/g, ' and ').split(/\s+/);
  for (const raw of tokens) {
    const ordinal = /^(\d+)(st|nd|rd|th)\W*$/.exec(raw);
    if (ordinal?.[1] !== undefined) {
      words.push(...ordinalWords(ordinal[1]));
      continue;
    }
    // Digits glued to letters ("2nd", "b12") are split apart: 2 nd, b 12.
    const token = raw.replace(/(\d)(?=\p{L})|(\p{L})(?=\d)/gu, '$1$2 ').trim();
    for (const piece of token.split(/\s+/)) {
      const bare = piece.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '');
      if (bare === '') continue;
      if (/^\d+$/.test(bare)) {
        words.push(...numberWords(bare));
        continue;
      }
      if (/^\d[\d,.]*\d$/.test(bare)) {
        // 1,500 or 2.5: thousands separators go; a decimal point is read as "point".
        const [whole = '', fraction] = bare.replace(/,/g, '').split('.');
        words.push(...numberWords(whole));
        if (fraction !== undefined) words.push('point', ...[...fraction].map((d) => ONES[Number(d)] as string));
        continue;
      }
      if (known?.(bare)) {
        words.push(bare);
        continue;
      }
      for (const part of bare.split(/[-/_.]+/)) {
        const word = part.replace(/[^\p{L}\p{N}']/gu, '').replace(/^'+|'+$/g, '');
        if (word === '') continue;
        if (/^\d+$/.test(word)) words.push(...numberWords(word));
        else words.push(word);
      }
    }
  }
  return words;
}

export interface CompiledGrammar {
  /** JSGF source whose one public rule is any of the usable phrases; null when none is usable. */
  jsgf: string | null;
  /** The usable phrases, as the words the recogniser will write. */
  phrases: string[];
  /** For each of `phrases`, the phrase as given (the first, when several give the same words). */
  given: string[];
  /** Phrases set aside, as given, because the dictionary lacks one of their words. */
  rejected: string[];
  /** The words the dictionary lacks, without repeats. */
  unknownWords: string[];
}

// A token JSGF takes without quoting: none of its reserved characters.
const JSGF_SAFE = /^[^\s;=|*+<>()[\]{}/"\\#!]+$/u;

/**
 * Compiles phrases into a JSGF grammar whose words all satisfy `known`. Repeated phrases count
 * once; the order is kept. The grammar accepts exactly one phrase per utterance.
 */
export function compileGrammar(phrases: readonly string[], known: (word: string) => boolean): CompiledGrammar {
  const usable: string[] = [];
  const given: string[] = [];
  const rejected: string[] = [];
  const unknown = new Set<string>();
  const seen = new Set<string>();
  for (const phrase of phrases) {
    const words = phraseWords(phrase, known);
    if (words.length === 0) continue;
    const missing = words.filter((w) => !known(w) || !JSGF_SAFE.test(w));
    if (missing.length > 0) {
      rejected.push(phrase);
      for (const w of missing) unknown.add(w);
      continue;
    }
    const text = words.join(' ');
    if (seen.has(text)) continue;
    seen.add(text);
    usable.push(text);
    given.push(phrase);
  }
  const jsgf =
    usable.length === 0 ? null : `#JSGF V1.0;\ngrammar switchboard;\npublic <phrase> = ${usable.map((p) => `( ${p} )`).join('\n  | ')};\n`;
  return { jsgf, phrases: usable, given, rejected, unknownWords: [...unknown] };
}

/**
 * The words of a CMU-format pronouncing dictionary (`word PH ON ES`, alternates as `word(2)`).
 * Read once per file and kept: the en-us dictionary has 134,000 words and takes ~100 ms to read.
 */
const dictionaries = new Map<string, Promise<ReadonlySet<string>>>();

export function loadDictionaryWords(path: string): Promise<ReadonlySet<string>> {
  let words = dictionaries.get(path);
  if (words === undefined) {
    words = readFile(path, 'utf8').then((text) => {
      const set = new Set<string>();
      for (const line of text.split('\n')) {
        const space = line.indexOf(' ');
        if (space <= 0) continue;
        set.add(line.slice(0, space).replace(/\(\d+\)$/, ''));
      }
      return set;
    });
    // A failed read is not cached: the file may appear later (a package being installed).
    words.catch(() => dictionaries.delete(path));
    dictionaries.set(path, words);
  }
  return words;
}
