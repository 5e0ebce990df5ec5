/** Language models for AI conversations: the provider interface, an OpenAI-compatible adapter, JSON Schema checks. */
export { LlmError, isLlmError, type LlmErrorCode, type LlmErrorDetails } from './errors.js';
export {
  checkGatherParameters,
  checkJsonSchema,
  describeIssues,
  escapePointer,
  validateJson,
  type CheckSchemaOptions,
  type SchemaCheck,
  type SchemaIssue,
} from './json-schema.js';
export { OpenAiChatProvider, jsonInstruction, parseJsonReply, type OpenAiChatOptions, type StructuredOutputMode } from './openai-chat.js';
export type {
  AssistantMessage,
  ChatCallOptions,
  ChatDelta,
  ChatMessage,
  ChatRequest,
  ChatResponse,
  ChatRole,
  FinishReason,
  JsonSchemaObject,
  LlmProvider,
  ReceivedToolCall,
  ResponseFormat,
  SystemMessage,
  TokenUsage,
  ToolCall,
  ToolChoice,
  ToolDefinition,
  ToolMessage,
  UserMessage,
} from './provider.js';
export {
  LLM_CONFIG_KEYS,
  checkLlmConfig,
  llmConfigFromEnv,
  notConfiguredMessage,
  resolveLlm,
  type LlmResolution,
  type LlmServerConfig,
  type ResolveLlmOptions,
  type ResolvedLlm,
} from './resolve.js';
export { SseDataDecoder } from './sse.js';
export { fromTelnyxMessages, toTelnyxHistory, type TelnyxHistoryMessage } from './telnyx-messages.js';
