/**
 * Numbers as people say them and recognisers write them. Callers read numbers in two ways, and
 * both must come out right:
 *
 * - as a quantity, with number words that combine ("forty two", "twelve hundred", "two thousand
 *   and four", "a hundred and twenty");
 * - digit by digit, or in pairs, like account and phone numbers ("four two seven one", "forty
 *   two seventy one", "oh seven", "double three", "4 2 7 1").
 *
 * The rule joining them: number words combine while they can form one quantity; when the next
 * word cannot continue that quantity it starts a new one, and the quantities read in a row are
 * written one after the other. So "forty two" is 42 ("two" continues "forty"), "four two" is 42
 * too ("two" cannot continue "four"), "forty two seventy one" is 4271, "twenty twenty four" is
 * 2024 and "nineteen oh five" is 1905, while "one hundred five" is 105 and "twelve hundred" 1200.
 */
import { HESITATIONS, afterLastCorrection, tokenize } from './text.js';

const UNITS: Readonly<Record<string, number>> = {
  one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9,
};
const TEENS: Readonly<Record<string, number>> = {
  ten: 10, eleven: 11, twelve: 12, thirteen: 13, fourteen: 14, fifteen: 15, sixteen: 16, seventeen: 17,
  eighteen: 18, nineteen: 19,
};
const TENS: Readonly<Record<string, number>> = {
  twenty: 20, thirty: 30, forty: 40, fourty: 40, fifty: 50, sixty: 60, seventy: 70, eighty: 80, ninety: 90,
};
/** Ordinals read as their number ("twenty first" → 21), for answers like "the third". */
const ORDINALS: Readonly<Record<string, { kind: 'unit' | 'teen' | 'tens'; value: number }>> = {
  first: { kind: 'unit', value: 1 }, second: { kind: 'unit', value: 2 }, third: { kind: 'unit', value: 3 },
  fourth: { kind: 'unit', value: 4 }, fifth: { kind: 'unit', value: 5 }, sixth: { kind: 'unit', value: 6 },
  seventh: { kind: 'unit', value: 7 }, eighth: { kind: 'unit', value: 8 }, ninth: { kind: 'unit', value: 9 },
  tenth: { kind: 'teen', value: 10 }, eleventh: { kind: 'teen', value: 11 }, twelfth: { kind: 'teen', value: 12 },
  thirteenth: { kind: 'teen', value: 13 }, fourteenth: { kind: 'teen', value: 14 }, fifteenth: { kind: 'teen', value: 15 },
  sixteenth: { kind: 'teen', value: 16 }, seventeenth: { kind: 'teen', value: 17 }, eighteenth: { kind: 'teen', value: 18 },
  nineteenth: { kind: 'teen', value: 19 }, twentieth: { kind: 'tens', value: 20 }, thirtieth: { kind: 'tens', value: 30 },
  fortieth: { kind: 'tens', value: 40 }, fiftieth: { kind: 'tens', value: 50 }, sixtieth: { kind: 'tens', value: 60 },
  seventieth: { kind: 'tens', value: 70 }, eightieth: { kind: 'tens', value: 80 }, ninetieth: { kind: 'tens', value: 90 },
};

/** The number of a one-word ordinal: 1 for "first" and "1st", 20 for "twentieth"; null for other words. */
export function ordinalWordValue(word: string): number | null {
  const ordinal = ORDINALS[word];
  if (ordinal !== undefined) return ordinal.value;
  const numeral = /^(\d+)(?:st|nd|rd|th)$/.exec(word);
  return numeral === null ? null : Number(numeral[1]);
}

const SCALES: Readonly<Record<string, number>> = { thousand: 1e3, million: 1e6, billion: 1e9 };
/** Zero as a word; "oh" and "o" only count between other number words (see `isolatedOh`). */
const ZEROS = new Set(['zero', 'nought', 'naught', 'oh', 'o']);
const OHS = new Set(['oh', 'o']);
const REPEATS: Readonly<Record<string, number>> = { double: 2, triple: 3 };
const POINTS = new Set(['point', 'dot', 'decimal']);
const MINUS = new Set(['minus', 'negative']);
/** Said between digit groups of phone numbers; skipped inside a number. */
const SEPARATORS = new Set(['dash', 'hyphen']);

/** The number words this module understands, for building recognition grammars. */
export const NUMBER_WORDS: readonly string[] = [
  'zero', 'oh', ...Object.keys(UNITS), ...Object.keys(TEENS), ...Object.keys(TENS).filter((w) => w !== 'fourty'),
  'hundred', ...Object.keys(SCALES), 'double', 'triple', 'and', 'a',
];

type Token =
  | { kind: 'zero'; word: string }
  | { kind: 'unit' | 'teen' | 'tens'; value: number }
  | { kind: 'hundred' }
  | { kind: 'scale'; value: number }
  | { kind: 'numeral'; text: string }
  | { kind: 'decimal'; whole: string; fraction: string }
  | { kind: 'repeat'; times: number }
  | { kind: 'point' | 'and' | 'a' | 'minus' | 'plus' | 'separator' | 'hesitation' }
  | { kind: 'word'; word: string };

function classify(word: string, previous: string | undefined): Token[] {
  // "The third one": "one" after an ordinal stands for the thing, not a number.
  if ((word === 'one' || word === 'ones') && previous !== undefined && ordinalWordValue(previous) !== null) return [{ kind: 'word', word }];
  const unit = UNITS[word];
  if (unit !== undefined) return [{ kind: 'unit', value: unit }];
  const teen = TEENS[word];
  if (teen !== undefined) return [{ kind: 'teen', value: teen }];
  const tens = TENS[word];
  if (tens !== undefined) return [{ kind: 'tens', value: tens }];
  const ordinal = ORDINALS[word];
  // An ordinal ends its number: nothing continues "first" the way "two" continues "forty".
  if (ordinal !== undefined) return [{ kind: ordinal.kind === 'tens' ? 'teen' : ordinal.kind, value: ordinal.value }];
  const ordinalNumeral = /^(\d+)(?:st|nd|rd|th)$/.exec(word);
  if (ordinalNumeral !== null) return [{ kind: 'numeral', text: ordinalNumeral[1] as string }];
  const scale = SCALES[word];
  if (scale !== undefined) return [{ kind: 'scale', value: scale }];
  const times = REPEATS[word];
  if (times !== undefined) return [{ kind: 'repeat', times }];
  if (word === 'hundred') return [{ kind: 'hundred' }];
  if (ZEROS.has(word)) return [{ kind: 'zero', word }];
  if (POINTS.has(word)) return [{ kind: 'point' }];
  if (MINUS.has(word)) return [{ kind: 'minus' }];
  if (word === 'plus') return [{ kind: 'plus' }];
  if (word === 'and') return [{ kind: 'and' }];
  if (word === 'a' || word === 'an') return [{ kind: 'a' }];
  if (SEPARATORS.has(word)) return [{ kind: 'separator' }];
  if (HESITATIONS.has(word)) return [{ kind: 'hesitation' }];
  const numeral = /^([+-]?)(\d*)(?:\.(\d+))?$/.exec(word);
  if (numeral !== null && (numeral[2] !== '' || numeral[3] !== undefined)) {
    const [, sign = '', whole = '', fraction] = numeral;
    const tokens: Token[] = sign === '-' ? [{ kind: 'minus' }] : sign === '+' ? [{ kind: 'plus' }] : [];
    tokens.push(fraction === undefined ? { kind: 'numeral', text: whole } : { kind: 'decimal', whole, fraction });
    return tokens;
  }
  return [{ kind: 'word', word }];
}

/** One number found in an utterance. */
export interface SpokenNumber {
  /** The digits before any decimal point, as said: leading zeros kept ("oh seven" → "07"). */
  digits: string;
  /** The digits after a decimal point, when one was said. */
  fraction?: string;
  /** Said with "minus"/"negative" or written with a leading "-". */
  negative: boolean;
  /** Said with "plus" or written with a leading "+" (international phone numbers). */
  plus: boolean;
  /** The number's value; imprecise for digit strings beyond 2^53, whose `digits` stay exact. */
  value: number;
  /** Position in the utterance's tokens: first token, and one past the last. */
  start: number;
  end: number;
}

function isDigitLike(token: Token | undefined): boolean {
  if (token === undefined) return false;
  return token.kind === 'unit' || token.kind === 'teen' || token.kind === 'tens' || token.kind === 'zero'
    || token.kind === 'numeral' || token.kind === 'decimal' || token.kind === 'hundred' || token.kind === 'scale';
}

function isSingleDigit(token: Token | undefined): boolean {
  if (token === undefined) return false;
  return token.kind === 'unit' || token.kind === 'zero' || (token.kind === 'numeral' && token.text.length === 1);
}

function isOh(token: Token | undefined): boolean {
  return token?.kind === 'zero' && OHS.has(token.word);
}

/** Whether token i belongs to a number, given its neighbours. */
function inNumber(tokens: readonly Token[], i: number, previousIn: boolean): boolean {
  const token = tokens[i];
  const next = tokens[i + 1];
  if (token === undefined) return false;
  switch (token.kind) {
    case 'unit': case 'teen': case 'tens': case 'hundred': case 'scale': case 'numeral': case 'decimal': case 'zero':
      return true;
    case 'repeat':
      return isSingleDigit(next);
    case 'point':
      return isDigitLike(next) && next?.kind !== 'decimal';
    case 'a':
      return next?.kind === 'hundred' || next?.kind === 'scale';
    case 'minus': case 'plus':
      return isDigitLike(next) || next?.kind === 'point' || next?.kind === 'a';
    case 'and': {
      const previous = tokens[i - 1];
      return previousIn && (previous?.kind === 'hundred' || previous?.kind === 'scale')
        && (next?.kind === 'unit' || next?.kind === 'teen' || next?.kind === 'tens');
    }
    case 'separator': case 'hesitation':
      return previousIn && (isDigitLike(next) || next?.kind === 'repeat');
    default:
      return false;
  }
}

/** A quantity being built from number words. */
interface Quantity {
  total: number;
  current: number;
  /** The last scale word used: later ones must be smaller ("million … thousand"). */
  lastScale: number;
  hundredSaid: boolean;
  canUnit: boolean;
  canTensOrTeen: boolean;
  canHundred: boolean;
  canScale: boolean;
}

function quantity(value: number, canUnit: boolean): Quantity {
  return {
    total: 0, current: value, lastScale: Infinity, hundredSaid: false,
    canUnit, canTensOrTeen: false, canHundred: value < 100, canScale: true,
  };
}

/** The digits of number tokens (no signs or points among them), quantities written in a row. */
function digitsOf(tokens: readonly Token[]): string {
  const pieces: string[] = [];
  let q: Quantity | null = null;
  const close = (): void => {
    if (q !== null) pieces.push(String(q.total + q.current));
    q = null;
  };
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as Token;
    switch (token.kind) {
      case 'numeral': {
        close();
        const next = tokens[i + 1];
        const n = Number(token.text);
        // "5 thousand", "12 hundred": a numeral can take a scale word, as a number word would.
        if ((next?.kind === 'hundred' || next?.kind === 'scale') && !token.text.startsWith('0') && n < 1000) q = quantity(n, false);
        else pieces.push(token.text);
        break;
      }
      case 'zero':
        close();
        pieces.push('0');
        break;
      case 'unit': {
        const open = q as Quantity | null;
        if (open?.canUnit) {
          open.current += token.value;
          open.canUnit = false;
          open.canTensOrTeen = false;
          open.canHundred = !open.hundredSaid && open.current < 100;
          open.canScale = true;
        } else {
          close();
          q = quantity(token.value, false);
        }
        break;
      }
      case 'teen': case 'tens': {
        const open = q as Quantity | null;
        if (open?.canTensOrTeen) {
          open.current += token.value;
          open.canUnit = token.kind === 'tens';
          open.canTensOrTeen = false;
          open.canHundred = !open.hundredSaid && open.current < 100;
          open.canScale = true;
        } else {
          close();
          q = quantity(token.value, token.kind === 'tens');
        }
        break;
      }
      case 'hundred': {
        const open = q as Quantity | null;
        if (open?.canHundred && open.current > 0) {
          open.current *= 100;
        } else {
          close();
          q = quantity(100, true);
        }
        const target = q as Quantity;
        target.hundredSaid = true;
        target.canUnit = true;
        target.canTensOrTeen = true;
        target.canHundred = false;
        target.canScale = true;
        break;
      }
      case 'scale': {
        const open = q as Quantity | null;
        if (open?.canScale && open.current > 0 && token.value < open.lastScale) {
          open.total += open.current * token.value;
          open.current = 0;
        } else {
          close();
          q = { ...quantity(0, true), total: token.value };
        }
        const target = q as Quantity;
        target.lastScale = token.value;
        target.hundredSaid = false;
        target.canUnit = true;
        target.canTensOrTeen = true;
        target.canHundred = false;
        target.canScale = false;
        break;
      }
      case 'a':
        close();
        q = quantity(1, false);
        break;
      case 'repeat': {
        close();
        const next = tokens[i + 1];
        const digit = next?.kind === 'unit' ? String(next.value) : next?.kind === 'numeral' ? next.text : '0';
        pieces.push(digit.repeat(token.times));
        i++;
        break;
      }
      default:
        // "and", separators and hesitations inside a number carry no digits.
        break;
    }
  }
  close();
  return pieces.join('');
}

function toNumber(tokens: readonly Token[], start: number, end: number): SpokenNumber | null {
  let negative = false;
  let plus = false;
  let body = tokens.slice(start, end);
  if (body[0]?.kind === 'minus') negative = true;
  if (body[0]?.kind === 'plus') plus = true;
  if (negative || plus) body = body.slice(1);
  let fraction: string | undefined;
  let wholeTokens = body;
  const point = body.findIndex((t) => t.kind === 'point' || t.kind === 'decimal');
  if (point >= 0) {
    const marker = body[point] as Token;
    wholeTokens = body.slice(0, point);
    if (marker.kind === 'decimal') {
      if (marker.whole !== '') wholeTokens = [...wholeTokens, { kind: 'numeral', text: marker.whole }];
      fraction = marker.fraction + digitsOf(body.slice(point + 1));
    } else {
      fraction = digitsOf(body.slice(point + 1));
    }
    if (fraction === '') fraction = undefined;
  }
  let digits = digitsOf(wholeTokens);
  if (digits === '' && fraction === undefined) return null;
  if (digits === '') digits = '0';
  const magnitude = Number(fraction === undefined ? digits : `${digits}.${fraction}`);
  return { digits, ...(fraction === undefined ? {} : { fraction }), negative, plus, value: negative ? -magnitude : magnitude, start, end };
}

/**
 * Every number in an utterance, in order. Words after the caller's last correction ("four two,
 * sorry, four three") are the only ones read. A lone "oh" or "o" is an interjection, not zero.
 */
export function findNumbers(text: string): SpokenNumber[] {
  const words = tokenize(text);
  const from = afterLastCorrection(words);
  const tokens: Token[] = [];
  const origin: number[] = [];
  words.forEach((word, index) => {
    for (const token of classify(word, words[index - 1])) {
      tokens.push(token);
      origin.push(index);
    }
  });
  const numbers: SpokenNumber[] = [];
  let i = origin.findIndex((o) => o >= from);
  if (i < 0) return numbers;
  while (i < tokens.length) {
    if (!inNumber(tokens, i, false)) {
      i++;
      continue;
    }
    let end = i + 1;
    while (end < tokens.length && inNumber(tokens, end, true)) end++;
    // Hesitations and separators never end a number: drop them from its end.
    while (end > i && (tokens[end - 1]?.kind === 'hesitation' || tokens[end - 1]?.kind === 'separator')) end--;
    // "Oh, forty two": an "oh" before a word that cannot follow a zero digit is an interjection.
    while (i < end - 1 && isOh(tokens[i]) && !isSingleDigit(tokens[i + 1]) && tokens[i + 1]?.kind !== 'repeat') i++;
    const span = tokens.slice(i, end);
    const onlyOhs = span.every(isOh);
    if (!onlyOhs) {
      const number = toNumber(tokens, i, end);
      if (number !== null) numbers.push({ ...number, start: origin[i] as number, end: (origin[end - 1] as number) + 1 });
    }
    i = end;
  }
  return numbers;
}

/**
 * The one number in `text`, or null when there is none or several ("2 accounts, number 4271").
 * Words around the number are ignored ("it's forty two please").
 */
export function parseSpokenNumber(text: string): number | null {
  const numbers = findNumbers(text);
  return numbers.length === 1 ? (numbers[0] as SpokenNumber).value : null;
}
