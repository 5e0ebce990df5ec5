import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LlmError } from '../../src/ai/llm/errors.js';
import { OpenAiChatProvider, type OpenAiChatOptions } from '../../src/ai/llm/openai-chat.js';
import type { LlmProvider } from '../../src/ai/llm/provider.js';
import {
  LLM_CONFIG_KEYS, checkLlmConfig, llmConfigFromEnv, resolveLlm, type LlmResolution, type LlmServerConfig, type ResolvedLlm,
} from '../../src/ai/llm/resolve.js';

/** Resolves with a provider factory that records the options it was given. */
function resolveCapturing(config: LlmServerConfig | null, assistant?: unknown): { result: LlmResolution; options: OpenAiChatOptions[] } {
  const options: OpenAiChatOptions[] = [];
  const result = resolveLlm(config, assistant, {
    createProvider: (o) => {
      options.push(o);
      return new OpenAiChatProvider(o);
    },
  });
  return { result, options };
}

function ok(result: LlmResolution): ResolvedLlm {
  if (!result.ok) assert.fail(`expected a provider, got ${result.error.code}: ${result.error.message}`);
  return result.value;
}

function failed(result: LlmResolution, code: LlmError['code']): LlmError {
  assert.equal(result.ok, false, 'expected an error');
  const error = (result as { error: LlmError }).error;
  assert.ok(error instanceof LlmError);
  assert.equal(error.code, code, error.message);
  return error;
}

const server: LlmServerConfig = { baseUrl: 'http://127.0.0.1:11434', model: 'llama3.1:8b', apiKey: 'sk-server' };

describe('resolveLlm', () => {
  it('without configuration, says which keys and variables to set', () => {
    for (const config of [null, undefined, {}, { baseUrl: '  ', model: 'x' }]) {
      const error = failed(resolveLlm(config, { instructions: 'Hi' }), 'not_configured');
      assert.equal(error.pointer, undefined);
      for (const key of ['ai.llm.baseUrl', 'ai.llm.model', 'ai.llm.apiKey', 'SWITCHBOARD_LLM_BASE_URL', 'SWITCHBOARD_LLM_MODEL', 'SWITCHBOARD_LLM_API_KEY', 'switchboard.json']) {
        assert.ok(error.message.includes(key), `message names ${key}: ${error.message}`);
      }
      assert.match(error.message, /gather_using_ai/);
    }
  });

  it('without a model anywhere, says to set ai.llm.model', () => {
    const error = failed(resolveLlm({ baseUrl: 'http://127.0.0.1:8000' }, {}), 'not_configured');
    assert.match(error.message, /set ai\.llm\.model \(or SWITCHBOARD_LLM_MODEL\), or name one in assistant\.model/);
  });

  it('uses the configured server, model and key, and hands back the instructions', () => {
    const { result, options } = resolveCapturing({ ...server, timeoutMs: 5000, structuredOutput: 'json_object', headers: { 'x-a': '1' } }, { instructions: 'You book tables.' });
    const resolved = ok(result);
    assert.deepEqual(options, [{
      baseUrl: 'http://127.0.0.1:11434', model: 'llama3.1:8b', apiKey: 'sk-server', timeoutMs: 5000, structuredOutput: 'json_object', headers: { 'x-a': '1' },
    }]);
    assert.equal(resolved.model, 'llama3.1:8b');
    assert.equal(resolved.provider.model, 'llama3.1:8b');
    assert.equal(resolved.instructions, 'You book tables.');
    assert.deepEqual(resolved.notes, []);
    assert.ok(ok(resolveLlm(server)).provider instanceof OpenAiChatProvider, 'no assistant object is fine');
  });

  it('maps requested models, ignores unmapped ones by default, and passes them when told to', () => {
    const mapped = ok(resolveLlm({ ...server, models: { 'openai/gpt-4o': 'qwen2.5:14b' } }, { model: 'openai/gpt-4o' }));
    assert.equal(mapped.model, 'qwen2.5:14b');
    assert.equal(mapped.requestedModel, 'openai/gpt-4o');

    const ignored = ok(resolveLlm(server, { model: 'Qwen/Qwen3-235B-A22B' }));
    assert.equal(ignored.model, 'llama3.1:8b');
    assert.match(ignored.notes[0] ?? '', /"Qwen\/Qwen3-235B-A22B" asked for; "llama3\.1:8b" answers \(map it in ai\.llm\.models, or set ai\.llm\.passRequestedModels\)/);

    assert.equal(ok(resolveLlm({ ...server, passRequestedModels: true }, { model: 'gpt-4o-mini' })).model, 'gpt-4o-mini');
    assert.equal(ok(resolveLlm({ baseUrl: server.baseUrl }, { model: 'gpt-4o-mini' })).model, 'gpt-4o-mini', 'no configured model: the request names it');
  });

  it('looks API key references up in apiKeyRefs, for llm_api_key_ref and the deprecated openai_api_key_ref', () => {
    const config = { ...server, apiKeyRefs: { team_key: 'sk-team', legacy: 'sk-legacy' } };
    assert.equal(resolveCapturing(config, { llm_api_key_ref: 'team_key' }).options[0]?.apiKey, 'sk-team');
    assert.equal(resolveCapturing(config, { openai_api_key_ref: 'legacy' }).options[0]?.apiKey, 'sk-legacy');
    assert.equal(resolveCapturing(config, { llm_api_key_ref: 'team_key', openai_api_key_ref: 'legacy' }).options[0]?.apiKey, 'sk-team');

    const unknown = failed(resolveLlm(config, { openai_api_key_ref: 'my_openai_key' }), 'not_configured');
    assert.equal(unknown.pointer, '/assistant/openai_api_key_ref');
    assert.match(unknown.message, /"my_openai_key", which this server does not know: add it to ai\.llm\.apiKeyRefs in switchboard\.json, as \{ "my_openai_key": "<api key>" \}/);
  });

  it('without apiKeyRefs, keeps the configured key and notes the reference', () => {
    const { result, options } = resolveCapturing(server, { llm_api_key_ref: 'whatever' });
    assert.equal(options[0]?.apiKey, 'sk-server');
    assert.match(ok(result).notes[0] ?? '', /llm_api_key_ref "whatever" ignored/);
  });

  it('refuses external_llm unless allowed, and then never sends it the configured key', () => {
    const assistant = { external_llm: { base_url: 'https://llm.example.com/v1', model: 'byo-model', llm_api_key_ref: 'byo' } };
    const refused = failed(resolveLlm(server, assistant), 'not_configured');
    assert.equal(refused.pointer, '/assistant/external_llm/base_url');
    assert.match(refused.message, /set ai\.llm\.allowExternalLlm to true/);

    const allowed = { ...server, allowExternalLlm: true, apiKeyRefs: { byo: 'sk-byo' }, headers: { 'x-internal': 'secret' } };
    const { result, options } = resolveCapturing(allowed, assistant);
    assert.equal(ok(result).model, 'byo-model');
    assert.deepEqual(options[0], { baseUrl: 'https://llm.example.com/v1', model: 'byo-model', apiKey: 'sk-byo' });

    const noRef = resolveCapturing({ ...server, allowExternalLlm: true }, { external_llm: { base_url: 'https://llm.example.com' } });
    assert.equal(noRef.options[0]?.apiKey, undefined);
    assert.equal(noRef.options[0]?.model, 'llama3.1:8b');

    const unknownRef = failed(resolveLlm({ ...server, allowExternalLlm: true }, { external_llm: { base_url: 'https://llm.example.com', llm_api_key_ref: 'x' } }), 'not_configured');
    assert.equal(unknownRef.pointer, '/assistant/external_llm/llm_api_key_ref');
    assert.match(unknownRef.message, /never sent to a server a request chose/);

    const badUrl = failed(resolveLlm({ ...server, allowExternalLlm: true }, { external_llm: { base_url: 'ftp://llm' } }), 'invalid_request');
    assert.equal(badUrl.pointer, '/assistant/external_llm/base_url');
    const certificate = failed(resolveLlm({ ...server, allowExternalLlm: true }, { external_llm: { base_url: 'https://llm.example.com', authentication_method: 'certificate' } }), 'not_configured');
    assert.equal(certificate.pointer, '/assistant/external_llm/authentication_method');
  });

  it('uses the given pointer, and reports a provider that cannot be built', () => {
    const withRefs = failed(resolveLlm({ ...server, apiKeyRefs: { a: 'b' } }, { llm_api_key_ref: 'x' }, { pointer: '/body/assistant' }), 'not_configured');
    assert.equal(withRefs.pointer, '/body/assistant/llm_api_key_ref');
    const broken = failed(resolveLlm({ baseUrl: 'localhost:11434', model: 'm' }), 'not_configured');
    assert.match(broken.message, /unusable: not an http\(s\) URL/);
    const custom: LlmProvider = { name: 'fake', model: 'fake-model', complete: () => Promise.reject(new Error('unused')), stream: () => [] as never };
    assert.equal(ok(resolveLlm(server, {}, { createProvider: () => custom })).provider, custom);
  });
});

describe('LLM configuration helpers', () => {
  it('reads environment variables', () => {
    assert.deepEqual(llmConfigFromEnv({
      SWITCHBOARD_LLM_BASE_URL: 'http://gpu:8000 ',
      SWITCHBOARD_LLM_MODEL: 'Qwen/Qwen2.5-7B-Instruct',
      SWITCHBOARD_LLM_API_KEY: '',
      SWITCHBOARD_LLM_STRUCTURED_OUTPUT: 'prompt',
    }), { baseUrl: 'http://gpu:8000', model: 'Qwen/Qwen2.5-7B-Instruct', structuredOutput: 'prompt' });
    assert.deepEqual(llmConfigFromEnv({}), {});
    assert.equal(LLM_CONFIG_KEYS.baseUrl.env, 'SWITCHBOARD_LLM_BASE_URL');
  });

  it('lists configuration problems', () => {
    assert.deepEqual(checkLlmConfig(undefined), []);
    assert.deepEqual(checkLlmConfig(server), []);
    const problems = checkLlmConfig({
      baseUrl: 'gpu:8000', model: '', structuredOutput: 'xml' as never, timeoutMs: -1, models: { a: 1 as never },
    });
    assert.equal(problems.length, 5, problems.join('\n'));
    assert.match(problems[0] ?? '', /ai\.llm\.baseUrl must be an http\(s\) URL/);
  });
});
