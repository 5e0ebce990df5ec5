/**
 * The offline form engine behind `gather_using_ai` when no language model is configured: asks
 * for the fields of a JSON Schema by voice and understands the answers without one.
 */
export { FormEngine, formLanguageSupported } from './engine.js';
export type { FormEngineOptions, FormMessage, FormOutcome, FormStatus, FormTurn } from './engine.js';
export { FormError, fieldKind, formFields } from './fields.js';
export type { FieldKind, FieldOptions, FormErrorCode, FormField, JsonSchemaObject } from './fields.js';
export { formGrammarJsgf, grammarForField, grammarForSchema } from './grammar.js';
export type { FormGrammar, GrammarMode, JsgfOptions } from './grammar.js';
export { questionFor, retryPromptFor } from './questions.js';
export type { Failure } from './questions.js';
export { interpretKeys, interpretSpeech } from './answers.js';
export type { AnswerContext, Interpretation } from './answers.js';
export { findNumbers, parseSpokenNumber } from './numbers.js';
export type { SpokenNumber } from './numbers.js';
export { parseYesNo } from './yes-no.js';
export { choiceForKeys, matchChoice } from './choices.js';
export type { ChoiceMatch } from './choices.js';
export { calendarDay, parseSpokenDate } from './dates.js';
export type { CalendarDay, DateOptions } from './dates.js';
export { parseSpokenEmail } from './email.js';
