/**
 * A language model behind a chat-completions API. The voice conversations (gather_using_ai,
 * ai_assistant_start) only talk to this interface; which server answers, and how its wire format
 * looks, is the business of one adapter per API (openai-chat.ts covers OpenAI and the servers
 * that copy it: vLLM, Ollama, llama.cpp, LocalAI).
 */

/** A JSON Schema, as an opaque object: the model server and Ajv interpret it, we pass it along. */
export type JsonSchemaObject = Record<string, unknown>;

/** A function call the model asked for. */
export interface ToolCall {
  /** The server's id for the call, echoed back in the `tool` message that answers it. */
  id: string;
  name: string;
  /** The arguments, parsed; `null` when the model wrote something that is not JSON. */
  arguments: unknown;
}

/** A tool call as received from the model, with what it actually wrote. */
export interface ReceivedToolCall extends ToolCall {
  /** The arguments exactly as the model wrote them (a JSON string, if all went well). */
  rawArguments: string;
  /** Why `rawArguments` could not be parsed; absent when `arguments` holds the parsed value. */
  argumentsError?: string;
}

export interface SystemMessage {
  role: 'system';
  content: string;
}

export interface UserMessage {
  role: 'user';
  content: string;
  /** Distinguishes participants when several people talk to one assistant. */
  name?: string;
}

export interface AssistantMessage {
  role: 'assistant';
  /** What the assistant said; null or empty when the turn was only tool calls. */
  content: string | null;
  /** `rawArguments` is sent as is when present, otherwise `arguments` is serialised. */
  toolCalls?: readonly (ToolCall & { rawArguments?: string })[];
}

export interface ToolMessage {
  role: 'tool';
  /** The id of the tool call this message answers. */
  toolCallId: string;
  content: string;
}

export type ChatMessage = SystemMessage | UserMessage | AssistantMessage | ToolMessage;
export type ChatRole = ChatMessage['role'];

export interface ToolDefinition {
  /** `^[a-zA-Z0-9_-]{1,64}$` for OpenAI. */
  name: string;
  description?: string;
  /** JSON Schema of the arguments object; defaults to an object without properties. */
  parameters?: JsonSchemaObject;
  /** Ask the server to keep the arguments exactly to the schema (OpenAI structured outputs). */
  strict?: boolean;
}

/** `auto`: the model decides; `none`: text only; `required`: some tool; `{ name }`: that tool. */
export type ToolChoice = 'auto' | 'none' | 'required' | { name: string };

/** A reply constrained to JSON, optionally to a JSON Schema. */
export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | {
      type: 'json_schema';
      /** Names the schema for the server; sanitised to `[a-zA-Z0-9_-]`, default `result`. */
      name?: string;
      /** Shown to the model. */
      description?: string;
      schema: JsonSchemaObject;
      /**
       * Ask for exact adherence (OpenAI structured outputs). OpenAI then requires every property
       * to be listed in `required` and `additionalProperties: false`; default false.
       */
      strict?: boolean;
    };

export interface ChatRequest {
  messages: readonly ChatMessage[];
  tools?: readonly ToolDefinition[];
  toolChoice?: ToolChoice;
  responseFormat?: ResponseFormat;
  temperature?: number;
  /** Upper bound on the tokens of the reply. */
  maxTokens?: number;
  /** Use this model instead of the provider's. */
  model?: string;
}

/** Why the model stopped. Unknown reasons from a server are passed through as they are. */
export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | (string & {});

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

export interface ChatResponse {
  /** The reply, without any leading `<think>…</think>` block; empty when there was none. */
  text: string;
  toolCalls: ReceivedToolCall[];
  /** `unknown` when the server did not say. */
  finishReason: FinishReason;
  /** Absent when the server did not report it. */
  usage?: TokenUsage;
  /** The model that answered, as the server names it (or the model asked for). */
  model: string;
  /**
   * With a `json_object` or `json_schema` response format: `text` parsed as JSON (code fences
   * around it are tolerated). Not checked against the schema: see `validateJson`.
   */
  json?: unknown;
  /** Reasoning the model wrote before its reply (`reasoning_content`, or a `<think>` block). */
  reasoning?: string;
  /** From sending the request to the complete reply. */
  latencyMs: number;
  /**
   * From sending the request to the first text or tool-call fragment. Equal to `latencyMs`
   * without streaming, where nothing arrives before the whole reply.
   */
  firstTokenMs: number;
}

/**
 * What a stream yields, in order: text fragments as they arrive, then each tool call once its
 * arguments are complete, then exactly one `done` with the whole reply.
 */
export type ChatDelta =
  | { type: 'text'; text: string }
  | { type: 'tool_call'; toolCall: ReceivedToolCall }
  | { type: 'done'; response: ChatResponse };

export interface ChatCallOptions {
  /** Abandon the call (the caller hung up, barged in, the assistant was stopped). */
  signal?: AbortSignal;
}

export interface LlmProvider {
  /** Stable identifier for logs (`openai:<baseUrl>`). */
  readonly name: string;
  /** The model used when a request names none, as reported to applications (`llm_model`). */
  readonly model: string;
  /**
   * The whole reply at once. Throws `LlmError` (`http_error`, `timeout`, `bad_response`), or the
   * signal's reason when aborted.
   */
  complete(request: ChatRequest, options?: ChatCallOptions): Promise<ChatResponse>;
  /**
   * The reply as it is generated, so speech can start on the first sentence. Errors as for
   * `complete`, thrown from the iteration; leaving the loop early cancels the request.
   */
  stream(request: ChatRequest, options?: ChatCallOptions): AsyncIterable<ChatDelta>;
}
