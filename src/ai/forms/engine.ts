/**
 * The offline form engine: `gather_using_ai` without a language model. It asks for each field
 * of the `parameters` schema in turn, understands the answers by the field's type (see
 * answers.ts and the parsers it uses), asks again when an answer does not work, and ends with a
 * result checked against the schema, the way `call.ai_gather.ended` reports it.
 *
 * Pure logic: no audio, timers or I/O. The caller speaks each turn's `say`, feeds back what the
 * caller said (`hear`, the recogniser's text; `hear('')` for silence or a response timeout) or
 * keyed (`digits`, or `pressKey` one key at a time), and stops at `done`.
 *
 * Turn by turn:
 * - `start()` says the greeting (when given) and the first question, in one turn.
 * - An understood answer moves on to the next question; after the last one the form is done.
 * - An answer that is not understood, or that the schema refuses, is asked again with a prompt
 *   saying what went wrong, up to `maxRetries` times per field (default 2: three tries in all).
 *   A required field still not understood ends the form `invalid`, with the values collected so
 *   far; an optional one is left out.
 * - "Repeat that" / "pardon?" repeats the question without using up a try (a few times).
 * - An optional field can be skipped ("skip", "I don't know").
 * - Every `say` is one assistant message in the history, every non-empty answer one user
 *   message (keyed answers as the keys, without the final `#`), after any `messageHistory`
 *   given at the start (which is context only: answers in it are not read).
 */
import { interpretKeys, interpretSpeech, type AnswerContext, type Interpretation } from './answers.js';
import { calendarDay } from './dates.js';
import { FormError, formFields, type FieldOptions, type FormField, type JsonSchemaObject } from './fields.js';
import { grammarForField, type FormGrammar } from './grammar.js';
import { questionFor, retryPromptFor } from './questions.js';
import { HESITATIONS, tokenize } from './text.js';
import { compileCheck, compilePropertyCheck, type Check } from './validate.js';

export interface FormMessage {
  role: 'assistant' | 'user';
  content: string;
}

export type FormStatus = 'valid' | 'invalid';

export interface FormOutcome {
  /** `valid` when every required field was collected and the result satisfies the schema. */
  status: FormStatus;
  /** The values collected, by property name, in the schema's property order. */
  result: Record<string, unknown>;
  messageHistory: FormMessage[];
  /** Why the result is invalid (missing fields, schema errors); empty when valid. For logs. */
  errors: string[];
}

/** What to do next: say something and wait for an answer, or finish (after saying `say`, if any). */
export type FormTurn =
  | { say: string; done?: undefined }
  | { done: FormOutcome; say?: string };

export interface FormEngineOptions extends FieldOptions {
  /** Said before the first question (`greeting` of gather_using_ai). */
  greeting?: string;
  /** Said when the form ends, valid or not (`gather_ended_speech`); part of the last turn. */
  endedSpeech?: string;
  /** Times a field is asked again after an answer that did not work. Default 2. */
  maxRetries?: number;
  /** Language of the conversation, a BCP 47 tag. English only for now; default `en`. */
  language?: string;
  /** Earlier conversation, kept at the start of the history. */
  messageHistory?: readonly FormMessage[];
  /** Milliseconds since the epoch: "today" for relative dates. Default `Date.now`. */
  now?: () => number;
  /** Time zone that "today" is in (IANA name). Default UTC. */
  timeZone?: string;
  /**
   * How all-numeric dates (03/05/2024) and keyed dates are read. Default: month first for `en`
   * and `en-US`, day first for other English variants.
   */
  dateOrder?: 'mdy' | 'dmy';
}

const REPEAT_REQUESTS = new Set([
  'repeat', 'repeat that', 'repeat it', 'repeat the question', 'can you repeat that', 'could you repeat that',
  'can you repeat', 'could you repeat', 'say that again', 'say again', 'can you say that again', 'pardon', 'pardon me',
  'sorry what', 'what', 'come again', "i didn't catch that", 'what was that', 'again', 'one more time', 'huh',
]);
const SKIP_REQUESTS = new Set([
  'skip', 'skip it', 'skip that', 'skip this', 'skip this one', 'pass', 'next', 'next question', "i don't know",
  "don't know", 'no idea', 'not sure', "i'm not sure", 'none', "i'd rather not say", 'rather not say',
  'prefer not to say', "i'd prefer not to say", "i don't have one", 'no comment', 'dunno',
]);
/** How many times a question is repeated on request before such requests count as failed answers. */
const MAX_REPEATS = 3;

function normalised(text: string): string {
  return tokenize(text).filter((t) => !HESITATIONS.has(t) && t !== 'please').join(' ');
}

/** Whether the form engine can hold a conversation in `language` (English only, for now). */
export function formLanguageSupported(language: string): boolean {
  return /^en(?:[-_]|$)/i.test(language);
}

export class FormEngine {
  /** The fields asked, in order. */
  readonly fields: readonly FormField[];
  private readonly parameters: JsonSchemaObject;
  private readonly options: FormEngineOptions;
  private readonly maxRetries: number;
  private readonly checkResult: Check;
  private readonly checks = new Map<string, Check>();
  private readonly values = new Map<string, unknown>();
  private readonly messages: FormMessage[];
  private index = 0;
  private failures = 0;
  private repeats = 0;
  private state: 'new' | 'asking' | 'done' = 'new';
  private ended: FormOutcome | null = null;
  private failedRequired: string | null = null;
  private keyBuffer = '';

  /** Throws a `FormError` for a schema it cannot run or a language it cannot speak. */
  constructor(parameters: JsonSchemaObject, options: FormEngineOptions = {}) {
    const language = options.language ?? 'en';
    if (!formLanguageSupported(language)) {
      throw new FormError('unsupported_language', `the offline form engine speaks English only, not "${language}"`);
    }
    this.fields = formFields(parameters, options);
    this.parameters = parameters;
    this.options = options;
    this.maxRetries = Math.max(0, Math.floor(options.maxRetries ?? 2));
    try {
      this.checkResult = compileCheck(parameters);
    } catch (error) {
      throw new FormError('invalid_schema', `parameters is not a usable JSON Schema: ${(error as Error).message}`);
    }
    this.messages = (options.messageHistory ?? []).map((m) => ({ role: m.role, content: m.content }));
  }

  /** Opens the conversation: the greeting and the first question (or `done` when nothing needs asking). */
  start(): FormTurn {
    if (this.state !== 'new') throw new Error('The form has already started');
    this.state = 'asking';
    this.skipUnasked();
    const greeting = this.options.greeting?.trim() ?? '';
    if (this.index >= this.fields.length) return this.finish(greeting);
    const question = questionFor(this.current());
    return this.say(greeting === '' ? question : `${greeting} ${question}`);
  }

  /** A spoken answer, as the recogniser wrote it; '' for silence or no answer in time. */
  hear(utterance: string): FormTurn {
    this.expectAsking();
    this.keyBuffer = '';
    const said = utterance.trim();
    if (said !== '') this.messages.push({ role: 'user', content: said });
    const field = this.current();
    const request = normalised(said);
    if (REPEAT_REQUESTS.has(request) && this.repeats < MAX_REPEATS) {
      this.repeats++;
      return this.say(questionFor(field));
    }
    if (!field.required && SKIP_REQUESTS.has(request)) return this.advance();
    return this.answer(field, interpretSpeech(field, said, this.context(field)));
  }

  /**
   * A keyed answer: the keys up to the first `#` (the rest is ignored). Keys given to
   * `pressKey` before are part of it.
   */
  digits(keys: string): FormTurn {
    this.expectAsking();
    const entry = (this.keyBuffer + keys).split('#')[0] ?? '';
    this.keyBuffer = '';
    if (entry !== '') this.messages.push({ role: 'user', content: entry });
    const field = this.current();
    return this.answer(field, interpretKeys(field, entry, this.context(field)));
  }

  /**
   * One key at a time, as DTMF arrives. Returns null while the entry goes on: until `#` for
   * numbers and text, after a single key for yes/no (1 or 2) and for choices of fewer than ten.
   * An inter-digit timeout ends an entry with `digits('')`.
   */
  pressKey(key: string): FormTurn | null {
    this.expectAsking();
    if (key === '#') return this.digits('#');
    this.keyBuffer += key;
    const field = this.current();
    const singleKey = field.kind === 'boolean'
      || (field.kind === 'choice' && (field.choices ?? []).length < 10 && !(field.choices ?? []).some((c) => typeof c === 'number'));
    return singleKey ? this.digits('') : null;
  }

  /** Ends the form now (hang-up, gather stopped): `valid` only if everything required is in. */
  stop(): FormOutcome {
    if (this.ended !== null) return this.ended;
    this.state = 'asking';
    const turn = this.finish('');
    return (turn as { done: FormOutcome }).done;
  }

  /** The values understood so far (for `call.ai_gather.partial_results`). */
  partialResult(): Record<string, unknown> {
    return this.ordered();
  }

  /** The conversation so far, oldest first. */
  history(): FormMessage[] {
    return this.messages.map((m) => ({ ...m }));
  }

  /** The field being asked; null before `start` and after the end. */
  currentField(): FormField | null {
    return this.state === 'asking' ? (this.fields[this.index] ?? null) : null;
  }

  /** What the recogniser should expect for the answer now awaited; null when none is. */
  grammar(): FormGrammar | null {
    const field = this.currentField();
    return field === null ? null : grammarForField(field);
  }

  /**
   * What the form says next if the answer now awaited is understood: the next question, or the
   * closing words. Speech can be made ahead from it while the caller answers.
   */
  upcoming(): string[] {
    if (this.state !== 'asking') return [];
    const next = this.fields.slice(this.index + 1).find(isAsked);
    const closing = this.options.endedSpeech?.trim() ?? '';
    if (next) return [questionFor(next)];
    return closing === '' ? [] : [closing];
  }

  get finished(): boolean {
    return this.state === 'done';
  }

  /** The outcome once the form is done; null before. */
  outcome(): FormOutcome | null {
    return this.ended;
  }

  private expectAsking(): void {
    if (this.state === 'new') throw new Error('The form has not started: call start() first');
    if (this.state === 'done') throw new Error('The form has ended');
  }

  private current(): FormField {
    return this.fields[this.index] as FormField;
  }

  private context(field: FormField): AnswerContext {
    return { today: this.today(), dateOrder: this.dateOrder(), check: this.checkFor(field) };
  }

  private today(): ReturnType<typeof calendarDay> {
    return calendarDay((this.options.now ?? Date.now)(), this.options.timeZone ?? 'UTC');
  }

  private dateOrder(): 'mdy' | 'dmy' {
    if (this.options.dateOrder !== undefined) return this.options.dateOrder;
    return /^en(?:[-_]us)?$/i.test(this.options.language ?? 'en') ? 'mdy' : 'dmy';
  }

  private checkFor(field: FormField): Check {
    let check = this.checks.get(field.name);
    if (check === undefined) {
      check = compilePropertyCheck(this.parameters, field.schema);
      this.checks.set(field.name, check);
    }
    return check;
  }

  private say(text: string): FormTurn {
    this.messages.push({ role: 'assistant', content: text });
    return { say: text };
  }

  private answer(field: FormField, interpretation: Interpretation): FormTurn {
    if (interpretation.ok) {
      this.values.set(field.name, interpretation.value);
      return this.advance();
    }
    this.failures++;
    if (this.failures > this.maxRetries) {
      if (field.required) {
        this.failedRequired = field.name;
        return this.finish(this.options.endedSpeech?.trim() ?? '');
      }
      return this.advance();
    }
    return this.say(retryPromptFor(field, interpretation.failure));
  }

  private advance(): FormTurn {
    this.index++;
    this.failures = 0;
    this.repeats = 0;
    this.keyBuffer = '';
    this.skipUnasked();
    if (this.index >= this.fields.length) return this.finish(this.options.endedSpeech?.trim() ?? '');
    return this.say(questionFor(this.current()));
  }

  /** Moves past fields that are not asked, filling in those with a single allowed value. */
  private skipUnasked(): void {
    for (let field = this.fields[this.index]; field !== undefined && !isAsked(field); field = this.fields[this.index]) {
      if (field.kind === 'choice' && field.choices?.length === 1) this.values.set(field.name, field.choices[0]);
      this.index++;
    }
  }

  private ordered(): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    for (const field of this.fields) if (this.values.has(field.name)) result[field.name] = this.values.get(field.name);
    return result;
  }

  private finish(closing: string): FormTurn {
    const result = this.ordered();
    const errors: string[] = [];
    if (this.failedRequired !== null) errors.push(`${this.failedRequired} was not understood`);
    for (const field of this.fields) {
      if (field.required && !this.values.has(field.name) && field.name !== this.failedRequired) {
        errors.push(field.kind === 'unsupported' ? `${field.name} cannot be collected by voice` : `${field.name} was not collected`);
      }
    }
    // Ajv's errors repeat the missing fields already named; they matter when nothing else is wrong.
    const checked = this.checkResult(result);
    if (!checked.ok && errors.length === 0) errors.push(...checked.errors);
    if (closing !== '') this.messages.push({ role: 'assistant', content: closing });
    this.state = 'done';
    this.keyBuffer = '';
    this.ended = { status: errors.length === 0 ? 'valid' : 'invalid', result, messageHistory: this.history(), errors: unique(errors) };
    return closing === '' ? { done: this.ended } : { done: this.ended, say: closing };
  }
}

/** Fields with a single allowed value need no question; unsupported ones cannot be collected by voice. */
function isAsked(field: FormField): boolean {
  return !(field.kind === 'choice' && field.choices?.length === 1) && field.kind !== 'unsupported';
}

function unique(items: readonly string[]): string[] {
  return [...new Set(items)];
}
