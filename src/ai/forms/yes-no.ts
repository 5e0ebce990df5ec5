/**
 * Yes or no, as people answer a yes/no question ("yeah", "that's right", "I do", "nope", "not
 * really", "I don't think so"). Phrases are matched longest first, so "absolutely not" is no
 * although "absolutely" alone is yes; a negation right before a yes phrase turns it into a no
 * ("that's not right", "I don't confirm"). An answer holding both a yes and a no ("yes no") is
 * not understood, unless a correction separates them ("no, sorry, yes").
 */
import { HESITATIONS, afterLastCorrection, tokenize } from './text.js';

const YES: readonly string[] = [
  'yes', 'yeah', 'yea', 'yep', 'yup', 'ya', 'yah', 'aye', 'yes please', 'sure', 'surely', 'sure thing', 'correct',
  'right', "that's right", 'that is right', "that's correct", 'that is correct', 'affirmative', 'absolutely',
  'definitely', 'certainly', 'of course', 'ok', 'okay', 'alright', 'all right', 'true', "that's true", 'confirm',
  'confirmed', 'i confirm', 'i do', 'i am', "i'm sure", 'i will', 'it is', 'it does', 'uh huh', 'mhm', 'mm hmm',
  'indeed', 'agreed', 'i agree', 'go ahead', 'please do', 'sounds good', 'you bet', 'no problem', 'not a problem',
  'exactly', 'precisely', 'fine', "that's fine", "i don't mind", "don't mind", 'why not', 'yes it is', 'yes i do',
];

const NO: readonly string[] = [
  'no', 'nope', 'nah', 'nay', 'no way', 'negative', 'incorrect', 'wrong', "that's wrong", 'that is wrong', 'false',
  "that's false", 'never', 'not', 'not really', 'not at all', 'absolutely not', 'certainly not', 'definitely not',
  'of course not', 'i do not', "i don't", "don't", 'do not', "i'm not", 'i am not', 'it is not', "it isn't",
  "it's not", 'no thanks', 'no thank you', "i don't think so", 'i decline', 'decline', 'not now',
  'no it is not', "no it isn't", "no i don't",
];

/** Words that negate what follows: "not correct", "isn't right", "I don't confirm". */
const NEGATORS = new Set(['not', 'never', "don't", "i don't", 'do not', 'i do not', "i'm not", 'i am not', "it's not",
  'it is not', "it isn't"]);

/** Answers that are neither: they make the whole answer not understood. */
const UNSURE: readonly string[] = [
  'not sure', "i'm not sure", 'i am not sure', "don't know", "i don't know", 'no idea', 'maybe', 'perhaps', 'dunno',
  'i guess', 'not sure yet',
];

type Polarity = 'yes' | 'no' | 'unsure';

interface Phrase {
  words: readonly string[];
  text: string;
  polarity: Polarity;
}

const PHRASES: readonly Phrase[] = [
  ...YES.map((text) => ({ words: text.split(' '), text, polarity: 'yes' as const })),
  ...NO.map((text) => ({ words: text.split(' '), text, polarity: 'no' as const })),
  ...UNSURE.map((text) => ({ words: text.split(' '), text, polarity: 'unsure' as const })),
].sort((a, b) => b.words.length - a.words.length);

function isNegation(word: string): boolean {
  return word.endsWith("n't") || word === 'not' || word === 'never';
}

/** true for yes, false for no, null when the answer is neither or both. */
export function parseYesNo(text: string): boolean | null {
  const all = tokenize(text);
  const tokens = all.slice(afterLastCorrection(all));
  // One entry per phrase or other word; other words have no polarity but keep phrases apart.
  const found: { polarity: Polarity | null; negator: boolean }[] = [];
  let i = 0;
  while (i < tokens.length) {
    const phrase = PHRASES.find((p) => p.words.every((w, k) => tokens[i + k] === w));
    if (phrase === undefined && HESITATIONS.has(tokens[i] as string)) {
      i++;
      continue;
    }
    if (phrase === undefined) {
      // An unlisted negation ("isn't", "wasn't") still negates a yes phrase after it.
      const negation = isNegation(tokens[i] as string);
      found.push({ polarity: negation ? 'no' : null, negator: negation });
      i++;
      continue;
    }
    const previous = found[found.length - 1];
    if (phrase.polarity === 'yes' && previous?.negator === true) {
      // "not correct": the negation and the yes phrase make one no.
      previous.negator = false;
    } else {
      found.push({ polarity: phrase.polarity, negator: phrase.polarity === 'no' && NEGATORS.has(phrase.text) });
    }
    i += phrase.words.length;
  }
  const answers = found.map((f) => f.polarity).filter((p): p is Polarity => p !== null);
  if (answers.length === 0 || answers.includes('unsure')) return null;
  const first = answers[0];
  if (!answers.every((a) => a === first)) return null;
  return first === 'yes';
}
