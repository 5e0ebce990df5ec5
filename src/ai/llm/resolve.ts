/**
 * Which model server and model answer one conversation: the server's configuration, adjusted by
 * what the request's Telnyx `assistant` object asks for (gather_using_ai `Assistant`,
 * ai_assistant_start `CallAssistantRequest`). Fields taken from it:
 *
 * - `model`: the model to use, through `models` (Telnyx names such as `openai/gpt-4o` rarely
 *   exist on a self-hosted server), or as is with `passRequestedModels`; otherwise the
 *   configured model answers and the request's is only noted.
 * - `llm_api_key_ref`, and the deprecated `openai_api_key_ref`: an integration-secret identifier,
 *   looked up in `apiKeyRefs`.
 * - `external_llm` (`base_url`, `model`, `llm_api_key_ref`): a model server chosen by the request,
 *   only when `allowExternalLlm` is set. It never receives the configured `apiKey`.
 * - `instructions`: handed back for the conversation's system prompt.
 *
 * Stored assistants (`id`), `fallback_config`, `mcp_servers`, `tools` and `dynamic_variables`
 * are not the model server's business and are left to the conversation.
 *
 * Problems come back as `not_configured` (or `invalid_request`) errors whose message says which
 * configuration key to set and whose `pointer` names the request field at fault, if any, so the
 * API can answer 422 before the conversation starts.
 */
import { LlmError } from './errors.js';
import { OpenAiChatProvider, type OpenAiChatOptions, type StructuredOutputMode } from './openai-chat.js';
import type { LlmProvider } from './provider.js';

/** The server's language-model configuration (`ai.llm` in switchboard.json). */
export interface LlmServerConfig {
  /** Root of an OpenAI-compatible server: `https://api.openai.com`, `http://127.0.0.1:11434`. */
  baseUrl?: string | null;
  apiKey?: string;
  /** The model used when a request names none (or names one that is not passed on). */
  model?: string;
  timeoutMs?: number;
  headers?: Record<string, string>;
  /** How JSON Schema replies are asked for; see `StructuredOutputMode`. Default `json_schema`. */
  structuredOutput?: StructuredOutputMode;
  maxResponseBytes?: number;
  /** `stream_options.include_usage`; default true. */
  streamUsage?: boolean;
  /** Integration-secret identifiers (`llm_api_key_ref`, `openai_api_key_ref`) → API keys. */
  apiKeyRefs?: Record<string, string>;
  /** Model named by a request → the server's model: `{ "openai/gpt-4o": "llama3.1:8b" }`. */
  models?: Record<string, string>;
  /** Send a requested model that `models` does not map as it is, instead of `model`. Default false. */
  passRequestedModels?: boolean;
  /** Let requests choose their own model server with `assistant.external_llm`. Default false. */
  allowExternalLlm?: boolean;
}

/** Where each setting is configured: the switchboard.json key, and the environment variable if any. */
export const LLM_CONFIG_KEYS = {
  baseUrl: { file: 'ai.llm.baseUrl', env: 'SWITCHBOARD_LLM_BASE_URL' },
  model: { file: 'ai.llm.model', env: 'SWITCHBOARD_LLM_MODEL' },
  apiKey: { file: 'ai.llm.apiKey', env: 'SWITCHBOARD_LLM_API_KEY' },
  structuredOutput: { file: 'ai.llm.structuredOutput', env: 'SWITCHBOARD_LLM_STRUCTURED_OUTPUT' },
  apiKeyRefs: { file: 'ai.llm.apiKeyRefs' },
  models: { file: 'ai.llm.models' },
  passRequestedModels: { file: 'ai.llm.passRequestedModels' },
  allowExternalLlm: { file: 'ai.llm.allowExternalLlm' },
} as const;

const STRUCTURED_OUTPUT_MODES: readonly StructuredOutputMode[] = ['json_schema', 'json_object', 'prompt'];

/** The settings given by environment variables (see `LLM_CONFIG_KEYS`); absent ones are left out. */
export function llmConfigFromEnv(env: Record<string, string | undefined>): Partial<LlmServerConfig> {
  const config: Partial<LlmServerConfig> = {};
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const baseUrl = read(LLM_CONFIG_KEYS.baseUrl.env);
  if (baseUrl !== undefined) config.baseUrl = baseUrl;
  const model = read(LLM_CONFIG_KEYS.model.env);
  if (model !== undefined) config.model = model;
  const apiKey = read(LLM_CONFIG_KEYS.apiKey.env);
  if (apiKey !== undefined) config.apiKey = apiKey;
  const mode = read(LLM_CONFIG_KEYS.structuredOutput.env);
  if (mode !== undefined) config.structuredOutput = mode as StructuredOutputMode;
  return config;
}

/** What is wrong with a configuration, one message per problem (empty when usable or absent). */
export function checkLlmConfig(config: LlmServerConfig | null | undefined): string[] {
  if (config === null || config === undefined) return [];
  const problems: string[] = [];
  const k = LLM_CONFIG_KEYS;
  if (config.baseUrl !== undefined && config.baseUrl !== null && !isHttpUrl(config.baseUrl)) {
    problems.push(`${k.baseUrl.file} must be an http(s) URL: ${String(config.baseUrl)}`);
  }
  if (config.model !== undefined && (typeof config.model !== 'string' || config.model.trim() === '')) {
    problems.push(`${k.model.file} must be a non-empty model name`);
  }
  if (config.structuredOutput !== undefined && !STRUCTURED_OUTPUT_MODES.includes(config.structuredOutput)) {
    problems.push(`${k.structuredOutput.file} must be one of ${STRUCTURED_OUTPUT_MODES.join(', ')}: ${String(config.structuredOutput)}`);
  }
  if (config.timeoutMs !== undefined && !(Number.isInteger(config.timeoutMs) && config.timeoutMs > 0)) {
    problems.push('ai.llm.timeoutMs must be a positive whole number of milliseconds');
  }
  for (const [name, map] of [['apiKeyRefs', config.apiKeyRefs], ['models', config.models], ['headers', config.headers]] as const) {
    if (map !== undefined && (!isRecord(map) || Object.values(map).some((v) => typeof v !== 'string'))) {
      problems.push(`ai.llm.${name} must map names to strings`);
    }
  }
  return problems;
}

export interface ResolvedLlm {
  provider: LlmProvider;
  /** The model that will answer (also `provider.model`): what to report as `llm_model`. */
  model: string;
  /** `assistant.model` (or `external_llm.model`) as the request gave it. */
  requestedModel?: string;
  /** `assistant.instructions`, for the system prompt. */
  instructions?: string;
  /** Request fields that were read but not followed, for logs. */
  notes: string[];
}

export type LlmResolution = { ok: true; value: ResolvedLlm } | { ok: false; error: LlmError };

export interface ResolveLlmOptions {
  /** Pointer of the assistant object in the request, for error pointers. Default `/assistant`. */
  pointer?: string;
  /** Builds the provider (tests, or another adapter); default `new OpenAiChatProvider`. */
  createProvider?: (options: OpenAiChatOptions) => LlmProvider;
}

/**
 * The provider for a conversation, or why there is none. Never throws; `assistant` is the
 * request's (already schema-checked) `assistant` object, or undefined.
 */
export function resolveLlm(config: LlmServerConfig | null | undefined, assistant?: unknown, options: ResolveLlmOptions = {}): LlmResolution {
  try {
    return { ok: true, value: resolveOrThrow(config ?? {}, isRecord(assistant) ? assistant : {}, options) };
  } catch (error) {
    if (error instanceof LlmError) return { ok: false, error };
    throw error;
  }
}

function resolveOrThrow(config: LlmServerConfig, assistant: Record<string, unknown>, options: ResolveLlmOptions): ResolvedLlm {
  const at = options.pointer ?? '/assistant';
  const notes: string[] = [];
  const k = LLM_CONFIG_KEYS;
  const external = isRecord(assistant.external_llm) ? assistant.external_llm : undefined;
  const externalUrl = external !== undefined ? nonEmpty(external.base_url) : undefined;
  const requestedModel = (externalUrl !== undefined ? nonEmpty(external?.model) : undefined) ?? nonEmpty(assistant.model);
  if (external !== undefined && externalUrl === undefined) notes.push('external_llm without base_url ignored');
  const instructions = typeof assistant.instructions === 'string' && assistant.instructions.trim() !== '' ? assistant.instructions : undefined;

  let baseUrl: string;
  let apiKey: string | undefined;
  let model: string;
  if (externalUrl !== undefined) {
    if (config.allowExternalLlm !== true) {
      throw new LlmError('not_configured',
        `${at.slice(1).replace(/\//g, '.')}.external_llm.base_url asks for a model server of its own, which this server does not allow: ` +
        `set ${k.allowExternalLlm.file} to true to allow it, or leave external_llm out to use the configured server (${k.baseUrl.file}).`,
        { pointer: `${at}/external_llm/base_url` });
    }
    if (!isHttpUrl(externalUrl)) {
      throw new LlmError('invalid_request', `external_llm.base_url must be an http(s) URL: ${externalUrl}`, { pointer: `${at}/external_llm/base_url` });
    }
    if (external?.authentication_method === 'certificate') {
      throw new LlmError('not_configured',
        'external_llm.authentication_method "certificate" is not supported here: use "token" with llm_api_key_ref.',
        { pointer: `${at}/external_llm/authentication_method` });
    }
    baseUrl = externalUrl;
    const ref = nonEmpty(external?.llm_api_key_ref);
    // The configured key belongs to the configured server and is never sent elsewhere.
    apiKey = ref === undefined ? undefined : lookUpRef(config, ref, `${at}/external_llm/llm_api_key_ref`, true);
    const chosen = requestedModel ?? config.model;
    if (chosen === undefined) {
      throw new LlmError('not_configured', `no model is named for the external model server: set external_llm.model, or ${k.model.file}.`,
        { pointer: `${at}/external_llm/model` });
    }
    model = chosen;
  } else {
    const configured = nonEmpty(config.baseUrl ?? undefined);
    if (configured === undefined) throw new LlmError('not_configured', notConfiguredMessage());
    baseUrl = configured;
    const refField = nonEmpty(assistant.llm_api_key_ref) !== undefined ? 'llm_api_key_ref' : nonEmpty(assistant.openai_api_key_ref) !== undefined ? 'openai_api_key_ref' : undefined;
    const ref = refField === undefined ? undefined : nonEmpty(assistant[refField]);
    if (ref !== undefined && refField !== undefined) {
      const hasRefs = config.apiKeyRefs !== undefined && Object.keys(config.apiKeyRefs).length > 0;
      if (hasRefs) apiKey = lookUpRef(config, ref, `${at}/${refField}`, false);
      else {
        apiKey = nonEmpty(config.apiKey);
        notes.push(`${refField} "${ref}" ignored: no ${k.apiKeyRefs.file} configured, the configured key is used`);
      }
    } else {
      apiKey = nonEmpty(config.apiKey);
    }
    model = pickModel(config, requestedModel, notes, at);
  }

  const providerOptions: OpenAiChatOptions = { baseUrl, model };
  if (apiKey !== undefined) providerOptions.apiKey = apiKey;
  if (config.timeoutMs !== undefined) providerOptions.timeoutMs = config.timeoutMs;
  if (config.headers !== undefined && externalUrl === undefined) providerOptions.headers = config.headers;
  if (config.structuredOutput !== undefined) providerOptions.structuredOutput = config.structuredOutput;
  if (config.maxResponseBytes !== undefined) providerOptions.maxResponseBytes = config.maxResponseBytes;
  if (config.streamUsage !== undefined) providerOptions.streamUsage = config.streamUsage;
  let provider: LlmProvider;
  try {
    provider = (options.createProvider ?? ((o) => new OpenAiChatProvider(o)))(providerOptions);
  } catch (error) {
    throw new LlmError('not_configured', `the language model configuration is unusable: ${(error as Error).message}. Check ${k.baseUrl.file} and ${k.model.file}.`, { cause: error });
  }
  const resolved: ResolvedLlm = { provider, model, notes };
  if (requestedModel !== undefined) resolved.requestedModel = requestedModel;
  if (instructions !== undefined) resolved.instructions = instructions;
  return resolved;
}

function pickModel(config: LlmServerConfig, requested: string | undefined, notes: string[], at: string): string {
  const k = LLM_CONFIG_KEYS;
  const configured = nonEmpty(config.model);
  if (requested !== undefined) {
    const mapped = config.models?.[requested];
    if (mapped !== undefined && mapped.trim() !== '') return mapped;
    if (config.passRequestedModels === true || configured === undefined) return requested;
    if (requested !== configured) notes.push(`model "${requested}" asked for; "${configured}" answers (map it in ${k.models.file}, or set ${k.passRequestedModels.file})`);
    return configured;
  }
  if (configured === undefined) {
    throw new LlmError('not_configured',
      `no language model is named: set ${k.model.file} (or ${k.model.env}), or name one in ${at.slice(1).replace(/\//g, '.')}.model.`);
  }
  return configured;
}

function lookUpRef(config: LlmServerConfig, ref: string, pointer: string, external: boolean): string {
  const key = config.apiKeyRefs?.[ref];
  if (key !== undefined && key !== '') return key;
  const field = pointer.split('/').pop() ?? 'llm_api_key_ref';
  const why = external ? ' (the configured key is never sent to a server a request chose)' : '';
  throw new LlmError('not_configured',
    `${field} names the integration secret "${ref}", which this server does not know${why}: add it to ${LLM_CONFIG_KEYS.apiKeyRefs.file} ` +
    `in switchboard.json, as { "${ref}": "<api key>" }.`, { pointer });
}

/** The message for a server without any model server configured. */
export function notConfiguredMessage(): string {
  const k = LLM_CONFIG_KEYS;
  return 'No language model is configured, so AI conversations (gather_using_ai, ai_assistant_start) cannot run. ' +
    `Set ${k.baseUrl.file} to an OpenAI-compatible server (https://api.openai.com, Ollama's http://127.0.0.1:11434, a vLLM or llama.cpp server) ` +
    `and ${k.model.file} to its model in switchboard.json, plus ${k.apiKey.file} if the server wants a key; ` +
    `or set the environment variables ${k.baseUrl.env}, ${k.model.env} and ${k.apiKey.env}.`;
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string' || !/^https?:\/\//i.test(value)) return false;
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
