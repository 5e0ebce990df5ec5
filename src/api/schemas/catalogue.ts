/** Every request body Switchboard validates, by name, with its HTTP method and top-level defaults. */
import { aiAssistantAddMessagesSchema, aiAssistantStartSchema, aiAssistantStopSchema, gatherUsingAiSchema } from './ai.js';
import { applicationCreateSchema, applicationUpdateSchema } from './applications.js';
import { answerSchema, clientStateUpdateSchema, dialSchema, hangupSchema, sendDtmfSchema } from './calls.js';
import type { JsonSchema } from './common.js';
import { gatherSchema, gatherStopSchema, gatherUsingAudioSchema, gatherUsingSpeakSchema } from './gather.js';
import { playbackStartSchema, playbackStopSchema, speakSchema } from './media.js';
import { recordPauseSchema, recordResumeSchema, recordStartSchema, recordStopSchema } from './recording.js';

export interface ActionSchema {
  method: 'POST' | 'PUT';
  schema: JsonSchema;
  /** Top-level defaults from the contract, for the engine to fall back on. */
  defaults: Readonly<Record<string, unknown>>;
}

const ACTIONS = {
  answer: answerSchema,
  hangup: hangupSchema,
  gather: gatherSchema,
  gather_stop: gatherStopSchema,
  gather_using_audio: gatherUsingAudioSchema,
  gather_using_speak: gatherUsingSpeakSchema,
  gather_using_ai: gatherUsingAiSchema,
  ai_assistant_start: aiAssistantStartSchema,
  ai_assistant_stop: aiAssistantStopSchema,
  ai_assistant_add_messages: aiAssistantAddMessagesSchema,
  playback_start: playbackStartSchema,
  playback_stop: playbackStopSchema,
  speak: speakSchema,
  record_start: recordStartSchema,
  record_stop: recordStopSchema,
  record_pause: recordPauseSchema,
  record_resume: recordResumeSchema,
  send_dtmf: sendDtmfSchema,
  client_state_update: clientStateUpdateSchema,
} satisfies Record<string, JsonSchema>;

export type ActionName = keyof typeof ACTIONS;
export type SchemaName = ActionName | 'dial' | 'application_create' | 'application_update';

const PUT_ACTIONS: ReadonlySet<string> = new Set<ActionName>(['client_state_update']);

/** The top-level `default` of each property, deep-frozen so callers cannot corrupt them. */
export function defaultsOf(schema: JsonSchema): Readonly<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [name, prop] of Object.entries(schema.properties ?? {})) {
    if (prop.default !== undefined) out[name] = deepFreeze(structuredClone(prop.default));
  }
  return Object.freeze(out);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

export const actionSchemas: Readonly<Record<ActionName, ActionSchema>> = Object.freeze(
  Object.fromEntries(
    Object.entries(ACTIONS).map(([name, schema]) => [
      name,
      { method: PUT_ACTIONS.has(name) ? 'PUT' : 'POST', schema, defaults: defaultsOf(schema) },
    ]),
  ) as Record<ActionName, ActionSchema>,
);

export const actionNames = Object.keys(ACTIONS) as ActionName[];

export function isActionName(name: string): name is ActionName {
  return Object.hasOwn(ACTIONS, name);
}

/** Whether `/calls/{id}/actions/{name}` is a validated action reached with this method. */
export function hasAction(name: string, method: 'POST' | 'PUT'): boolean {
  return isActionName(name) && actionSchemas[name].method === method;
}

export const dialDefaults = defaultsOf(dialSchema);
export const applicationDefaults = defaultsOf(applicationCreateSchema);

export interface RequestSchema {
  schema: JsonSchema;
  /** Defaults filled into the validated copy; empty for PATCH, where absent means "unchanged". */
  defaults: Readonly<Record<string, unknown>>;
}

export const requestSchemas: Readonly<Record<SchemaName, RequestSchema>> = Object.freeze({
  ...Object.fromEntries(actionNames.map((n) => [n, { schema: actionSchemas[n].schema, defaults: actionSchemas[n].defaults }])),
  dial: { schema: dialSchema, defaults: dialDefaults },
  application_create: { schema: applicationCreateSchema, defaults: applicationDefaults },
  application_update: { schema: applicationUpdateSchema, defaults: Object.freeze({}) },
} as Record<SchemaName, RequestSchema>);

export { applicationCreateSchema, applicationUpdateSchema, dialSchema };
