/**
 * Splitting long text into sentence-sized pieces. Each piece is synthesized on its own, so the
 * first audio of a long prompt is ready after one sentence instead of after all of them, and no
 * engine is handed a 3000-character utterance (flite's time grows faster than linearly with
 * utterance length: 3000 characters take several seconds as one utterance).
 */

// Words whose trailing period does not end a sentence ("Dr. Smith", "e.g. this").
const ABBREVIATIONS = new Set([
  'mr', 'mrs', 'ms', 'dr', 'prof', 'sr', 'jr', 'st', 'mt', 'vs', 'etc', 'e.g', 'i.e', 'approx', 'dept', 'no',
  'inc', 'ltd', 'co', 'corp', 'ave', 'blvd', 'rd', 'apt', 'fig', 'jan', 'feb', 'mar', 'apr', 'jun', 'jul',
  'aug', 'sep', 'sept', 'oct', 'nov', 'dec',
]);

/** Default longest piece; a sentence longer than this is split at a comma or, failing that, a space. */
export const MAX_CHUNK_CHARS = 300;

function endsSentence(text: string, at: number): boolean {
  const char = text[at];
  if (char === '!' || char === '?' || char === '…' || char === '。' || char === '！' || char === '？') return true;
  if (char !== '.') return false;
  const word = /(\S+)$/.exec(text.slice(0, at))?.[1]?.toLowerCase() ?? '';
  if (ABBREVIATIONS.has(word.replace(/^[("'[]+/, ''))) return false;
  // A single letter before the period is an initial ("J. Smith").
  if (/^\p{L}$/u.test(word)) return false;
  // A period between digits or inside a token ("3.5", "example.com") is not followed by space.
  return true;
}

/** Sentences of `text`, each at most `maxChars` long, with their own punctuation kept. */
export function splitSentences(text: string, maxChars = MAX_CHUNK_CHARS): string[] {
  const sentences: string[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (!endsSentence(text, i)) continue;
    // Closing quotes and brackets belong to the sentence they end.
    let end = i + 1;
    while (end < text.length && /["'”’)\]]/.test(text[end] as string)) end++;
    if (end < text.length && !/\s/.test(text[end] as string) && !/[。！？]/.test(text[i] as string)) continue;
    // "'Yes.' he said": a lower-case word after the stop continues the sentence.
    if (/^\s*\p{Ll}/u.test(text.slice(end, end + 8))) continue;
    sentences.push(text.slice(start, end));
    start = end;
    i = end - 1;
  }
  sentences.push(text.slice(start));
  return sentences.map((s) => s.trim()).filter((s) => s !== '').flatMap((s) => splitLong(s, maxChars));
}

function splitLong(sentence: string, maxChars: number): string[] {
  const pieces: string[] = [];
  let rest = sentence;
  while (rest.length > maxChars) {
    const window = rest.slice(0, maxChars + 1);
    let cut = Math.max(window.lastIndexOf(', '), window.lastIndexOf('; '), window.lastIndexOf(': '));
    if (cut > maxChars / 3) cut += 1;
    else cut = window.lastIndexOf(' ');
    if (cut <= 0) cut = maxChars;
    pieces.push(rest.slice(0, cut).trim());
    rest = rest.slice(cut).trim();
  }
  if (rest !== '') pieces.push(rest);
  return pieces;
}
