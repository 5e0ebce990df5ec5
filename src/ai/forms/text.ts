/**
 * Word-level helpers shared by the answer parsers: recognisers write the same answer in many
 * ways ("Forty-two.", "42", "forty two", "It's, um, 42"), so every parser starts from the same
 * lower-cased token list with punctuation and hesitations out of the way.
 */

/** Sounds people make while thinking; never part of an answer. */
export const HESITATIONS: ReadonlySet<string> = new Set([
  'um', 'umm', 'uh', 'uhh', 'uhm', 'er', 'erm', 'ah', 'hmm', 'hm', 'mm', 'mmm', 'eh',
]);

/**
 * Phrases after which the caller replaces what they said before ("four two, no sorry, four
 * three"): parsers keep only the words after the last one.
 */
const CORRECTIONS: readonly (readonly string[])[] = [
  ['no', 'wait'], ['sorry', 'i', 'mean'], ['i', 'mean'], ['no', 'sorry'], ['sorry'], ['actually'], ['correction'],
  ['let', 'me', 'correct', 'that'], ['scratch', 'that'],
];

/**
 * Lower-cased words of an utterance. Punctuation around words goes; apostrophes inside words
 * stay ("it's"); hyphens between letters split ("forty-two", "twenty-first"); thousands
 * separators inside numbers go ("1,234" → "1234"); a decimal point between digits stays.
 */
export function tokenize(text: string): string[] {
  const cleaned = text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\u2018\u2019\u02bc]/g, "'")
    .replace(/(\d),(?=\d{3}(?!\d))/g, '$1');
  const tokens: string[] = [];
  for (const raw of cleaned.split(/[\s,;:!?"()[\]{}]+/)) {
    for (const piece of raw.split(/(?<=\p{L})[-–—/](?=\p{L})|(?<=\d)[-–—/](?=\d)|(?<=\p{L})-(?=\d)|(?<=\d)-(?=\p{L})/u)) {
      const word = piece.replace(/^[^\p{L}\p{N}+-]+|[^\p{L}\p{N}]+$/gu, '');
      if (/[\p{L}\p{N}]/u.test(word)) tokens.push(word);
    }
  }
  return tokens;
}

/** Index just past the last correction phrase in `tokens`, or 0 when there is none. */
export function afterLastCorrection(tokens: readonly string[]): number {
  let start = 0;
  for (let i = 0; i < tokens.length; i++) {
    for (const phrase of CORRECTIONS) {
      if (phrase.every((w, k) => tokens[i + k] === w) && i + phrase.length < tokens.length) {
        start = Math.max(start, i + phrase.length);
      }
    }
  }
  return start;
}

/**
 * Edit distance between two strings: insertions, deletions, substitutions and swaps of two
 * neighbouring letters ("bleu" → "blue") each cost one.
 */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, j) => j)];
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    const above = rows[i - 1] as number[];
    for (let j = 1; j <= b.length; j++) {
      let best = Math.min((above[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1), (above[j] as number) + 1, (row[j - 1] as number) + 1);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, ((rows[i - 2] as number[])[j - 2] as number) + 1);
      }
      row.push(best);
    }
    rows.push(row);
  }
  return (rows[a.length] as number[])[b.length] as number;
}

/** Joins items as a spoken list: "red", "red or blue", "red, green or blue". */
export function spokenList(items: readonly string[], conjunction = 'or'): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} ${conjunction} ${items[items.length - 1] as string}`;
}
