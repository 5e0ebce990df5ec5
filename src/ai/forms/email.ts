/**
 * Email addresses read out loud: "john at example dot com", "my email is j o h n dot smith at
 * gmail dot com", "jane underscore doe twenty three at mail dot example dot org". Recognisers
 * sometimes write the address itself ("john@example.com"); that is taken as it is.
 *
 * Symbols by name: at (or "at sign") @, dot/period/point ., underscore _, dash/hyphen/minus -,
 * plus +. Letters spelled one by one join up; number words become digits (single letters stay
 * letters, so a spelled "o" is the letter). Words before the address ("my email address is",
 * "it's", "you can reach me at") are dropped, as are "please"/"thanks" after it.
 */
import { findNumbers } from './numbers.js';
import { HESITATIONS } from './text.js';

const SYMBOLS: Readonly<Record<string, string>> = {
  dot: '.', period: '.', point: '.', underscore: '_', dash: '-', hyphen: '-', minus: '-', plus: '+',
};
/** Words that end a lead-in: the address starts after the last of them. */
const LEAD_IN_ENDS = new Set(['is', "it's", 'its', 'email', 'e-mail', 'address', "that's", 'me', 'at', 'be', 'use', 'try']);
const TRAILERS = new Set(['please', 'thanks', 'thank', 'you', 'thankyou']);
const NUMBER_WORDS = new Set([
  'zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve', 'thirteen',
  'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen', 'twenty', 'thirty', 'forty', 'fifty', 'sixty',
  'seventy', 'eighty', 'ninety', 'hundred', 'double', 'triple',
]);

const EMAIL = /^[a-z0-9](?:[a-z0-9._%+-]*[a-z0-9_+-])?@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/;

/** Whether `text` is an address this module would produce: one @, a dotted domain, no "..". */
export function isPlainEmail(text: string): boolean {
  return EMAIL.test(text) && !text.includes('..');
}

function spokenTokens(text: string): string[] {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/\bat sign\b/g, 'at')
    .replace(/\bunder score\b/g, 'underscore')
    .split(/[\s,;:!?"()]+/)
    .map((t) => t.replace(/^[.]+|[.]+$/g, ''))
    .filter((t) => t !== '' && !HESITATIONS.has(t));
}

function join(tokens: readonly string[]): string {
  let out = '';
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as string;
    const symbol = SYMBOLS[token];
    if (symbol !== undefined) {
      out += symbol;
      continue;
    }
    if (NUMBER_WORDS.has(token)) {
      let end = i + 1;
      while (end < tokens.length && NUMBER_WORDS.has(tokens[end] as string)) end++;
      // "double" before a single letter or digit repeats it: "double o" → "oo".
      const run = tokens.slice(i, end);
      const last = run[run.length - 1] as string;
      if ((last === 'double' || last === 'triple') && end < tokens.length && (tokens[end] as string).length === 1) {
        const repeated = (tokens[end] as string).repeat(last === 'double' ? 2 : 3);
        out += (run.length > 1 ? (findNumbers(run.slice(0, -1).join(' '))[0]?.digits ?? '') : '') + repeated;
        i = end;
        continue;
      }
      out += findNumbers(run.join(' ')).map((n) => n.digits).join('');
      i = end - 1;
      continue;
    }
    out += token === 'oh' ? 'o' : token.replace(/'/g, '');
  }
  return out;
}

/** The email address said in `text`, lower-cased, or null when there is no plausible one. */
export function parseSpokenEmail(text: string): string | null {
  const literal = /[^\s@<>()]+@[^\s@<>()]+/.exec(text.normalize('NFKC').toLowerCase());
  if (literal !== null) {
    const address = literal[0].replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
    return isPlainEmail(address) ? address : null;
  }
  const tokens = spokenTokens(text);
  // The "at" of the address is the last one with a dotted domain after it.
  let at = -1;
  for (let i = tokens.length - 1; i > 0; i--) {
    if (tokens[i] === 'at' && tokens.slice(i + 1).some((t) => SYMBOLS[t] === '.' || t.includes('.'))) {
      at = i;
      break;
    }
  }
  if (at <= 0) return null;
  let start = 0;
  for (let i = 0; i < at; i++) if (LEAD_IN_ENDS.has(tokens[i] as string)) start = i + 1;
  let end = tokens.length;
  while (end > at + 1 && TRAILERS.has(tokens[end - 1] as string)) end--;
  const address = `${join(tokens.slice(start, at))}@${join(tokens.slice(at + 1, end))}`;
  return isPlainEmail(address) ? address : null;
}
