/** Request bodies for the AI family: gather_using_ai, ai_assistant_start, ai_assistant_stop, ai_assistant_add_messages. */
import {
  aiMessage, aiParticipant, aiTranscription, arrayOf, bool, callAssistant, commandFields, int, interruptionSettings,
  obj, stringEnum, requestBody, str, voiceSettings,
} from './common.js';
import type { JsonSchema } from './common.js';
import { GOOGLE_TRANSCRIPTION_LANGUAGES } from './languages.js';

const DEFAULT_AI_VOICE = 'Telnyx.KokoroTTS.af';
const spokenText: JsonSchema = { type: 'string', maxLength: 3000 };

/** gather_using_ai takes a lighter assistant shape than the stored-assistant one used elsewhere. */
const gatherAssistant = obj({
  instructions: str,
  model: { type: 'string', default: 'Qwen/Qwen3-235B-A22B' },
  openai_api_key_ref: str,
  tools: arrayOf(obj({ type: str })),
});

export const gatherUsingAiSchema = requestBody({
  ...commandFields,
  assistant: gatherAssistant,
  gather_ended_speech: spokenText,
  greeting: spokenText,
  interruption_settings: interruptionSettings,
  language: stringEnum(GOOGLE_TRANSCRIPTION_LANGUAGES, 'en'),
  message_history: arrayOf(obj({ content: str, role: stringEnum(['assistant', 'user']) })),
  // A JSON Schema describing what to collect; its own content is the assistant's business.
  parameters: obj(),
  send_message_history_updates: bool(false),
  send_partial_results: bool(false),
  transcription: aiTranscription,
  user_response_timeout_ms: int({ min: 0, default: 10000 }),
  voice: { type: 'string', default: DEFAULT_AI_VOICE },
  voice_settings: voiceSettings,
}, ['parameters']);

export const aiAssistantStartSchema = requestBody({
  ...commandFields,
  assistant: callAssistant,
  greeting: spokenText,
  interruption_settings: interruptionSettings,
  message_history: arrayOf(aiMessage, []),
  participants: arrayOf(aiParticipant, []),
  send_message_history_updates: bool(false),
  transcription: aiTranscription,
  // Still in the spec; telnyx 7.24.0 stopped sending them. Accepted so older clients keep working.
  voice: { type: 'string', default: DEFAULT_AI_VOICE },
  voice_settings: voiceSettings,
});

export const aiAssistantStopSchema = requestBody({ ...commandFields });

export const aiAssistantAddMessagesSchema = requestBody({
  ...commandFields,
  messages: arrayOf(aiMessage),
  // Sent by telnyx 7.24.0 but absent from the OpenAPI snapshot.
  trigger_response: bool(false),
});

/** AI fields the SDK sends that the OpenAPI spec does not declare (yet). */
export const aiSdkOnlyFields: Record<string, readonly string[]> = {
  ai_assistant_add_messages: ['trigger_response'],
};
