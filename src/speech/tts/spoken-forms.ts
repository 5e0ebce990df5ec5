/**
 * Wording for `<say-as>`: what to hand an engine so that it reads digits one by one, spells a
 * word, or reads a phone number in groups. English gets words ("one two three") because that is
 * unambiguous for every English engine; other languages get the characters separated by spaces,
 * which each engine then names in its own language.
 */
import { isEnglish } from './voices.js';

export type SpokenPart = string | { pauseMs: number };

const ENGLISH_DIGITS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];

/** Pause between the groups of a phone number, as people read them. */
export const TELEPHONE_GROUP_PAUSE_MS = 250;

function digitWord(digit: string, english: boolean): string {
  return english ? (ENGLISH_DIGITS[digit.charCodeAt(0) - 48] ?? digit) : digit;
}

/** Each letter and digit named on its own: "AB12" → "A B one two" (English). */
export function spellCharacters(text: string, language: string): string {
  const english = isEnglish(language);
  const out: string[] = [];
  for (const char of text) {
    if (char >= '0' && char <= '9') out.push(digitWord(char, english));
    else if (/\p{L}/u.test(char)) out.push(char.toLocaleUpperCase());
  }
  return out.join(' ');
}

/** Digits read one at a time: "123" → "one two three" (English); other characters spelled. */
export function readDigits(text: string, language: string): string {
  return spellCharacters(text, language);
}

// A run of digits with no separators, split the way such numbers are usually read:
// 5550100 → 555 0100, 2125550100 → 212 555 0100, 12125550100 → 1 212 555 0100.
function groupDigits(digits: string): string[] {
  const n = digits.length;
  if (n <= 4) return [digits];
  if (n === 7) return [digits.slice(0, 3), digits.slice(3)];
  if (n === 10) return [digits.slice(0, 3), digits.slice(3, 6), digits.slice(6)];
  if (n === 11) return [digits.slice(0, 1), digits.slice(1, 4), digits.slice(4, 7), digits.slice(7)];
  const groups: string[] = [];
  let at = 0;
  while (n - at > 4) {
    groups.push(digits.slice(at, at + 3));
    at += 3;
  }
  groups.push(digits.slice(at));
  return groups;
}

/** A phone number, digit by digit, with a pause between its groups. */
export function readTelephone(text: string, language: string): SpokenPart[] {
  const english = isEnglish(language);
  const trimmed = text.trim();
  const groups: string[] = [];
  let prefix = '';
  if (trimmed.startsWith('+')) prefix = english ? 'plus' : '+';
  for (const raw of trimmed.replace(/^\+/, '').split(/[\s\-.()/]+/)) {
    if (raw === '') continue;
    if (/^\d+$/.test(raw)) groups.push(...groupDigits(raw));
    else groups.push(raw);
  }
  const parts: SpokenPart[] = [];
  groups.forEach((group, index) => {
    if (index > 0) parts.push({ pauseMs: TELEPHONE_GROUP_PAUSE_MS });
    const spoken = spellCharacters(group, language);
    parts.push(index === 0 && prefix ? `${prefix} ${spoken}` : spoken);
  });
  if (parts.length === 0 && prefix) parts.push(prefix);
  return parts;
}

/**
 * The spoken form of `<say-as interpret-as=... format=...>`. Kinds engines already read well
 * (cardinal, ordinal, date, time...) and unknown kinds come back unchanged.
 */
export function sayAs(text: string, interpretAs: string, format: string | undefined, language: string): SpokenPart[] {
  switch (interpretAs.toLowerCase()) {
    case 'digits':
      return [readDigits(text, language)];
    case 'characters':
    case 'spell-out':
    case 'letters':
    case 'verbatim':
      return [spellCharacters(text, language)];
    case 'telephone':
    case 'phone':
      return readTelephone(text, language);
    case 'cardinal':
    case 'number':
      return format?.toLowerCase() === 'digits' ? [readDigits(text, language)] : [text];
    case 'expletive':
    case 'bleep':
      // Vendors beep these out; silence of a word's length keeps the word unsaid.
      return [{ pauseMs: 500 }];
    default:
      return [text];
  }
}
