/** Titles and abbreviations whose full stop does not end a sentence. */
const ABBREVIATIONS = new Set(['mr', 'mrs', 'ms', 'dr', 'st', 'jr', 'sr', 'prof', 'no', 'vs', 'etc', 'e.g', 'i.e', 'approx', 'ave', 'apt', 'dept']);

/**
 * Splits a reply into sentences, so the first can be synthesised and heard while the rest are
 * still being made. A sentence ends at `.`, `!` or `?` followed by a space and a capital letter
 * or a digit, except after a known abbreviation; text that is not split comes back whole.
 */
export function splitSentences(text: string): string[] {
  const sentences: string[] = [];
  const boundary = /([.!?])\s+(?=[A-Z0-9"'])/g;
  let start = 0;
  for (let match = boundary.exec(text); match !== null; match = boundary.exec(text)) {
    const end = match.index + 1;
    const lastWord = /([A-Za-z.]+)\.$/.exec(text.slice(start, end))?.[1]?.toLowerCase();
    if (match[1] === '.' && lastWord !== undefined && ABBREVIATIONS.has(lastWord)) continue;
    const sentence = text.slice(start, end).trim();
    if (sentence !== '') sentences.push(sentence);
    start = boundary.lastIndex;
  }
  const rest = text.slice(start).trim();
  if (rest !== '') sentences.push(rest);
  return sentences;
}
