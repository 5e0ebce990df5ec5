/**
 * What the form says: a question per field, phrased from the property's `description` (or its
 * name), and the clarifying prompts when an answer did not work.
 *
 * Descriptions come in three shapes, each asked its own way:
 * - a question ("What is your account number?") or an instruction ("Enter your PIN"): said as
 *   it is;
 * - for a yes/no field, "Whether …": turned into a question ("Whether you confirm the order" →
 *   "Do you confirm the order?", "Whether the order is a gift" → "Is the order a gift?"), or
 *   "Please tell me whether …" when it cannot be;
 * - a noun phrase ("Your account number", "The delivery date", "Account number"): "Please say
 *   your account number." ("the" is added when it starts with no determiner). Without a
 *   description the property name is used: `account_number` → "your account number".
 */
import { choiceLabel } from './choices.js';
import type { FormField } from './fields.js';
import { spokenList } from './text.js';

export type Failure =
  /** Nothing was said (silence, or only noise). */
  | { reason: 'no_answer' }
  | { reason: 'not_understood' }
  /** Several choices fit equally well (their labels). */
  | { reason: 'ambiguous'; options: string[] }
  /** Several numbers were said where one was wanted. */
  | { reason: 'several_numbers' }
  /** The answer was understood but the schema does not allow it. */
  | { reason: 'rejected'; heard: unknown };

const IMPERATIVES = new Set([
  'please', 'enter', 'say', 'tell', 'provide', 'give', 'state', 'spell', 'choose', 'select', 'pick', 'type', 'key',
  'confirm', 'describe', 'name', 'specify', 'indicate', 'let',
]);
const QUESTION_WORDS = new Set([
  'what', 'which', 'who', 'whom', 'whose', 'when', 'where', 'why', 'how', 'is', 'are', 'was', 'were', 'do', 'does',
  'did', 'can', 'could', 'will', 'would', 'should', 'shall', 'may', 'have', 'has', 'had',
]);
const DETERMINERS = new Set(['your', 'the', 'a', 'an', 'this', 'that', 'their', 'his', 'her', 'its', 'our', 'which', 'any', 'some']);
const AUXILIARIES = new Set(['is', 'are', 'was', 'were', 'can', 'could', 'will', 'would', 'should', 'has', 'have', 'had', 'does', 'did', 'may', 'must']);
/** "Whether you <verb>": how the question starts for each verb form. */
const YOU_FORMS: Readonly<Record<string, string>> = {
  are: 'Are you', were: 'Were you', can: 'Can you', could: 'Could you', will: 'Will you',
  would: 'Would you', should: 'Should you', did: 'Did you', have: 'Do you have', had: 'Did you have',
};
/** "Whether you'd like …", "Whether you've paid …". */
const YOU_CONTRACTIONS: Readonly<Record<string, string>> = {
  "you're": 'Are you', "you'd": 'Would you', "you've": 'Have you', "you'll": 'Will you',
};

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The first sentence of a description, without its final stop. */
function firstSentence(text: string): string {
  const sentence = /^(.+?[.!?])(\s|$)/.exec(text)?.[1] ?? text;
  return sentence.trim();
}

function words(text: string): string[] {
  return text.split(/\s+/).filter((w) => w !== '');
}

/** A property name as words: `account_number`, `accountNumber` → "account number". */
export function humanise(name: string): string {
  return name.replace(/(\p{Ll})(\p{Lu})/gu, '$1 $2').replace(/[_\-.]+/g, ' ').trim().toLowerCase();
}

/** Lower-cases the first letter of a phrase unless it starts an acronym ("PIN", "ZIP code"). */
function lowerFirst(text: string): string {
  return /^\p{Lu}{2}/u.test(text) ? text : text.charAt(0).toLowerCase() + text.slice(1);
}

/** What the field is, as a noun phrase for prompts: "your account number", "the delivery date". */
export function topicOf(field: FormField): string {
  const description = field.description === undefined ? undefined : firstSentence(field.description).replace(/[.!]+$/, '');
  if (description === undefined || shapeOf(field) !== 'noun') {
    return `your ${humanise(field.name)}`;
  }
  const phrase = lowerFirst(description);
  const first = words(phrase)[0]?.toLowerCase() ?? '';
  if (first === 'my') return `your ${phrase.slice(3)}`;
  return DETERMINERS.has(first) ? phrase : `the ${phrase}`;
}

type Shape = 'question' | 'instruction' | 'whether' | 'noun';

function shapeOf(field: FormField): Shape {
  if (field.description === undefined) return 'noun';
  const text = firstSentence(field.description);
  const first = words(text)[0]?.toLowerCase().replace(/[^a-z']/g, '') ?? '';
  if (text.endsWith('?')) return 'question';
  if (first === 'whether' || /^(set to )?true (if|when)\b/i.test(text)) return 'whether';
  if (field.kind === 'boolean' && QUESTION_WORDS.has(first)) return 'question';
  if (IMPERATIVES.has(first)) return 'instruction';
  return 'noun';
}

/** "Whether you confirm the order" → "Do you confirm the order?"; null when it cannot be turned. */
function whetherQuestion(description: string): string | null {
  const clause = description.replace(/^(whether|(set to )?true (if|when))\s+/i, '').replace(/[.!?]+$/, '').trim();
  const parts = words(clause);
  const [subject, verb] = [parts[0]?.toLowerCase(), parts[1]?.toLowerCase()];
  if (subject === 'you' && verb !== undefined) {
    const form = YOU_FORMS[verb];
    if (form !== undefined) return `${form} ${parts.slice(2).join(' ')}?`;
    if (verb === 'do' || verb === 'does') return `Do you ${parts.slice(2).join(' ')}?`;
    return `Do you ${parts.slice(1).join(' ')}?`;
  }
  const contracted = YOU_CONTRACTIONS[subject ?? ''];
  if (contracted !== undefined) return `${contracted} ${parts.slice(1).join(' ')}?`;
  // "the order is a gift" → "Is the order a gift?": an auxiliary within the first few words.
  const at = parts.findIndex((w, i) => i > 0 && i <= 4 && AUXILIARIES.has(w.toLowerCase()));
  if (at > 0) {
    const subjectWords = parts.slice(0, at).join(' ');
    return `${capitalise((parts[at] as string).toLowerCase())} ${lowerFirst(subjectWords)} ${parts.slice(at + 1).join(' ')}?`
      .replace(/\s+\?$/, '?');
  }
  return null;
}

function choicesList(field: FormField): string {
  return spokenList((field.choices ?? []).map(choiceLabel));
}

function mentionsYesNo(text: string): boolean {
  return /\byes\b.*\bno\b/i.test(text);
}

function ending(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

/** The question that asks for a field. */
export function questionFor(field: FormField): string {
  const shape = shapeOf(field);
  const description = field.description === undefined ? '' : field.description.trim();
  const skip = field.required ? '' : " If you'd rather not say, say skip.";
  switch (field.kind) {
    case 'boolean': {
      const yesNo = mentionsYesNo(description) ? '' : ' Please say yes or no.';
      if (shape === 'question' && !description.includes('?')) return `${capitalise(description.replace(/[.!]+$/, ''))}?${yesNo}${skip}`;
      if (shape === 'question' || shape === 'instruction') return `${ending(capitalise(description))}${yesNo}${skip}`;
      if (shape === 'whether') {
        const question = whetherQuestion(description);
        if (question !== null) return `${capitalise(question)}${yesNo}${skip}`;
        return `Please tell me ${lowerFirst(description.replace(/^(set to )?true (if|when)/i, 'whether')).replace(/[.!?]+$/, '')}.${yesNo}${skip}`;
      }
      return `Please say yes or no: ${topicOf(field)}?${skip}`;
    }
    case 'choice': {
      const list = choicesList(field);
      if (shape === 'question' || shape === 'instruction') return `${ending(capitalise(description))} Which one: ${list}?${skip}`;
      if (field.description === undefined && !/[a-z]/i.test(field.name)) return `Which one: ${list}?${skip}`;
      return `What is ${topicOf(field)}: ${list}?${skip}`;
    }
    default:
      if (shape === 'question' || shape === 'instruction') return `${ending(capitalise(description))}${skip}`;
      return `Please say ${topicOf(field)}.${skip}`;
  }
}

/** How to answer a field, for prompts after an answer that did not work. */
function hint(field: FormField): string {
  const topic = topicOf(field);
  switch (field.kind) {
    case 'integer': case 'digits':
      return `Please say ${topic} one digit at a time, or type it on your keypad and then press the hash key.`;
    case 'number':
      return `Please say ${topic} as a number, or type it on your keypad and then press the hash key.`;
    case 'boolean':
      return 'Please just say yes or no. You can also press 1 for yes or 2 for no.';
    case 'choice':
      return `Please say one of these: ${choicesList(field)}.`;
    case 'date':
      return `Please say ${topic} as a date, for example March fifth, twenty twenty four.`;
    case 'email':
      return `Please say ${topic} like this: john dot smith at example dot com.`;
    default:
      return `Please say ${topic} again.`;
  }
}

function numberLimit(schema: Record<string, unknown>): string | null {
  const num = (key: string): number | undefined => (typeof schema[key] === 'number' ? (schema[key] as number) : undefined);
  const [min, max, above, below] = [num('minimum'), num('maximum'), num('exclusiveMinimum'), num('exclusiveMaximum')];
  const multiple = num('multipleOf');
  const parts: string[] = [];
  if (min !== undefined && max !== undefined) parts.push(`between ${min} and ${max}`);
  else if (min !== undefined) parts.push(`at least ${min}`);
  else if (max !== undefined) parts.push(`at most ${max}`);
  if (above !== undefined) parts.push(`more than ${above}`);
  if (below !== undefined) parts.push(`less than ${below}`);
  if (multiple !== undefined) parts.push(`a multiple of ${multiple}`);
  return parts.length === 0 ? null : `must be ${spokenList(parts, 'and')}`;
}

function lengthLimit(field: FormField): string | null {
  const { minLength, maxLength } = field.schema as { minLength?: unknown; maxLength?: unknown };
  const unit = field.kind === 'digits' ? 'digits' : 'characters';
  const min = typeof minLength === 'number' ? minLength : undefined;
  const max = typeof maxLength === 'number' ? maxLength : undefined;
  if (min !== undefined && max !== undefined) return min === max ? `must be ${min} ${unit} long` : `must be ${min} to ${max} ${unit} long`;
  if (min !== undefined) return `must be at least ${min} ${unit} long`;
  if (max !== undefined) return `must be at most ${max} ${unit} long`;
  return null;
}

/** Why a value was refused, from the schema's limits: "must be between 1 and 10"; null when none is known. */
export function limitOf(field: FormField): string | null {
  if (field.kind === 'integer' || field.kind === 'number') return numberLimit(field.schema);
  return lengthLimit(field);
}

/** The prompt after an answer that did not work: what went wrong, then how to answer. */
export function retryPromptFor(field: FormField, failure: Failure): string {
  const topic = topicOf(field);
  switch (failure.reason) {
    case 'no_answer':
      return `Sorry, I didn't hear anything. ${questionFor(field)}`;
    case 'ambiguous':
      return `Sorry, did you mean ${spokenList(failure.options)}?`;
    case 'several_numbers':
      return `Sorry, I heard more than one number. Please say just ${topic}.`;
    case 'rejected': {
      const limit = limitOf(field);
      const heard = typeof failure.heard === 'number' ? `I heard ${failure.heard}, but ` : '';
      if (limit !== null) return `Sorry, ${heard}${topic} ${limit}. Please say ${topic} again.`;
      return `Sorry, ${heard === '' ? 'that ' : `${heard}that `}doesn't look like ${topic}. ${hint(field)}`;
    }
    default:
      return `Sorry, I didn't catch that. ${hint(field)}`;
  }
}
