/**
 * Any server that speaks OpenAI's `POST /v1/chat/completions`: OpenAI itself and the
 * self-hosted servers that copy it (vLLM, Ollama, llama.cpp's llama-server, LocalAI, LM Studio).
 * Whole replies and SSE streams, tool calls, and JSON replies to a schema, either with the
 * server's own `json_schema` support or, for servers without it, by asking in the prompt.
 */
import { LlmError } from './errors.js';
import type {
  AssistantMessage, ChatCallOptions, ChatDelta, ChatMessage, ChatRequest, ChatResponse, LlmProvider,
  ReceivedToolCall, ResponseFormat, TokenUsage, ToolChoice, ToolDefinition,
} from './provider.js';
import { SseDataDecoder } from './sse.js';

/**
 * How a `json_schema` response format reaches the server:
 * - `json_schema`: as `response_format: { type: 'json_schema', … }` (OpenAI, vLLM, recent Ollama
 *   and llama.cpp);
 * - `json_object`: `response_format: { type: 'json_object' }` plus the schema in the system
 *   prompt, for servers that only know JSON mode;
 * - `prompt`: the schema in the system prompt only, for servers that reject `response_format`.
 */
export type StructuredOutputMode = 'json_schema' | 'json_object' | 'prompt';

export interface OpenAiChatOptions {
  /**
   * Server root, e.g. `https://api.openai.com`, `http://127.0.0.1:11434` (Ollama),
   * `http://127.0.0.1:8000` (vLLM); `/v1/chat/completions` is appended (a root that already
   * ends in `/v1` is accepted too).
   */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <apiKey>` when given. */
  apiKey?: string;
  /** The server's model (`gpt-4o-mini`, `llama3.1:8b`, `Qwen/Qwen2.5-7B-Instruct`). */
  model: string;
  /**
   * For `complete`: the whole exchange. For `stream`: the longest wait for the first and for
   * each following piece of the stream (a long reply that keeps coming is not cut). Default 60 s.
   */
  timeoutMs?: number;
  /** Extra request headers (an organisation or project header, a gateway's key). */
  headers?: Readonly<Record<string, string>>;
  /** Default `json_schema`. */
  structuredOutput?: StructuredOutputMode;
  /** Largest answer accepted, whole or streamed; default 4 MiB. */
  maxResponseBytes?: number;
  /**
   * Ask for token usage at the end of a stream (`stream_options.include_usage`). Default true;
   * turn it off for a server that rejects the field.
   */
  streamUsage?: boolean;
  /** Name in logs; defaults to `openai:<baseUrl>`. */
  name?: string;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
const DETAIL_CHARS = 300;

export class OpenAiChatProvider implements LlmProvider {
  readonly name: string;
  readonly model: string;
  readonly endpoint: string;
  readonly structuredOutput: StructuredOutputMode;
  private readonly options: OpenAiChatOptions;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;

  constructor(options: OpenAiChatOptions) {
    if (typeof options.model !== 'string' || options.model.trim() === '') {
      throw new TypeError('an OpenAI-compatible chat server needs a model');
    }
    if (!/^https?:\/\//i.test(options.baseUrl)) throw new TypeError(`not an http(s) URL: ${options.baseUrl}`);
    this.options = options;
    this.model = options.model;
    this.endpoint = `${options.baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '')}/v1/chat/completions`;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.structuredOutput = options.structuredOutput ?? 'json_schema';
    this.name = options.name ?? `openai:${options.baseUrl}`;
  }

  /** The JSON body this provider sends for `request` (exposed for logs and tests). */
  requestBody(request: ChatRequest, stream: boolean): Record<string, unknown> {
    const body: Record<string, unknown> = {
      model: request.model ?? this.model,
      messages: wireMessages(withSchemaPrompt(request.messages, request.responseFormat, this.structuredOutput)),
    };
    if (request.tools !== undefined && request.tools.length > 0) body.tools = request.tools.map(wireTool);
    if (request.toolChoice !== undefined) body.tool_choice = wireToolChoice(request.toolChoice);
    const format = wireResponseFormat(request.responseFormat, this.structuredOutput);
    if (format !== undefined) body.response_format = format;
    if (request.temperature !== undefined) body.temperature = request.temperature;
    if (request.maxTokens !== undefined) body.max_tokens = request.maxTokens;
    if (stream) {
      body.stream = true;
      if (this.options.streamUsage ?? true) body.stream_options = { include_usage: true };
    }
    return body;
  }

  async complete(request: ChatRequest, options: ChatCallOptions = {}): Promise<ChatResponse> {
    options.signal?.throwIfAborted();
    const started = performance.now();
    const deadline = new Deadline(this.timeoutMs, options.signal);
    try {
      const response = await this.post(request, false, deadline, options.signal);
      const text = await this.readAll(response, deadline, options.signal);
      const latencyMs = performance.now() - started;
      return finishReply(parseCompletion(text, this.endpoint), request, this, latencyMs, latencyMs);
    } finally {
      deadline.clear();
    }
  }

  async *stream(request: ChatRequest, options: ChatCallOptions = {}): AsyncGenerator<ChatDelta, void, undefined> {
    options.signal?.throwIfAborted();
    const started = performance.now();
    const deadline = new Deadline(this.timeoutMs, options.signal);
    try {
      const response = await this.post(request, true, deadline, options.signal);
      const type = response.headers.get('content-type') ?? '';
      if (!/text\/event-stream/i.test(type) && /json/i.test(type)) {
        // A server that ignores `stream: true` answers with the whole completion.
        const text = await this.readAll(response, deadline, options.signal);
        const latencyMs = performance.now() - started;
        const reply = finishReply(parseCompletion(text, this.endpoint), request, this, latencyMs, latencyMs);
        if (reply.text !== '') yield { type: 'text', text: reply.text };
        for (const toolCall of reply.toolCalls) yield { type: 'tool_call', toolCall };
        yield { type: 'done', response: reply };
        return;
      }
      yield* this.readStream(response, request, deadline, options.signal, started);
    } finally {
      // Also reached when the consumer leaves the loop early: stop the server generating.
      deadline.cancel();
    }
  }

  private async post(request: ChatRequest, stream: boolean, deadline: Deadline, outer: AbortSignal | undefined): Promise<Response> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: stream ? 'text/event-stream' : 'application/json',
    };
    if (this.options.apiKey !== undefined && this.options.apiKey !== '') headers.authorization = `Bearer ${this.options.apiKey}`;
    Object.assign(headers, this.options.headers);
    let response: Response;
    try {
      response = await fetch(this.endpoint, {
        method: 'POST',
        headers,
        body: JSON.stringify(this.requestBody(request, stream)),
        signal: deadline.signal,
      });
    } catch (error) {
      throw this.failure(error, deadline, outer, `is unreachable: ${describeFetchError(error)}`);
    }
    if (!response.ok) {
      let body = '';
      try {
        body = await this.readAll(response, deadline, outer, 64 * 1024, true);
      } catch (error) {
        if (outer?.aborted || deadline.timedOut) throw this.failure(error, deadline, outer, '');
      }
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
      const detail = errorDetail(body);
      throw new LlmError('http_error', `language model server ${this.endpoint} answered ${response.status}${detail ? `: ${detail}` : ''}`, {
        status: response.status,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      });
    }
    return response;
  }

  /**
   * The body as text. Past `limit` bytes: refused (`bad_response`), or with `truncate` (error
   * bodies, only quoted in a message) cut off there.
   */
  private async readAll(
    response: Response, deadline: Deadline, outer: AbortSignal | undefined, limit = this.maxResponseBytes, truncate = false,
  ): Promise<string> {
    const reader = response.body?.getReader();
    if (reader === undefined) return '';
    const decoder = new TextDecoder();
    let text = '';
    let bytes = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        bytes += value.byteLength;
        if (bytes > limit) {
          void reader.cancel().catch(() => undefined);
          if (truncate) break;
          throw new LlmError('bad_response', `language model server ${this.endpoint} sent more than ${limit} bytes`);
        }
        text += decoder.decode(value, { stream: true });
      }
    } catch (error) {
      throw this.failure(error, deadline, outer, `broke off its answer: ${describeFetchError(error)}`);
    }
    return text + decoder.decode();
  }

  private async *readStream(
    response: Response, request: ChatRequest, deadline: Deadline, outer: AbortSignal | undefined, started: number,
  ): AsyncGenerator<ChatDelta, void, undefined> {
    const reader = response.body?.getReader();
    if (reader === undefined) throw new LlmError('bad_response', `language model server ${this.endpoint} sent an empty stream`);
    const decoder = new TextDecoder();
    const sse = new SseDataDecoder({ maxLineChars: this.maxResponseBytes });
    const assembler = new StreamAssembler(request.model ?? this.model, started);
    let bytes = 0;
    let finished = false;
    deadline.restart();
    try {
      while (!finished) {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch (error) {
          throw this.failure(error, deadline, outer, `broke off its stream: ${describeFetchError(error)}`);
        }
        let events: string[];
        if (chunk.done) {
          events = sse.end();
        } else {
          deadline.restart();
          bytes += chunk.value.byteLength;
          if (bytes > this.maxResponseBytes) {
            throw new LlmError('bad_response', `language model server ${this.endpoint} streamed more than ${this.maxResponseBytes} bytes`);
          }
          try {
            events = sse.push(decoder.decode(chunk.value, { stream: true }));
          } catch (error) {
            throw new LlmError('bad_response', `language model server ${this.endpoint} sent an unreadable stream: ${(error as Error).message}`, { cause: error });
          }
        }
        for (const data of events) {
          if (data.trim() === '[DONE]') {
            finished = true;
            break;
          }
          for (const delta of assembler.add(parseStreamEvent(data, this.endpoint))) yield delta;
        }
        if (chunk.done) break;
      }
    } finally {
      if (!finished) void reader.cancel().catch(() => undefined);
    }
    if (!finished && assembler.finishReason === undefined) {
      throw new LlmError('http_error', `language model server ${this.endpoint} ended its stream before the reply was complete`);
    }
    const latencyMs = performance.now() - started;
    const { reply, tail } = assembler.finish();
    if (tail !== '') yield { type: 'text', text: tail };
    const response_ = finishReply(reply, request, this, latencyMs, assembler.firstTokenMs ?? latencyMs);
    for (const toolCall of response_.toolCalls) yield { type: 'tool_call', toolCall };
    yield { type: 'done', response: response_ };
  }

  private failure(error: unknown, deadline: Deadline, outer: AbortSignal | undefined, what: string): unknown {
    if (outer?.aborted) return outer.reason;
    if (deadline.timedOut) {
      return new LlmError('timeout', `language model server ${this.endpoint} did not answer within ${this.timeoutMs} ms`, { cause: error });
    }
    if (error instanceof LlmError) return error;
    return new LlmError('http_error', `language model server ${this.endpoint} ${what}`, { cause: error });
  }
}

/** A timer that aborts the request; restartable, for the quiet-time limit of streams. */
class Deadline {
  readonly signal: AbortSignal;
  timedOut = false;
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly ms: number, outer: AbortSignal | undefined) {
    this.signal = outer === undefined ? this.controller.signal : AbortSignal.any([this.controller.signal, outer]);
    this.restart();
  }

  restart(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort(new Error(`no answer within ${this.ms} ms`));
    }, this.ms);
  }

  clear(): void {
    clearTimeout(this.timer);
  }

  /** Stops the timer and whatever is still in flight. */
  cancel(): void {
    clearTimeout(this.timer);
    if (!this.controller.signal.aborted) this.controller.abort(new Error('request finished'));
  }
}

// ---------------------------------------------------------------------------------------------
// Request

function wireMessages(messages: readonly ChatMessage[]): Record<string, unknown>[] {
  return messages.map((message): Record<string, unknown> => {
    switch (message.role) {
      case 'system':
        return { role: 'system', content: message.content };
      case 'user':
        return message.name === undefined ? { role: 'user', content: message.content } : { role: 'user', content: message.content, name: message.name };
      case 'tool':
        return { role: 'tool', tool_call_id: message.toolCallId, content: message.content };
      case 'assistant':
        return wireAssistant(message);
    }
  });
}

function wireAssistant(message: AssistantMessage): Record<string, unknown> {
  const calls = message.toolCalls ?? [];
  if (calls.length === 0) return { role: 'assistant', content: message.content ?? '' };
  return {
    role: 'assistant',
    content: message.content === null || message.content === '' ? null : message.content,
    tool_calls: calls.map((call) => ({
      id: call.id,
      type: 'function',
      function: { name: call.name, arguments: call.rawArguments ?? JSON.stringify(call.arguments ?? {}) },
    })),
  };
}

function wireTool(tool: ToolDefinition): Record<string, unknown> {
  const fn: Record<string, unknown> = { name: tool.name };
  if (tool.description !== undefined) fn.description = tool.description;
  fn.parameters = tool.parameters ?? { type: 'object', properties: {} };
  if (tool.strict !== undefined) fn.strict = tool.strict;
  return { type: 'function', function: fn };
}

function wireToolChoice(choice: ToolChoice): unknown {
  return typeof choice === 'string' ? choice : { type: 'function', function: { name: choice.name } };
}

function wireResponseFormat(format: ResponseFormat | undefined, mode: StructuredOutputMode): unknown {
  if (format === undefined || format.type === 'text') return undefined;
  if (mode === 'prompt') return undefined;
  if (format.type === 'json_object' || mode === 'json_object') return { type: 'json_object' };
  const schema: Record<string, unknown> = { name: schemaName(format.name), schema: format.schema, strict: format.strict ?? false };
  if (format.description !== undefined) schema.description = format.description;
  return { type: 'json_schema', json_schema: schema };
}

/** OpenAI allows `[a-zA-Z0-9_-]{1,64}`. */
function schemaName(name: string | undefined): string {
  const clean = (name ?? '').replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64);
  return clean === '' ? 'result' : clean;
}

/** The instruction that replaces `response_format` for servers without it (or without schemas). */
export function jsonInstruction(format: ResponseFormat): string | undefined {
  if (format.type === 'text') return undefined;
  const lead = 'Answer with a single JSON object and nothing else: no prose before or after it, no code fences.';
  if (format.type === 'json_object') return lead;
  const about = format.description === undefined ? '' : ` (${format.description})`;
  return `${lead} The object must conform to this JSON Schema${about}:\n${JSON.stringify(format.schema)}`;
}

function withSchemaPrompt(messages: readonly ChatMessage[], format: ResponseFormat | undefined, mode: StructuredOutputMode): readonly ChatMessage[] {
  if (format === undefined || format.type === 'text') return messages;
  const needed = mode === 'prompt' || (mode === 'json_object' && format.type === 'json_schema');
  if (!needed) return messages;
  const instruction = jsonInstruction(format);
  if (instruction === undefined) return messages;
  const [first, ...rest] = messages;
  if (first?.role === 'system') return [{ role: 'system', content: `${first.content}\n\n${instruction}` }, ...rest];
  return [{ role: 'system', content: instruction }, ...messages];
}

// ---------------------------------------------------------------------------------------------
// Response

/** A reply before timing and JSON parsing. */
interface ReplyParts {
  text: string;
  reasoning?: string;
  toolCalls: ReceivedToolCall[];
  finishReason: string;
  usage?: TokenUsage;
  model?: string;
}

function parseCompletion(body: string, endpoint: string): ReplyParts {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    throw new LlmError('bad_response', `language model server ${endpoint} answered with something other than JSON: ${snippet(body)}`, { cause: error });
  }
  if (!isRecord(parsed)) throw new LlmError('bad_response', `language model server ${endpoint} answered JSON that is not an object`);
  if (parsed.error !== undefined && parsed.choices === undefined) {
    throw new LlmError('http_error', `language model server ${endpoint} answered with an error: ${errorDetail(JSON.stringify(parsed))}`);
  }
  const choice = Array.isArray(parsed.choices) ? parsed.choices[0] : undefined;
  if (!isRecord(choice) || !isRecord(choice.message)) {
    throw new LlmError('bad_response', `language model server ${endpoint} answered without choices[0].message`);
  }
  const message = choice.message;
  if (message.content !== undefined && message.content !== null && typeof message.content !== 'string') {
    throw new LlmError('bad_response', `language model server ${endpoint} answered a message whose content is not a string`);
  }
  const rawCalls = message.tool_calls ?? [];
  if (!Array.isArray(rawCalls)) throw new LlmError('bad_response', `language model server ${endpoint} answered tool_calls that is not a list`);
  const toolCalls = rawCalls.map((call, i) => parseToolCall(call, i, endpoint));
  const split = splitThinking(typeof message.content === 'string' ? message.content : '');
  const reasoning = joinReasoning(stringOr(message.reasoning_content) ?? stringOr(message.reasoning), split.reasoning);
  const parts: ReplyParts = {
    text: split.text,
    toolCalls,
    finishReason: typeof choice.finish_reason === 'string' ? choice.finish_reason : toolCalls.length > 0 ? 'tool_calls' : 'unknown',
  };
  if (reasoning !== undefined) parts.reasoning = reasoning;
  const usage = parseUsage(parsed.usage);
  if (usage !== undefined) parts.usage = usage;
  if (typeof parsed.model === 'string') parts.model = parsed.model;
  return parts;
}

function parseToolCall(call: unknown, index: number, endpoint: string): ReceivedToolCall {
  if (!isRecord(call) || !isRecord(call.function) || typeof call.function.name !== 'string' || call.function.name === '') {
    throw new LlmError('bad_response', `language model server ${endpoint} answered tool_calls[${index}] without a function name`);
  }
  const id = typeof call.id === 'string' && call.id !== '' ? call.id : `call_${index}`;
  return toolCall(id, call.function.name, call.function.arguments);
}

/** Arguments arrive as a JSON string (OpenAI), occasionally as an object (some Ollama versions). */
function toolCall(id: string, name: string, args: unknown): ReceivedToolCall {
  if (args !== undefined && args !== null && typeof args !== 'string') {
    return { id, name, arguments: args, rawArguments: JSON.stringify(args) };
  }
  const raw = args ?? '';
  // Servers send "" for a function without parameters.
  if (raw.trim() === '') return { id, name, arguments: {}, rawArguments: raw };
  try {
    return { id, name, arguments: JSON.parse(raw) as unknown, rawArguments: raw };
  } catch (error) {
    return { id, name, arguments: null, rawArguments: raw, argumentsError: `the arguments are not JSON: ${(error as Error).message}` };
  }
}

function parseUsage(value: unknown): TokenUsage | undefined {
  if (!isRecord(value)) return undefined;
  const prompt = typeof value.prompt_tokens === 'number' ? value.prompt_tokens : 0;
  const completion = typeof value.completion_tokens === 'number' ? value.completion_tokens : 0;
  const total = typeof value.total_tokens === 'number' ? value.total_tokens : prompt + completion;
  return { promptTokens: prompt, completionTokens: completion, totalTokens: total };
}

function finishReply(
  parts: ReplyParts, request: ChatRequest, provider: { endpoint: string; model: string }, latencyMs: number, firstTokenMs: number,
): ChatResponse {
  const endpoint = provider.endpoint;
  const response: ChatResponse = {
    text: parts.text,
    toolCalls: parts.toolCalls,
    finishReason: parts.finishReason,
    model: parts.model ?? request.model ?? provider.model,
    latencyMs,
    firstTokenMs: Math.min(firstTokenMs, latencyMs),
  };
  if (parts.usage !== undefined) response.usage = parts.usage;
  if (parts.reasoning !== undefined) response.reasoning = parts.reasoning;
  const format = request.responseFormat;
  if (format !== undefined && format.type !== 'text' && parts.toolCalls.length === 0) {
    response.json = parseJsonReply(parts.text, endpoint, parts.finishReason);
  }
  return response;
}

/** The model's reply as JSON, tolerating code fences and chatter around one object. */
export function parseJsonReply(text: string, endpoint = 'the language model server', finishReason?: string): unknown {
  const trimmed = text.trim();
  if (trimmed === '') {
    const why = finishReason === 'length' ? ' (it ran out of tokens)' : '';
    throw new LlmError('bad_response', `${describe(endpoint)} sent an empty reply where JSON was asked for${why}`);
  }
  const fenced = /^```[a-zA-Z]*\s*\n?([\s\S]*?)\n?\s*```$/.exec(trimmed);
  const candidate = fenced?.[1] ?? trimmed;
  try {
    return JSON.parse(candidate);
  } catch (error) {
    const open = candidate.indexOf('{');
    const close = candidate.lastIndexOf('}');
    if (open !== -1 && close > open) {
      try {
        return JSON.parse(candidate.slice(open, close + 1));
      } catch {
        // reported below
      }
    }
    const why = finishReason === 'length' ? ' (it ran out of tokens)' : '';
    throw new LlmError('bad_response', `${describe(endpoint)} replied with something other than JSON${why}: ${snippet(trimmed)}`, { cause: error });
  }
}

function describe(endpoint: string): string {
  return endpoint.startsWith('http') ? `language model server ${endpoint}` : endpoint;
}

/** Splits a leading `<think>…</think>` block (Qwen3, DeepSeek-R1 on servers without a reasoning parser). */
function splitThinking(content: string): { text: string; reasoning?: string } {
  const match = /^\s*<think>([\s\S]*?)(?:<\/think>|$)\s*/.exec(content);
  if (match === null) return { text: content };
  const reasoning = (match[1] ?? '').trim();
  return reasoning === '' ? { text: content.slice(match[0].length) } : { text: content.slice(match[0].length), reasoning };
}

function joinReasoning(a: string | undefined, b: string | undefined): string | undefined {
  const parts = [a, b].filter((p): p is string => p !== undefined && p.trim() !== '');
  return parts.length === 0 ? undefined : parts.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Streams

function parseStreamEvent(data: string, endpoint: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch (error) {
    throw new LlmError('bad_response', `language model server ${endpoint} streamed something other than JSON: ${snippet(data)}`, { cause: error });
  }
  if (!isRecord(parsed)) throw new LlmError('bad_response', `language model server ${endpoint} streamed JSON that is not an object`);
  if (parsed.error !== undefined) {
    throw new LlmError('http_error', `language model server ${endpoint} reported an error mid-stream: ${errorDetail(data)}`);
  }
  return parsed;
}

interface PartialToolCall {
  id: string;
  name: string;
  args: string;
  /** Arguments sent whole as an object rather than as string fragments. */
  object?: unknown;
}

/** Holds back a leading `<think>` block from the text deltas of a stream. */
class ThinkingFilter {
  private state: 'start' | 'thinking' | 'after' | 'text' = 'start';
  private held = '';
  reasoning = '';

  push(fragment: string): string {
    if (this.state === 'text') return fragment;
    this.held += fragment;
    if (this.state === 'start') {
      const lead = this.held.trimStart();
      if (lead === '' || ('<think>'.startsWith(lead) && lead.length < 7)) return '';
      if (!lead.startsWith('<think>')) return this.release('text');
      this.state = 'thinking';
      this.held = lead.slice('<think>'.length);
    }
    if (this.state === 'thinking') {
      const end = this.held.indexOf('</think>');
      if (end === -1) return '';
      this.reasoning += this.held.slice(0, end);
      this.held = this.held.slice(end + '</think>'.length);
      this.state = 'after';
    }
    // After the block: drop the blank lines between it and the reply.
    this.held = this.held.trimStart();
    return this.held === '' ? '' : this.release('text');
  }

  /** The stream ended: what is still held back. */
  end(): string {
    if (this.state === 'thinking') {
      this.reasoning += this.held;
      this.held = '';
      return '';
    }
    return this.release(this.state);
  }

  private release(state: ThinkingFilter['state']): string {
    const out = this.held;
    this.held = '';
    this.state = state;
    return out;
  }
}

class StreamAssembler {
  finishReason: string | undefined;
  firstTokenMs: number | undefined;
  private text = '';
  private reasoning = '';
  private readonly thinking = new ThinkingFilter();
  private readonly calls = new Map<number, PartialToolCall>();
  private lastCall: number | undefined;
  private usage: TokenUsage | undefined;
  private model: string | undefined;

  constructor(private readonly requestedModel: string, private readonly started: number) {}

  *add(event: Record<string, unknown>): Generator<ChatDelta> {
    if (typeof event.model === 'string' && event.model !== '') this.model = event.model;
    const usage = parseUsage(event.usage);
    if (usage !== undefined) this.usage = usage;
    const choice = Array.isArray(event.choices) ? event.choices[0] : undefined;
    if (!isRecord(choice)) return;
    if (typeof choice.finish_reason === 'string') this.finishReason = choice.finish_reason;
    // Some servers put a whole message, not a delta, in their last event.
    const delta = isRecord(choice.delta) ? choice.delta : isRecord(choice.message) ? choice.message : undefined;
    if (delta === undefined) return;
    const reasoning = stringOr(delta.reasoning_content) ?? stringOr(delta.reasoning);
    if (reasoning !== undefined) this.reasoning += reasoning;
    if (Array.isArray(delta.tool_calls)) {
      for (const fragment of delta.tool_calls) this.addToolFragment(fragment);
    }
    if (typeof delta.content === 'string' && delta.content !== '') {
      const text = this.thinking.push(delta.content);
      if (text !== '') {
        this.markFirstToken();
        this.text += text;
        yield { type: 'text', text };
      }
    }
  }

  /** The reply, and text still held back by the thinking filter (to be yielded before it). */
  finish(): { reply: ReplyParts; tail: string } {
    const tail = this.thinking.end();
    if (tail !== '') this.markFirstToken();
    this.text += tail;
    const toolCalls = [...this.calls.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, call]) => (call.object !== undefined ? toolCall(call.id, call.name, call.object) : toolCall(call.id, call.name, call.args)));
    const reply: ReplyParts = {
      text: this.text,
      toolCalls,
      finishReason: this.finishReason ?? (toolCalls.length > 0 ? 'tool_calls' : 'stop'),
      model: this.model ?? this.requestedModel,
    };
    const reasoning = joinReasoning(this.reasoning, this.thinking.reasoning);
    if (reasoning !== undefined) reply.reasoning = reasoning.trim();
    if (this.usage !== undefined) reply.usage = this.usage;
    return { reply, tail };
  }

  private markFirstToken(): void {
    this.firstTokenMs ??= performance.now() - this.started;
  }

  private addToolFragment(fragment: unknown): void {
    if (!isRecord(fragment)) return;
    const fn = isRecord(fragment.function) ? fragment.function : {};
    const id = typeof fragment.id === 'string' && fragment.id !== '' ? fragment.id : undefined;
    let index: number;
    if (typeof fragment.index === 'number') index = fragment.index;
    else if (id !== undefined) index = [...this.calls.entries()].find(([, c]) => c.id === id)?.[0] ?? this.calls.size;
    else index = this.lastCall ?? 0;
    this.lastCall = index;
    let call = this.calls.get(index);
    if (call === undefined) {
      call = { id: id ?? `call_${index}`, name: '', args: '' };
      this.calls.set(index, call);
    } else if (id !== undefined) {
      call.id = id;
    }
    if (typeof fn.name === 'string' && fn.name !== '' && call.name === '') call.name = fn.name;
    if (typeof fn.arguments === 'string') call.args += fn.arguments;
    else if (fn.arguments !== undefined && fn.arguments !== null) call.object = fn.arguments;
    this.markFirstToken();
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringOr(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 120 ? `${flat.slice(0, 120)}…` : flat;
}

/** `{"error":{"message":…}}` (OpenAI, vLLM), `{"error":"…"}` (Ollama), or the raw text. */
function errorDetail(body: string): string {
  try {
    const parsed: unknown = JSON.parse(body);
    if (isRecord(parsed)) {
      const error = parsed.error;
      if (typeof error === 'string') return error.slice(0, DETAIL_CHARS);
      if (isRecord(error) && typeof error.message === 'string') return error.message.slice(0, DETAIL_CHARS);
      if (typeof parsed.message === 'string') return parsed.message.slice(0, DETAIL_CHARS);
    }
  } catch {
    // not JSON
  }
  return body.slice(0, DETAIL_CHARS).trim();
}

/** Seconds or an HTTP date, in milliseconds from now. */
function parseRetryAfter(value: string | null): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

// undici reports "fetch failed" with the useful part (ECONNREFUSED...) in its cause.
function describeFetchError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause;
  if (cause instanceof Error) return `${error.message} (${(cause as NodeJS.ErrnoException).code ?? cause.message})`;
  return error.message;
}

