/**
 * Word error rate: the word-level edit distance (substitutions, deletions, insertions) between
 * a reference text and a transcript, over the number of reference words. For measuring engines
 * (bench, tests) and for comparing an answer with expected phrases.
 */
import { phraseWords } from './grammar.js';

export interface WordErrors {
  /** Words in the reference. */
  words: number;
  substitutions: number;
  deletions: number;
  insertions: number;
  /** (substitutions + deletions + insertions) / words; 0 for two empty texts. */
  rate: number;
}

/** Both texts are compared as words: lower-cased, numbers spelled out, punctuation removed. */
export function wordErrors(reference: string, hypothesis: string): WordErrors {
  const ref = phraseWords(reference);
  const hyp = phraseWords(hypothesis);
  // cost[j] with its breakdown, for the previous and current reference word.
  type Cell = { cost: number; sub: number; del: number; ins: number };
  let previous: Cell[] = hyp.map((_, j) => ({ cost: j + 1, sub: 0, del: 0, ins: j + 1 }));
  previous.unshift({ cost: 0, sub: 0, del: 0, ins: 0 });
  for (let i = 1; i <= ref.length; i++) {
    const above = previous[0] as Cell;
    const current: Cell[] = [{ cost: above.cost + 1, sub: above.sub, del: above.del + 1, ins: above.ins }];
    for (let j = 1; j <= hyp.length; j++) {
      const diagonal = previous[j - 1] as Cell;
      const up = previous[j] as Cell;
      const left = current[j - 1] as Cell;
      const same = ref[i - 1] === hyp[j - 1];
      const options: Cell[] = [
        { cost: diagonal.cost + (same ? 0 : 1), sub: diagonal.sub + (same ? 0 : 1), del: diagonal.del, ins: diagonal.ins },
        { cost: up.cost + 1, sub: up.sub, del: up.del + 1, ins: up.ins },
        { cost: left.cost + 1, sub: left.sub, del: left.del, ins: left.ins + 1 },
      ];
      current.push(options.reduce((best, cell) => (cell.cost < best.cost ? cell : best)));
    }
    previous = current;
  }
  const last = previous[hyp.length] as Cell;
  const rate = ref.length === 0 ? (hyp.length === 0 ? 0 : 1) : last.cost / ref.length;
  return { words: ref.length, substitutions: last.sub, deletions: last.del, insertions: last.ins, rate };
}

/** The word error rate over several pairs: all errors over all reference words. */
export function corpusWordErrorRate(pairs: ReadonlyArray<{ reference: string; hypothesis: string }>): number {
  let words = 0;
  let errors = 0;
  for (const { reference, hypothesis } of pairs) {
    const e = wordErrors(reference, hypothesis);
    words += e.words;
    errors += e.substitutions + e.deletions + e.insertions;
  }
  return words === 0 ? 0 : errors / words;
}
