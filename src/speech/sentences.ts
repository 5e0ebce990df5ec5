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

/** An opening clause of at most six words, ended by a comma, semicolon or colon, and the rest. */
const OPENING_CLAUSE = /^((?:\S+\s+){0,5}?\S+[,;:])\s+(.*)$/;
/** Fewer words after the clause are quick enough to synthesise with it. */
const REST_MIN_WORDS = 5;

/**
 * The pieces a reply is synthesised in, in order: its sentences, with a long first sentence cut
 * after a short opening clause ("Thanks, | that is noted as item three."), because the time to
 * the first audio grows with the length of the first piece.
 */
export function speechChunks(text: string): string[] {
  const sentences = splitSentences(text);
  const clause = OPENING_CLAUSE.exec(sentences[0] ?? '');
  if (clause === null) return sentences;
  const [, lead, rest] = clause as unknown as [string, string, string];
  if (rest.split(/\s+/).length < REST_MIN_WORDS) return sentences;
  return [lead, rest, ...sentences.slice(1)];
}
