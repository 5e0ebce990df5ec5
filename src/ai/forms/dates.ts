/**
 * Calendar dates as people say them, to ISO `YYYY-MM-DD`:
 *
 * - written: "2024-03-05", "2024/3/5"; "03/05/2024" is month first in US English (the default)
 *   and day first with `order: 'dmy'`; two-digit years are 20xx;
 * - a month by name with a day before or after it and an optional year: "March fifth", "march
 *   the 5th", "5th of March 2024", "the twenty first of March", "March 5, twenty twenty four";
 *   without a year, the current year;
 * - relative to today: "today", "tomorrow", "the day after tomorrow", "yesterday", "in three
 *   days", "in a week", "two weeks from now", "five days ago";
 * - a weekday: "Friday", "on Friday", "this Friday", "next Friday" are all the first Friday after
 *   today; "last Friday" the latest before today.
 *
 * Dates that do not exist (February 30th) are not understood.
 */
import { findNumbers, ordinalWordValue } from './numbers.js';
import { HESITATIONS, afterLastCorrection, tokenize } from './text.js';

export interface CalendarDay {
  year: number;
  /** 1–12. */
  month: number;
  /** 1–31. */
  day: number;
}

export interface DateOptions {
  /** How to read all-numeric dates like 03/05/2024: month first (US, default) or day first. */
  order?: 'mdy' | 'dmy';
}

const MONTHS: Readonly<Record<string, number>> = {
  january: 1, jan: 1, february: 2, feb: 2, march: 3, mar: 3, april: 4, apr: 4, may: 5, june: 6, jun: 6, july: 7,
  jul: 7, august: 8, aug: 8, september: 9, sep: 9, sept: 9, october: 10, oct: 10, november: 11, nov: 11, december: 12,
  dec: 12,
};

/** Full month names, January first. */
export const MONTH_NAMES: readonly string[] = [
  'january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december',
];

export const WEEKDAY_NAMES: readonly string[] = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

/** Words besides month names, weekdays and numbers that dates are said with, for grammars. */
export const DATE_WORDS: readonly string[] = [
  'today', 'tomorrow', 'yesterday', 'day', 'days', 'week', 'weeks', 'after', 'before', 'next', 'this', 'last', 'on',
  'of', 'the', 'in', 'from', 'now', 'ago',
];

/** Today's date in a time zone (IANA name, such as `Europe/Berlin`; default UTC). */
export function calendarDay(epochMs: number, timeZone = 'UTC'): CalendarDay {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: 'numeric', day: 'numeric' })
    .formatToParts(new Date(epochMs));
  const part = (type: string): number => Number(parts.find((p) => p.type === type)?.value);
  return { year: part('year'), month: part('month'), day: part('day') };
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** `YYYY-MM-DD` for a real date, null otherwise. */
export function isoDate(year: number, month: number, day: number): string | null {
  if (![year, month, day].every(Number.isInteger)) return null;
  if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

function addDays(today: CalendarDay, days: number): string | null {
  const date = new Date(Date.UTC(today.year, today.month - 1, today.day + days));
  return isoDate(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate());
}

/** A date written with digits; undefined when there is none, null when it is not a real date. */
function written(text: string, order: 'mdy' | 'dmy'): string | null | undefined {
  const iso = /\b(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\b/.exec(text);
  if (iso !== null) return isoDate(Number(iso[1]), Number(iso[2]), Number(iso[3]));
  const numeric = /\b(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2})\b/.exec(text);
  if (numeric !== null) {
    const [first, second] = [Number(numeric[1]), Number(numeric[2])];
    const year = numeric[3]?.length === 2 ? 2000 + Number(numeric[3]) : Number(numeric[3]);
    return order === 'mdy' ? isoDate(year, first, second) : isoDate(year, second, first);
  }
  return undefined;
}

/** A day of the month in one or two tokens from `start`: "5", "5th", "fifth", "twenty first". */
function dayAt(tokens: readonly string[], start: number, length: number): number | null {
  if (start < 0 || start + length > tokens.length) return null;
  const slice = tokens.slice(start, start + length);
  if (length === 1) {
    const ordinal = ordinalWordValue(slice[0] as string);
    if (ordinal !== null) return ordinal >= 1 && ordinal <= 31 ? ordinal : null;
  }
  const numbers = findNumbers(slice.join(' '));
  const number = numbers[0];
  if (numbers.length !== 1 || number === undefined || number.start !== 0 || number.end !== length) return null;
  return Number.isInteger(number.value) && number.value >= 1 && number.value <= 31 && number.fraction === undefined ? number.value : null;
}

/** A year in the tokens (besides filler words), null when there is none, NaN when there is a number that is no year. */
function yearIn(tokens: readonly string[]): number | null {
  const numbers = findNumbers(tokens.join(' '));
  if (numbers.length === 0) return null;
  const number = numbers[0] as (typeof numbers)[number];
  if (numbers.length > 1 || !Number.isInteger(number.value) || number.value < 1000 || number.value > 2999) return Number.NaN;
  return number.value;
}

function named(tokens: readonly string[], today: CalendarDay): string | null | undefined {
  const at = tokens.findIndex((t, i) => MONTHS[t] !== undefined
    // "may" and "mar" are words too: a month only next to a day.
    && (t !== 'may' || dayAt(tokens, i + 1, 1) !== null || dayAt(tokens, i + (tokens[i + 1] === 'the' ? 2 : 1), 1) !== null
      || dayAt(tokens, i - 1, 1) !== null || dayAt(tokens, i - 2, 1) !== null));
  if (at < 0) return undefined;
  const month = MONTHS[tokens[at] as string] as number;
  let day: number | null = null;
  let rest: readonly string[] = [];
  // Day before the month: "5th of March", "the twenty first of March".
  let before = at - 1;
  if (tokens[before] === 'of') before--;
  for (const length of [2, 1]) {
    const value = dayAt(tokens, before - length + 1, length);
    if (value !== null) {
      day = value;
      rest = tokens.slice(at + 1);
      break;
    }
  }
  if (day === null) {
    // Day after the month: "March fifth", "March the 21st 2024".
    let after = at + 1;
    if (tokens[after] === 'the') after++;
    for (const length of [2, 1]) {
      const value = dayAt(tokens, after, length);
      if (value !== null) {
        day = value;
        rest = tokens.slice(after + length);
        break;
      }
    }
  }
  if (day === null) return null;
  const year = yearIn(rest.filter((t) => !['of', 'in', 'the', 'year'].includes(t)));
  if (year !== null && Number.isNaN(year)) return null;
  return isoDate(year ?? today.year, month, day);
}

const UNIT_DAYS: Readonly<Record<string, number>> = { day: 1, days: 1, week: 7, weeks: 7 };

function relative(tokens: readonly string[], today: CalendarDay): string | null | undefined {
  const text = ` ${tokens.join(' ')} `;
  if (/ day after tomorrow /.test(text)) return addDays(today, 2);
  if (/ day before yesterday /.test(text)) return addDays(today, -2);
  if (/ (today|tonight) /.test(text)) return addDays(today, 0);
  if (/ tomorrow /.test(text)) return addDays(today, 1);
  if (/ yesterday /.test(text)) return addDays(today, -1);
  const unit = tokens.findIndex((t) => UNIT_DAYS[t] !== undefined);
  if (unit > 0) {
    const size = UNIT_DAYS[tokens[unit] as string] as number;
    const before = tokens.slice(0, unit);
    let count: number | null = null;
    let countStart = unit - 1;
    if (before[unit - 1] === 'a' || before[unit - 1] === 'an') count = 1;
    else {
      const numbers = findNumbers(before.join(' '));
      const last = numbers[numbers.length - 1];
      if (last !== undefined && last.end === unit && Number.isInteger(last.value)) {
        count = last.value;
        countStart = last.start;
      }
    }
    if (count !== null) {
      const after = tokens.slice(unit + 1).join(' ');
      if (tokens[countStart - 1] === 'in' || /^(from (now|today))\b/.test(after)) return addDays(today, count * size);
      if (/^ago\b/.test(after)) return addDays(today, -count * size);
    }
  }
  const weekday = tokens.findIndex((t) => WEEKDAY_NAMES.includes(t));
  if (weekday >= 0) {
    const wanted = WEEKDAY_NAMES.indexOf(tokens[weekday] as string);
    const todayWeekday = new Date(Date.UTC(today.year, today.month - 1, today.day)).getUTCDay();
    if (tokens[weekday - 1] === 'last') return addDays(today, -(((todayWeekday - wanted + 6) % 7) + 1));
    return addDays(today, ((wanted - todayWeekday + 6) % 7) + 1);
  }
  return undefined;
}

/** The ISO date said in `text`, or null. `today` anchors "tomorrow", weekdays and dates said without a year. */
export function parseSpokenDate(text: string, today: CalendarDay, options: DateOptions = {}): string | null {
  const all = tokenize(text);
  const tokens = all.slice(afterLastCorrection(all)).filter((t) => !HESITATIONS.has(t));
  const writtenDate = written(text.toLowerCase(), options.order ?? 'mdy');
  if (writtenDate !== undefined) return writtenDate;
  const byName = named(tokens, today);
  if (byName !== undefined) return byName;
  return relative(tokens, today) ?? null;
}
