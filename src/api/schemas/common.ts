/**
 * Building blocks shared by the Call Control request schemas.
 *
 * Policy on nested objects: only the top level of a request body is closed. Nested shapes
 * (assistant, voice_settings, transcription configs, …) are deep discriminated unions in the
 * OpenAPI spec, and the SDK has already drifted from it there (extra voice providers,
 * transcription engines and models). So nested objects type their stable key fields and leave
 * provider/model names open rather than reject something a newer SDK sends.
 */

export type JsonType = 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array' | 'null';

/** The draft-07 subset our schemas use. A type alias (not an interface) so Ajv accepts it as-is. */
export type JsonSchema = {
  type?: JsonType | JsonType[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  enum?: readonly unknown[];
  const?: unknown;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  format?: string;
  anyOf?: JsonSchema[];
  allOf?: JsonSchema[];
  if?: JsonSchema;
  then?: JsonSchema;
  /** Human wording for a pattern or range failure; an annotation only, registered with Ajv. */
  'x-detail'?: string;
};

/** Standard alphabet; padding optional, but a lone trailing sextet can never be valid. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;

export function isBase64(value: string): boolean {
  return BASE64.test(value);
}

/** A closed top-level request body: unknown fields are reported, see validate.ts. */
export function requestBody(properties: Record<string, JsonSchema>, required: string[] = []): JsonSchema {
  const schema: JsonSchema = { type: 'object', properties, additionalProperties: false };
  if (required.length > 0) schema.required = required;
  return schema;
}

export const str: JsonSchema = { type: 'string' };
export const bool = (dflt?: boolean): JsonSchema => (dflt === undefined ? { type: 'boolean' } : { type: 'boolean', default: dflt });
export const int = (limits: { min?: number; max?: number; default?: number } = {}): JsonSchema => {
  const s: JsonSchema = { type: 'integer' };
  if (limits.min !== undefined) s.minimum = limits.min;
  if (limits.max !== undefined) s.maximum = limits.max;
  if (limits.default !== undefined) s.default = limits.default;
  return s;
};
export const stringEnum = (values: readonly string[], dflt?: string): JsonSchema =>
  dflt === undefined ? { type: 'string', enum: values } : { type: 'string', enum: values, default: dflt };
export const obj = (properties: Record<string, JsonSchema> = {}, required: string[] = []): JsonSchema => {
  const s: JsonSchema = { type: 'object', properties };
  if (required.length > 0) s.required = required;
  return s;
};
export const arrayOf = (items: JsonSchema, dflt?: unknown[]): JsonSchema =>
  dflt === undefined ? { type: 'array', items } : { type: 'array', items, default: dflt };

export const clientState: JsonSchema = { type: 'string', format: 'base64' };
export const commandId: JsonSchema = str;
/** Every call action and dial accept these two. */
export const commandFields = { client_state: clientState, command_id: commandId };

export const customHeaders = arrayOf(obj({ name: str, value: str }, ['name', 'value']));
export const sipHeaders = arrayOf(obj({ name: stringEnum(['User-to-User']), value: str }, ['name', 'value']));

export const soundModifications = obj({
  octaves: { type: 'number' },
  pitch: { type: 'number' },
  semitone: { type: 'number' },
  track: { type: 'string', default: 'outbound' },
});

export const deepfakeDetection = obj({
  enabled: bool(false),
  rtp_timeout: int({ min: 5, max: 120, default: 30 }),
  timeout: int({ min: 5, max: 60, default: 15 }),
}, ['enabled']);

/** Map of event type to retry delays; Telnyx allows at most five retries per event. */
export const webhookRetriesPolicies: JsonSchema = {
  type: 'object',
  additionalProperties: obj({ retries_ms: { type: 'array', items: int({ min: 0 }), maxItems: 5 } }),
};

/** The spec maps event type to one URL; the SDK types the value as a list of URLs. Take both. */
export const webhookUrls: JsonSchema = {
  type: 'object',
  additionalProperties: { anyOf: [str, arrayOf(str)] },
};

/** Provider settings for TTS; the `type` discriminator stays open because providers keep being added. */
export const voiceSettings = obj({ type: str }, ['type']);

/** Integer 1–100, or `infinity`. The SDK types it `string | number`, so numeric strings pass too. */
export const loopCount: JsonSchema = {
  anyOf: [int({ min: 1, max: 100 }), { type: 'string', pattern: '^(?:infinity|[1-9][0-9]?|100)$' }],
  default: 1,
  'x-detail': "The value must be an integer between 1 and 100, or the string 'infinity'.",
};

/** A loop value that passed validation, as a play count (Infinity for 'infinity'). */
export function loopTimes(value: unknown): number {
  if (value === 'infinity') return Infinity;
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 ? n : 1;
}

const externalLlm = obj({
  authentication_method: { type: 'string', enum: ['token', 'certificate'], default: 'token' },
  base_url: str,
  certificate_ref: str,
  forward_metadata: bool(false),
  llm_api_key_ref: str,
  model: str,
  token_retrieval_url: str,
});

/** `assistant` on dial, answer and ai_assistant_start: a stored assistant plus per-call overrides. */
export const callAssistant = obj({
  id: str,
  dynamic_variables: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } },
  external_llm: externalLlm,
  fallback_config: obj({ external_llm: externalLlm, llm_api_key_ref: str, model: str }),
  greeting: { type: 'string', maxLength: 3000 },
  instructions: str,
  llm_api_key_ref: str,
  mcp_servers: arrayOf(obj()),
  model: str,
  name: str,
  observability_settings: obj(),
  openai_api_key_ref: str,
  tools: arrayOf(obj({ type: str })),
  voice_settings: voiceSettings,
}, ['id']);

const relayInterruptible = stringEnum(['none', 'any', 'speech', 'dtmf'], 'any');

export const conversationRelayConfig = obj({
  url: { type: 'string', pattern: '^wss?://', 'x-detail': 'The value must be a ws:// or wss:// URL.' },
  custom_parameters: obj(),
  dtmf_detection: bool(false),
  greeting: str,
  interruptible: relayInterruptible,
  interruptible_greeting: relayInterruptible,
  interruption_settings: obj({ enable: bool() }),
  language: { type: 'string', default: 'en' },
  languages: arrayOf(obj({ language: str }, ['language'])),
  provider: str,
  structured_provider: obj(),
  transcription_engine: str,
  transcription_engine_config: obj(),
  tts_provider: str,
  voice: { type: 'string', default: 'Telnyx.KokoroTTS.af' },
  voice_settings: voiceSettings,
}, ['url']);

/** `transcription_config` on dial and answer (same body as transcription_start). */
export const transcriptionStartConfig = obj({
  client_state: clientState,
  command_id: commandId,
  transcription_engine: { type: 'string', default: 'Google' },
  transcription_engine_config: obj(),
  transcription_tracks: { type: 'string', default: 'inbound' },
});

/** Speech-to-text for AI assistants; model names change too often to pin as an enum. */
export const aiTranscription = obj({
  language: { type: 'string', default: 'auto' },
  model: { type: 'string', default: 'distil-whisper/distil-large-v2' },
});

export const interruptionSettings = obj({ enable: bool(true) });

const MESSAGE_ROLES = ['user', 'assistant', 'tool', 'system', 'developer'];

/** Chat message for ai_assistant_start / ai_assistant_add_messages, discriminated by `role`. */
export const aiMessage: JsonSchema = {
  type: 'object',
  properties: {
    role: stringEnum(MESSAGE_ROLES),
    content: str,
    metadata: obj(),
    tool_call_id: str,
    tool_calls: arrayOf(obj({
      id: str,
      type: stringEnum(['function']),
      function: obj({ name: str }, ['name']),
    }, ['id', 'type', 'function'])),
  },
  required: ['role'],
  allOf: [
    { if: roleIs(['user', 'system', 'developer']), then: { required: ['content'] } },
    { if: roleIs(['tool']), then: { required: ['content', 'tool_call_id'] } },
  ],
};

function roleIs(roles: string[]): JsonSchema {
  return { properties: { role: { enum: roles } }, required: ['role'] };
}

export const aiParticipant = obj({
  id: str,
  role: stringEnum(['user']),
  name: str,
  on_hangup: stringEnum(['continue_conversation', 'end_conversation'], 'continue_conversation'),
}, ['id', 'role']);

/** Digits a caller may press or Switchboard may play: 0-9, A-D, * and #. */
export const DTMF_DIGITS = '0-9A-D*#';
