/**
 * Picking one of an enum's values from what the caller said. Values and answer are compared as
 * words (lower-cased, numbers spelled out, `credit_card` and `creditCard` as "credit card"), in
 * this order:
 *
 * 1. a value's words said as they are ("the blue one please"); a value inside a longer value that
 *    was said ("blue" in "dark blue") does not count, nor one negated ("not red, blue");
 * 2. a position ("the second one", "number two", "option 3", "the last one");
 * 3. a close match, word by word and as a whole: small spelling differences ("gren"), a word's
 *    beginning ("tech" for "technical support"), words run together ("e mail" for "email").
 *
 * Two values equally well matched are ambiguous: the caller is asked again.
 */
import { phraseWords } from '../../speech/stt/grammar.js';
import { findNumbers, ordinalWordValue } from './numbers.js';
import { HESITATIONS, afterLastCorrection, editDistance, tokenize } from './text.js';

export type ChoiceMatch =
  | { kind: 'match'; index: number }
  | { kind: 'ambiguous'; indexes: number[] }
  | { kind: 'none' };

/** How a value is said: strings as written, numbers as numbers, booleans as yes/no, null as none. */
export function choiceLabel(value: unknown): string {
  if (typeof value === 'string') return value.replace(/(\p{Ll})(\p{Lu})/gu, '$1 $2').replace(/[_]+/g, ' ').trim();
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (value === null) return 'none';
  return JSON.stringify(value);
}

/** The words a value is recognised by. */
export function choiceWords(value: unknown): string[] {
  return phraseWords(choiceLabel(value));
}

const STOPWORDS = new Set([
  'the', 'a', 'an', 'of', 'for', 'to', 'and', 'or', 'in', 'on', 'at', 'my', 'i', "i'd", "i'll", "i'm", 'like', 'want',
  'would', 'please', 'one', "it's", 'it', 'is', 'that', "that's", 'this', 'with', 'be', 'will', 'take', 'go', 'choose',
  'pick', 'option', 'number',
]);
const NEGATIONS = new Set(['not', 'never', "don't", 'except']);
const POSITION_WORDS = new Set(['number', 'option', 'choice', 'item']);

function allowedDistance(length: number): number {
  if (length <= 3) return 0;
  if (length <= 5) return 1;
  if (length <= 8) return 2;
  return 3;
}

/** How alike two words are, 0 to 1; 0 when too far apart to be a recognition slip. */
function similarity(said: string, wanted: string): number {
  if (said === wanted) return 1;
  const longest = Math.max(said.length, wanted.length);
  const distance = editDistance(said, wanted);
  let score = distance <= allowedDistance(longest) ? 1 - distance / longest : 0;
  if (said.length >= 4 && wanted.length > said.length && wanted.startsWith(said)) score = Math.max(score, 0.8);
  return score;
}

interface Occurrence {
  index: number;
  start: number;
  end: number;
}

function occurrences(said: readonly string[], labels: readonly (readonly string[])[]): Occurrence[] {
  const found: Occurrence[] = [];
  labels.forEach((label, index) => {
    if (label.length === 0) return;
    const compact = label.join('');
    for (let start = 0; start < said.length; start++) {
      if (label.every((w, k) => said[start + k] === w)) found.push({ index, start, end: start + label.length });
      // Words run together or apart: "e mail" for "email", "creditcard" for "credit card".
      for (let length = 1; length <= 3 && start + length <= said.length; length++) {
        if (length === label.length && label.every((w, k) => said[start + k] === w)) continue;
        if (said.slice(start, start + length).join('') === compact) found.push({ index, start, end: start + length });
      }
    }
  });
  return found;
}

function byWords(said: readonly string[], labels: readonly (readonly string[])[]): ChoiceMatch | null {
  const found = occurrences(said, labels).filter((o) => !NEGATIONS.has(said[o.start - 1] ?? ''));
  const kept = found.filter((o) => !found.some((other) => other.index !== o.index && other.end - other.start > o.end - o.start
    && other.start <= o.start && other.end >= o.end));
  const indexes = [...new Set(kept.map((o) => o.index))];
  if (indexes.length === 1) return { kind: 'match', index: indexes[0] as number };
  if (indexes.length > 1) return { kind: 'ambiguous', indexes: indexes.sort((a, b) => a - b) };
  return null;
}

function byPosition(text: string, count: number, labels: readonly (readonly string[])[]): ChoiceMatch | null {
  const tokens = tokenize(text);
  const spoken = new Set(labels.flat());
  let position: number | null = null;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as string;
    if (spoken.has(token)) continue;
    if (token === 'last') position = count;
    const ordinal = ordinalWordValue(token);
    if (ordinal !== null) position = ordinal;
    if (POSITION_WORDS.has(token) && !spoken.has(token)) {
      const number = findNumbers(tokens.slice(i + 1).join(' '))[0];
      if (number !== undefined && number.start === 0) position = number.value;
    }
  }
  if (position === null || !Number.isInteger(position) || position < 1 || position > count) return null;
  return { kind: 'match', index: position - 1 };
}

function content(words: readonly string[]): string[] {
  const kept = words.filter((w) => !STOPWORDS.has(w));
  return kept.length > 0 ? kept : [...words];
}

function closeness(said: readonly string[], label: readonly string[]): number {
  if (label.length === 0 || said.length === 0) return 0;
  const wanted = content(label);
  let total = 0;
  for (const word of wanted) total += Math.max(0, ...said.map((s) => similarity(s, word)));
  let score = total / wanted.length;
  const compact = label.join('');
  for (let start = 0; start < said.length; start++) {
    for (let length = 1; length <= Math.min(4, said.length - start); length++) {
      score = Math.max(score, similarity(said.slice(start, start + length).join(''), compact));
    }
  }
  return score;
}

function byCloseness(said: readonly string[], labels: readonly (readonly string[])[]): ChoiceMatch | null {
  const words = said.filter((w) => !STOPWORDS.has(w));
  const scores = labels.map((label) => closeness(words, label));
  const best = Math.max(0, ...scores);
  if (best < 0.6) return null;
  const near = scores.flatMap((score, index) => (score >= best - 0.15 ? [index] : []));
  return near.length === 1 ? { kind: 'match', index: near[0] as number } : { kind: 'ambiguous', indexes: near };
}

/** Which of `choices` the caller picked in `text`. */
export function matchChoice(text: string, choices: readonly unknown[]): ChoiceMatch {
  if (choices.length === 0) return { kind: 'none' };
  if (choices.every((c) => typeof c === 'number')) {
    const numbers = findNumbers(text);
    const hits = [...new Set(numbers.flatMap((n) => {
      const index = choices.indexOf(n.value);
      return index >= 0 ? [index] : [];
    }))];
    if (hits.length === 1) return { kind: 'match', index: hits[0] as number };
    if (hits.length > 1) return { kind: 'ambiguous', indexes: hits };
  }
  const all = tokenize(text);
  const from = afterLastCorrection(all);
  const said = phraseWords(all.slice(from).filter((w) => !HESITATIONS.has(w)).join(' '));
  const labels = choices.map(choiceWords);
  return byWords(said, labels)
    ?? (choices.every((c) => typeof c === 'number') ? null : byPosition(all.slice(from).join(' '), choices.length, labels))
    ?? byCloseness(said, labels)
    ?? { kind: 'none' };
}

/** The choice for a key pressed: its position in the list, or the number keyed for numeric values. */
export function choiceForKeys(keys: string, choices: readonly unknown[]): ChoiceMatch {
  if (!/^\d+$/.test(keys)) return { kind: 'none' };
  const n = Number(keys);
  if (choices.some((c) => typeof c === 'number' || (typeof c === 'string' && /^\d+$/.test(c)))) {
    const index = choices.findIndex((c) => c === n || c === keys);
    return index >= 0 ? { kind: 'match', index } : { kind: 'none' };
  }
  return n >= 1 && n <= choices.length ? { kind: 'match', index: n - 1 } : { kind: 'none' };
}
