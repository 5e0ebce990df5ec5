/**
 * Turning one answer (spoken, as text from a recogniser, or keyed) into a field's value. Each
 * candidate value is checked against the field's schema; the first that passes is the answer.
 */
import { choiceForKeys, choiceLabel, matchChoice } from './choices.js';
import { isoDate, parseSpokenDate, type CalendarDay } from './dates.js';
import { parseSpokenEmail } from './email.js';
import type { FormField } from './fields.js';
import { findNumbers, type SpokenNumber } from './numbers.js';
import { humanise, type Failure } from './questions.js';
import { HESITATIONS, tokenize } from './text.js';
import type { Check } from './validate.js';
import { parseYesNo } from './yes-no.js';

export type Interpretation = { ok: true; value: unknown } | { ok: false; failure: Failure };

export interface AnswerContext {
  /** Today, for relative dates and dates said without a year. */
  today: CalendarDay;
  dateOrder: 'mdy' | 'dmy';
  /** The field's schema check. */
  check: Check;
}

const fail = (failure: Failure): Interpretation => ({ ok: false, failure });

/** The first candidate the schema accepts; `rejected` (with the first) when none is. */
function firstAccepted(candidates: readonly unknown[], check: Check): Interpretation {
  if (candidates.length === 0) return fail({ reason: 'not_understood' });
  for (const value of candidates) if (check(value).ok) return { ok: true, value };
  return fail({ reason: 'rejected', heard: candidates[0] });
}

function numberValue(number: SpokenNumber, integer: boolean): number | null {
  if (integer) {
    if (number.fraction !== undefined && !/^0*$/.test(number.fraction)) return null;
    const value = Number(number.digits) * (number.negative ? -1 : 1);
    return Number.isSafeInteger(value) ? value : null;
  }
  return Number.isFinite(number.value) ? number.value : null;
}

function numeric(field: FormField, text: string, check: Check): Interpretation {
  const numbers = findNumbers(text);
  if (numbers.length === 0) return fail({ reason: 'not_understood' });
  const values = numbers.map((n) => numberValue(n, field.kind === 'integer'));
  if (numbers.length === 1) {
    const value = values[0];
    if (value === null || value === undefined) return fail({ reason: 'not_understood' });
    return firstAccepted([value], check);
  }
  // Several numbers: the schema may rule out all but one ("I'm 42, born in 1982" for an age of at most 120).
  const accepted = values.filter((v): v is number => v !== null && check(v).ok);
  if (accepted.length === 1) return { ok: true, value: accepted[0] };
  return fail({ reason: 'several_numbers' });
}

function digitCandidates(number: SpokenNumber): string[] {
  if (number.fraction !== undefined || number.negative) return [];
  return number.plus ? [`+${number.digits}`, number.digits] : [number.digits, `+${number.digits}`];
}

function digits(text: string, check: Check): Interpretation {
  const numbers = findNumbers(text);
  if (numbers.length === 0) return fail({ reason: 'not_understood' });
  if (numbers.length > 1) {
    // "five five five, one two one two" with a word in between: read as one run when the schema takes it.
    const joined = numbers.map((n) => n.digits).join('');
    if (numbers.every((n) => n.fraction === undefined && !n.negative) && check(joined).ok) return { ok: true, value: joined };
    return fail({ reason: 'several_numbers' });
  }
  return firstAccepted(digitCandidates(numbers[0] as SpokenNumber), check);
}

const LEADING_FILLER = /^(?:(?:um+|uh+|er+|erm|ah|hmm|well|so|okay|ok|oh|sure|yes|yeah)[,.]?\s+)+/i;
const IT_IS = /^(?:it's|it is|that's|that is|it was|it'd be|it would be|it will be)\s+(.+)$/i;
const I_AM = /^(?:i'm|i am|this is|call me|they call me|my name's)\s+(.+)$/i;
const MY_X_IS = /^(?:my|the|our|his|her|their)\s+((?:\S+\s+){0,3}?)(?:is|are|was|would be|will be|'s)\s+(.+)$/i;

/** Free text without the words people put before an answer ("my name is", "it's", "um"). */
export function freeText(field: FormField, text: string): string {
  let answer = text.normalize('NFKC').trim().replace(LEADING_FILLER, '');
  const topic = new Set([...humanise(field.name).split(' '), ...tokenize(field.description ?? '')].filter((w) => w.length > 2));
  const mine = MY_X_IS.exec(answer);
  if (mine !== null && tokenize(mine[1] ?? '').some((w) => topic.has(w))) answer = mine[2] as string;
  else {
    const itIs = IT_IS.exec(answer);
    if (itIs !== null) answer = itIs[1] as string;
    else if (topic.has('name')) answer = I_AM.exec(answer)?.[1] ?? answer;
  }
  return answer.replace(/[\s.,!?;:]+$/, '').trim();
}

function text(field: FormField, said: string, check: Check): Interpretation {
  const answer = freeText(field, said);
  if (answer === '') return fail({ reason: 'no_answer' });
  const candidates: unknown[] = [];
  // An answer that is only a number ("one two three") is its digits.
  const numbers = findNumbers(answer);
  const tokens = tokenize(answer).filter((t) => !HESITATIONS.has(t));
  const only = numbers[0];
  if (numbers.length === 1 && only !== undefined && only.start === 0 && only.end === tokens.length && only.fraction === undefined) {
    candidates.push(only.plus ? `+${only.digits}` : only.digits);
  }
  candidates.push(answer);
  return firstAccepted(candidates, check);
}

/** The value of a spoken answer (as text). */
export function interpretSpeech(field: FormField, said: string, context: AnswerContext): Interpretation {
  if (tokenize(said).filter((t) => !HESITATIONS.has(t)).length === 0) return fail({ reason: 'no_answer' });
  const { check } = context;
  switch (field.kind) {
    case 'integer': case 'number':
      return numeric(field, said, check);
    case 'digits':
      return digits(said, check);
    case 'boolean': {
      const answer = parseYesNo(said);
      return answer === null ? fail({ reason: 'not_understood' }) : firstAccepted([answer], check);
    }
    case 'choice': {
      const choices = field.choices ?? [];
      const match = matchChoice(said, choices);
      if (match.kind === 'match') return firstAccepted([choices[match.index]], check);
      if (match.kind === 'ambiguous') return fail({ reason: 'ambiguous', options: match.indexes.map((i) => choiceLabel(choices[i])) });
      return fail({ reason: 'not_understood' });
    }
    case 'date': {
      const date = parseSpokenDate(said, context.today, { order: context.dateOrder });
      return date === null ? fail({ reason: 'not_understood' }) : firstAccepted([date], check);
    }
    case 'email': {
      const address = parseSpokenEmail(said);
      return address === null ? fail({ reason: 'not_understood' }) : firstAccepted([address], check);
    }
    case 'text':
      return text(field, said, check);
    default:
      return fail({ reason: 'not_understood' });
  }
}

function keyedDate(keys: string, order: 'mdy' | 'dmy'): string[] {
  if (!/^\d{8}$/.test(keys)) return [];
  const n = (from: number, to: number): number => Number(keys.slice(from, to));
  const candidates = [isoDate(n(0, 4), n(4, 6), n(6, 8))];
  candidates.push(order === 'mdy' ? isoDate(n(4, 8), n(0, 2), n(2, 4)) : isoDate(n(4, 8), n(2, 4), n(0, 2)));
  return candidates.filter((c): c is string => c !== null);
}

/**
 * The value of a keyed answer: the keys before any `#`. Numbers take digits (`*` as a decimal
 * point for non-integers); yes/no takes 1 (yes) or 2 (no); a choice takes its position in the
 * list (or the number itself when the values are numbers); a date takes YYYYMMDD, or MMDDYYYY
 * (DDMMYYYY with day-first order); free text takes the digits as a string.
 */
export function interpretKeys(field: FormField, keys: string, context: AnswerContext): Interpretation {
  const entry = keys.split('#')[0] ?? '';
  if (entry === '') return fail({ reason: 'no_answer' });
  const { check } = context;
  switch (field.kind) {
    case 'integer':
      return /^\d+$/.test(entry) && Number.isSafeInteger(Number(entry)) ? firstAccepted([Number(entry)], check) : fail({ reason: 'not_understood' });
    case 'number': {
      const written = entry.replace('*', '.');
      return /^\d*\.?\d+$|^\d+\.$/.test(written) ? firstAccepted([Number(written)], check) : fail({ reason: 'not_understood' });
    }
    case 'digits': case 'text':
      return /^\d+$/.test(entry) ? firstAccepted([entry], check) : fail({ reason: 'not_understood' });
    case 'boolean':
      return entry === '1' ? firstAccepted([true], check) : entry === '2' ? firstAccepted([false], check) : fail({ reason: 'not_understood' });
    case 'choice': {
      const choices = field.choices ?? [];
      const match = choiceForKeys(entry, choices);
      return match.kind === 'match' ? firstAccepted([choices[match.index]], check) : fail({ reason: 'not_understood' });
    }
    case 'date': {
      const candidates = keyedDate(entry, context.dateOrder);
      return candidates.length === 0 ? fail({ reason: 'not_understood' }) : firstAccepted(candidates, check);
    }
    default:
      return fail({ reason: 'not_understood' });
  }
}
