/**
 * What a recogniser should expect while a form runs: for one field, or for the whole form.
 * Constrained recognisers (pocketsphinx with a JSGF grammar) are far more accurate on telephone
 * audio when they only have to choose between the words an answer can contain.
 *
 * Three modes, by the field's kind:
 * - `phrases`: the answer is one of a known set (yes/no variants, enum values). `phrases` can go
 *   straight to a recogniser's phrase grammar (`TranscribeOptions.grammar`).
 * - `sequence`: the answer is any run of known words (numbers: digits and number words; dates:
 *   months, ordinals, number words, "tomorrow"…). A phrase list cannot say "any run of", so
 *   `phrases` is empty: use `formGrammarJsgf`, which repeats the words.
 * - `open`: free text, email addresses: no grammar fits; use dictation. `words` may still hint.
 */
import { phraseWords } from '../../speech/stt/grammar.js';
import { choiceLabel } from './choices.js';
import { DATE_WORDS, MONTH_NAMES, WEEKDAY_NAMES } from './dates.js';
import { formFields, type FieldOptions, type FormField } from './fields.js';
import { NUMBER_WORDS } from './numbers.js';

export type GrammarMode = 'phrases' | 'sequence' | 'open';

export interface FormGrammar {
  /** The field this grammar is for; null for the whole form. */
  field: string | null;
  mode: GrammarMode;
  /** Whole answers, one per utterance, as written (enum values as the schema has them, spaced). Empty unless `phrases`. */
  phrases: string[];
  /** Every word an answer may contain, as a recogniser writes it (lower case, numbers spelled out). */
  words: string[];
  /** Words said around an answer ("um", "it's", "please"): optional in the JSGF. */
  fillers: string[];
}

const COMMON_FILLERS = ['um', 'uh', 'please', 'okay', 'so', 'well'];
const NUMBER_FILLERS = ["it's", 'it', 'is', 'my', 'number', 'the'];
const CHOICE_FILLERS = ['the', 'one', "i'd", 'like', 'i', 'want'];
const ORDINAL_WORDS = [
  'first', 'second', 'third', 'fourth', 'fifth', 'sixth', 'seventh', 'eighth', 'ninth', 'tenth', 'eleventh', 'twelfth',
  'thirteenth', 'fourteenth', 'fifteenth', 'sixteenth', 'seventeenth', 'eighteenth', 'nineteenth', 'twentieth',
  'thirtieth',
];
/**
 * Yes/no answers for recognisers: the common ones only. parseYesNo understands many more, but
 * every phrase added to a grammar is one more a recogniser can confuse with the right one.
 */
const YES_NO_PHRASES = [
  'yes', 'yeah', 'yep', 'yes please', 'sure', 'correct', "that's right", 'that is correct', 'absolutely', 'of course',
  'okay', 'i do', 'i confirm', 'no', 'nope', 'no thanks', 'no thank you', 'negative', 'not really', "that's wrong",
  'incorrect', "i don't", 'absolutely not',
];
const LETTERS = [...'abcdefghijklmnopqrstuvwxyz'];
const EMAIL_WORDS = ['at', 'dot', 'underscore', 'dash', 'hyphen', 'plus'];

function unique(items: Iterable<string>): string[] {
  return [...new Set(items)];
}

function wordsOf(phrases: readonly string[]): string[] {
  return unique(phrases.flatMap((p) => phraseWords(p)));
}

function numberVocabulary(field: FormField): string[] {
  const min = field.schema['minimum'];
  const words = [...NUMBER_WORDS];
  if (field.kind === 'number') words.push('point');
  if (field.kind !== 'digits' && (typeof min !== 'number' || min < 0)) words.push('minus');
  if (field.kind === 'digits') words.push('plus');
  return unique(words);
}

/** The grammar for one field. */
export function grammarForField(field: FormField): FormGrammar {
  const base = { field: field.name, phrases: [] as string[] };
  switch (field.kind) {
    case 'boolean': {
      const phrases = [...YES_NO_PHRASES];
      return { ...base, mode: 'phrases', phrases, words: wordsOf(phrases), fillers: COMMON_FILLERS };
    }
    case 'choice': {
      const phrases = unique((field.choices ?? []).map(choiceLabel));
      return { ...base, mode: 'phrases', phrases, words: wordsOf(phrases), fillers: unique([...COMMON_FILLERS, ...CHOICE_FILLERS]) };
    }
    case 'integer': case 'number': case 'digits':
      return { ...base, mode: 'sequence', words: numberVocabulary(field), fillers: unique([...COMMON_FILLERS, ...NUMBER_FILLERS]) };
    case 'date':
      return {
        ...base,
        mode: 'sequence',
        words: unique([...MONTH_NAMES, ...WEEKDAY_NAMES, ...ORDINAL_WORDS, ...NUMBER_WORDS, ...DATE_WORDS]),
        fillers: unique([...COMMON_FILLERS, "it's", 'it', 'is']),
      };
    case 'email':
      return { ...base, mode: 'open', words: unique([...LETTERS, ...EMAIL_WORDS, ...NUMBER_WORDS]), fillers: COMMON_FILLERS };
    default:
      return { ...base, mode: 'open', words: [], fillers: COMMON_FILLERS };
  }
}

/**
 * The grammar for one field of a form (by property name), or for the whole form when `field`
 * is absent: every field's words together, in the loosest mode any field needs. Throws a
 * `FormError` for an unusable schema, and an Error for a field the form does not ask.
 */
export function grammarForSchema(parameters: unknown, field?: string, options: FieldOptions = {}): FormGrammar {
  const fields = formFields(parameters, options);
  if (field !== undefined) {
    const wanted = fields.find((f) => f.name === field);
    if (wanted === undefined) throw new Error(`The form does not ask for "${field}"`);
    return grammarForField(wanted);
  }
  const grammars = fields.map(grammarForField);
  const mode: GrammarMode = grammars.some((g) => g.mode === 'open') ? 'open' : grammars.some((g) => g.mode === 'sequence') ? 'sequence' : 'phrases';
  return {
    field: null,
    mode,
    phrases: mode === 'phrases' ? unique(grammars.flatMap((g) => g.phrases)) : [],
    words: unique(grammars.flatMap((g) => g.words)),
    fillers: unique(grammars.flatMap((g) => g.fillers)),
  };
}

export interface JsgfOptions {
  /** Whether the recogniser's dictionary has a word; words it lacks (and phrases using them) are left out. */
  known?: (word: string) => boolean;
  /** The grammar's name (default `form`). */
  name?: string;
}

// Characters JSGF reserves; a word containing one cannot appear unquoted.
const JSGF_WORD = /^[^\s;=|*+<>()[\]{}/"\\#!]+$/u;

/**
 * A JSGF grammar for `grammar`, or null when there is none to give (`open` mode, or nothing the
 * dictionary knows). Phrases: one phrase with optional fillers around it. Sequences: one or more
 * words, fillers allowed anywhere.
 */
export function formGrammarJsgf(grammar: FormGrammar, options: JsgfOptions = {}): string | null {
  if (grammar.mode === 'open') return null;
  const known = options.known ?? (() => true);
  const usable = (word: string): boolean => JSGF_WORD.test(word) && known(word);
  const fillers = unique(grammar.fillers.flatMap((f) => phraseWords(f, known))).filter(usable);
  const name = (options.name ?? 'form').replace(/[^\w]/g, '_');
  const lines = ['#JSGF V1.0;', `grammar ${name};`];
  if (fillers.length > 0) lines.push(`<filler> = ${fillers.join(' | ')};`);
  const filler = fillers.length > 0 ? '<filler>* ' : '';
  if (grammar.mode === 'phrases') {
    const phrases = unique(grammar.phrases
      .map((p) => phraseWords(p, known))
      .filter((words) => words.length > 0 && words.every(usable))
      .map((words) => words.join(' ')));
    if (phrases.length === 0) return null;
    lines.push(`<answer> = ${phrases.map((p) => `( ${p} )`).join(' | ')};`);
    lines.push(`public <utterance> = ${filler}<answer>${fillers.length > 0 ? ' <filler>*' : ''};`);
  } else {
    const words = grammar.words.filter(usable);
    if (words.length === 0) return null;
    lines.push(`<word> = ${words.join(' | ')};`);
    lines.push(`public <utterance> = ${fillers.length > 0 ? '( <word> | <filler> )* <word> ( <word> | <filler> )*' : '<word>+'};`);
  }
  return `${lines.join('\n')}\n`;
}
