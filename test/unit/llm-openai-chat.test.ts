import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, beforeEach, describe, it } from 'node:test';
import { LlmError } from '../../src/ai/llm/errors.js';
import { OpenAiChatProvider } from '../../src/ai/llm/openai-chat.js';
import type { ChatDelta, ChatRequest, ChatResponse } from '../../src/ai/llm/provider.js';
import { resolveLlm } from '../../src/ai/llm/resolve.js';
import { LoopbackServer, readBody } from '../helpers/loopback-server.js';

interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
}

type Handler = (request: RecordedRequest, res: ServerResponse) => void | Promise<void>;

const defaultHandler: Handler = (_request, res) => FakeChatServer.json(res, 200, completion({ content: 'Hello there.' }));

/**
 * Test double for an OpenAI-compatible chat-completions server: records each request and
 * answers with whatever `respond` does (by default a one-line text completion).
 */
class FakeChatServer {
  readonly requests: RecordedRequest[] = [];
  /** Resolved when a client connection closes, for checking that cancelled requests hang up. */
  closed: Promise<void> = Promise.resolve();
  respond: Handler = defaultHandler;
  private readonly server = new LoopbackServer((req, res) => {
    let onClose: () => void = () => undefined;
    this.closed = new Promise<void>((resolve) => {
      onClose = resolve;
    });
    res.on('close', () => onClose());
    void readBody(req).then((body) => {
      const text = body.toString('utf8');
      const request = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: text ? JSON.parse(text) : {} };
      this.requests.push(request);
      void this.respond(request, res);
    });
  });

  static json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  }

  /** Writes an SSE stream of `events` (objects become JSON), then `[DONE]` unless told not to. */
  static sse(res: ServerResponse, events: readonly unknown[], options: { done?: boolean } = {}): void {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const event of events) res.write(`data: ${typeof event === 'string' ? event : JSON.stringify(event)}\n\n`);
    if (options.done ?? true) res.write('data: [DONE]\n\n');
    res.end();
  }

  start(): Promise<string> {
    return this.server.start();
  }

  stop(): Promise<void> {
    return this.server.stop();
  }
}

function completion(message: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    model: 'fake-model-1',
    choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: message.tool_calls ? 'tool_calls' : 'stop' }],
    usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 },
    ...extra,
  };
}

function chunk(delta: Record<string, unknown>, finish: string | null = null): Record<string, unknown> {
  return { id: 'chatcmpl-1', object: 'chat.completion.chunk', model: 'fake-model-1', choices: [{ index: 0, delta, finish_reason: finish }] };
}

async function collect(stream: AsyncIterable<ChatDelta>): Promise<{ deltas: ChatDelta[]; text: string[]; done: ChatResponse }> {
  const deltas: ChatDelta[] = [];
  for await (const delta of stream) deltas.push(delta);
  const last = deltas.at(-1);
  assert.ok(last?.type === 'done', 'a stream ends with done');
  return { deltas, text: deltas.flatMap((d) => (d.type === 'text' ? [d.text] : [])), done: last.response };
}

function llmError(code: LlmError['code'], check: (error: LlmError) => void = () => undefined): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(error instanceof LlmError, `expected LlmError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    check(error);
    return true;
  };
}

const hello: ChatRequest = { messages: [{ role: 'user', content: 'Hi' }] };
const contactSchema = {
  type: 'object',
  properties: { name: { type: 'string' }, age: { type: 'integer' } },
  required: ['name', 'age'],
  additionalProperties: false,
};

describe('OpenAI-compatible chat provider', () => {
  const server = new FakeChatServer();
  let baseUrl = '';
  before(async () => {
    baseUrl = await server.start();
  });
  after(() => server.stop());
  beforeEach(() => {
    server.requests.length = 0;
    server.respond = defaultHandler;
  });

  describe('complete', () => {
    it('posts model, messages, tools, tool_choice and options with the bearer key and extra headers', async () => {
      const provider = new OpenAiChatProvider({ baseUrl: `${baseUrl}/v1/`, apiKey: 'sk-test', model: 'llama3.1:8b', headers: { 'x-team': 'voice' } });
      const reply = await provider.complete({
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Book me for Tuesday', name: 'caller' },
          { role: 'assistant', content: null, toolCalls: [{ id: 'call_9', name: 'book', arguments: { day: 'tue' } }] },
          { role: 'tool', toolCallId: 'call_9', content: '{"ok":true}' },
          { role: 'assistant', content: 'Done.' },
        ],
        tools: [
          { name: 'book', description: 'Books a slot', parameters: { type: 'object', properties: { day: { type: 'string' } } } },
          { name: 'hangup' },
        ],
        toolChoice: { name: 'book' },
        temperature: 0.2,
        maxTokens: 64,
      });
      const [request] = server.requests;
      assert.ok(request);
      assert.equal(request.method, 'POST');
      assert.equal(request.url, '/v1/chat/completions');
      assert.equal(request.headers.authorization, 'Bearer sk-test');
      assert.equal(request.headers['content-type'], 'application/json');
      assert.equal(request.headers['x-team'], 'voice');
      assert.deepEqual(request.body, {
        model: 'llama3.1:8b',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Book me for Tuesday', name: 'caller' },
          { role: 'assistant', content: null, tool_calls: [{ id: 'call_9', type: 'function', function: { name: 'book', arguments: '{"day":"tue"}' } }] },
          { role: 'tool', tool_call_id: 'call_9', content: '{"ok":true}' },
          { role: 'assistant', content: 'Done.' },
        ],
        tools: [
          { type: 'function', function: { name: 'book', description: 'Books a slot', parameters: { type: 'object', properties: { day: { type: 'string' } } } } },
          { type: 'function', function: { name: 'hangup', parameters: { type: 'object', properties: {} } } },
        ],
        tool_choice: { type: 'function', function: { name: 'book' } },
        temperature: 0.2,
        max_tokens: 64,
      });
      assert.equal(reply.text, 'Hello there.');
      assert.deepEqual(reply.toolCalls, []);
      assert.equal(reply.finishReason, 'stop');
      assert.equal(reply.model, 'fake-model-1');
      assert.deepEqual(reply.usage, { promptTokens: 12, completionTokens: 3, totalTokens: 15 });
      assert.ok(reply.latencyMs >= 0 && reply.firstTokenMs === reply.latencyMs);
      assert.equal(reply.json, undefined);
    });

    it('sends no authorization without a key, and a per-request model override', async () => {
      const provider = new OpenAiChatProvider({ baseUrl, model: 'default-model' });
      await provider.complete({ ...hello, model: 'other-model', toolChoice: 'auto' });
      const [request] = server.requests;
      assert.equal(request?.headers.authorization, undefined);
      assert.equal(request?.body.model, 'other-model');
      assert.equal(request?.body.tool_choice, 'auto');
      assert.equal(request?.body.stream, undefined);
      assert.equal(provider.model, 'default-model');
      assert.equal(provider.name, `openai:${baseUrl}`);
    });

    it('returns tool calls with their arguments parsed, keeping what the model wrote', async () => {
      server.respond = (_r, res) => FakeChatServer.json(res, 200, completion({
        content: null,
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'lookup_order', arguments: '{"order_id":"A-17","verbose":true}' } },
          { id: 'call_2', type: 'function', function: { name: 'hangup', arguments: '' } },
          { id: 'call_x', type: 'function', function: { name: 'transfer', arguments: '{"to": +1555' } },
          { type: 'function', function: { name: 'note', arguments: { text: 'object arguments' } } },
        ],
      }));
      const provider = new OpenAiChatProvider({ baseUrl, model: 'm' });
      const reply = await provider.complete({ ...hello, tools: [{ name: 'lookup_order' }] });
      assert.equal(reply.finishReason, 'tool_calls');
      assert.equal(reply.text, '');
      const [lookup, hangup, transfer, note] = reply.toolCalls;
      assert.deepEqual(lookup, { id: 'call_1', name: 'lookup_order', arguments: { order_id: 'A-17', verbose: true }, rawArguments: '{"order_id":"A-17","verbose":true}' });
      assert.deepEqual(hangup?.arguments, {});
      assert.equal(transfer?.arguments, null);
      assert.equal(transfer?.rawArguments, '{"to": +1555');
      assert.match(transfer?.argumentsError ?? '', /not JSON/);
      assert.deepEqual(note, { id: 'call_3', name: 'note', arguments: { text: 'object arguments' }, rawArguments: '{"text":"object arguments"}' });
    });

    it('asks for a json_schema reply and parses it', async () => {
      server.respond = (_r, res) => FakeChatServer.json(res, 200, completion({ content: '{"name":"Ada","age":36}' }));
      const provider = new OpenAiChatProvider({ baseUrl, model: 'm' });
      const reply = await provider.complete({
        messages: [{ role: 'system', content: 'Collect details.' }, { role: 'user', content: 'Ada, 36' }],
        responseFormat: { type: 'json_schema', name: 'contact details!', schema: contactSchema, strict: true },
      });
      assert.deepEqual(server.requests[0]?.body.response_format, {
        type: 'json_schema',
        json_schema: { name: 'contact_details_', schema: contactSchema, strict: true },
      });
      assert.deepEqual(server.requests[0]?.body.messages, [{ role: 'system', content: 'Collect details.' }, { role: 'user', content: 'Ada, 36' }]);
      assert.deepEqual(reply.json, { name: 'Ada', age: 36 });
    });

    it('falls back to json_object with the schema in the system prompt', async () => {
      server.respond = (_r, res) => FakeChatServer.json(res, 200, completion({ content: '```json\n{"name":"Ada","age":36}\n```' }));
      const provider = new OpenAiChatProvider({ baseUrl, model: 'm', structuredOutput: 'json_object' });
      const reply = await provider.complete({
        messages: [{ role: 'system', content: 'Collect details.' }, { role: 'user', content: 'Ada, 36' }],
        responseFormat: { type: 'json_schema', schema: contactSchema },
      });
      const body = server.requests[0]?.body;
      assert.deepEqual(body?.response_format, { type: 'json_object' });
      const messages = body?.messages as { role: string; content: string }[];
      assert.equal(messages.length, 2);
      assert.equal(messages[0]?.role, 'system');
      assert.ok(messages[0]?.content.startsWith('Collect details.\n\n'));
      assert.match(messages[0]?.content ?? '', /single JSON object/);
      assert.ok(messages[0]?.content.includes(JSON.stringify(contactSchema)));
      assert.deepEqual(reply.json, { name: 'Ada', age: 36 }, 'code fences are tolerated');
    });

    it('in prompt mode sends no response_format and adds a system message when there is none', async () => {
      server.respond = (_r, res) => FakeChatServer.json(res, 200, completion({ content: 'Sure! {"name":"Ada","age":36} Anything else?' }));
      const provider = new OpenAiChatProvider({ baseUrl, model: 'm', structuredOutput: 'prompt' });
      const reply = await provider.complete({ ...hello, responseFormat: { type: 'json_schema', schema: contactSchema } });
      const body = server.requests[0]?.body;
      assert.equal(body?.response_format, undefined);
      const messages = body?.messages as { role: string; content: string }[];
      assert.equal(messages[0]?.role, 'system');
      assert.ok(messages[0]?.content.includes(JSON.stringify(contactSchema)));
      assert.deepEqual(messages[1], { role: 'user', content: 'Hi' });
      assert.deepEqual(reply.json, { name: 'Ada', age: 36 }, 'chatter around the object is tolerated');
    });

    it('rejects a reply that is not JSON when JSON was asked for', async () => {
      server.respond = (_r, res) => FakeChatServer.json(res, 200, completion({ content: 'I could not find a name.' }));
      const provider = new OpenAiChatProvider({ baseUrl, model: 'm' });
      await assert.rejects(provider.complete({ ...hello, responseFormat: { type: 'json_schema', schema: contactSchema } }),
        llmError('bad_response', (e) => assert.match(e.message, /other than JSON: I could not find a name/)));
    });

    it('keeps a leading <think> block and reasoning_content out of the text', async () => {
      server.respond = (_r, res) => FakeChatServer.json(res, 200, completion({ content: '<think>\nThe user greets me.\n</think>\n\nHello!' }));
      const provider = new OpenAiChatProvider({ baseUrl, model: 'm' });
      const reply = await provider.complete(hello);
      assert.equal(reply.text, 'Hello!');
      assert.equal(reply.reasoning, 'The user greets me.');
      server.respond = (_r, res) => FakeChatServer.json(res, 200, completion({ content: 'Hi.', reasoning_content: 'Short answer.' }));
      const second = await provider.complete(hello);
      assert.equal(second.text, 'Hi.');
      assert.equal(second.reasoning, 'Short answer.');
    });

    it('turns HTTP 500 into http_error with the status and the server message', async () => {
      server.respond = (_r, res) => FakeChatServer.json(res, 500, { error: { message: 'model failed to load', type: 'server_error' } });
      const provider = new OpenAiChatProvider({ baseUrl, model: 'm' });
      await assert.rejects(provider.complete(hello), llmError('http_error', (e) => {
        assert.equal(e.status, 500);
        assert.match(e.message, /answered 500: model failed to load/);
        assert.equal(e.retryable, true);
      }));
    });

    it('reports 429 with Retry-After, and a 404 as not worth retrying', async () => {
      server.respond = (_r, res) => FakeChatServer.json(res, 429, { error: { message: 'Rate limit reached' } }, { 'retry-after': '2' });
      const provider = new OpenAiChatProvider({ baseUrl, model: 'm' });
      await assert.rejects(provider.complete(hello), llmError('http_error', (e) => {
        assert.equal(e.status, 429);
        assert.equal(e.retryAfterMs, 2000);
        assert.equal(e.retryable, true);
        assert.match(e.message, /Rate limit reached/);
      }));
      server.respond = (_r, res) => FakeChatServer.json(res, 404, '{"error":"model \\"nope\\" not found, try pulling it first"}');
      await assert.rejects(provider.complete(hello), llmError('http_error', (e) => {
        assert.equal(e.status, 404);
        assert.equal(e.retryable, false);
        assert.match(e.message, /model "nope" not found/);
      }));
    });

    it('times out with timeout when the server does not answer', async () => {
      server.respond = () => undefined;
      const provider = new OpenAiChatProvider({ baseUrl, model: 'm', timeoutMs: 100 });
      const started = Date.now();
      await assert.rejects(provider.complete(hello), llmError('timeout', (e) => assert.match(e.message, /within 100 ms/)));
      assert.ok(Date.now() - started < 2000);
    });

    it('stops at once on abort, with the signal reason rather than an LlmError', async () => {
      server.respond = () => undefined;
      const provider = new OpenAiChatProvider({ baseUrl, model: 'm' });
      const controller = new AbortController();
      const pending = provider.complete(hello, { signal: controller.signal });
      setTimeout(() => controller.abort(), 30);
      await assert.rejects(pending, (error: unknown) => {
        assert.ok(!(error instanceof LlmError));
        assert.equal((error as Error).name, 'AbortError');
        return true;
      });
      const count = server.requests.length;
      await assert.rejects(provider.complete(hello, { signal: AbortSignal.abort() }), { name: 'AbortError' });
      assert.equal(server.requests.length, count, 'an aborted signal sends nothing');
    });

    it('rejects malformed bodies with bad_response', async () => {
      const provider = new OpenAiChatProvider({ baseUrl, model: 'm' });
      server.respond = (_r, res) => FakeChatServer.json(res, 200, '<html>gateway</html>');
      await assert.rejects(provider.complete(hello), llmError('bad_response', (e) => assert.match(e.message, /other than JSON: <html>gateway/)));
      server.respond = (_r, res) => FakeChatServer.json(res, 200, { id: 'x', choices: [] });
      await assert.rejects(provider.complete(hello), llmError('bad_response', (e) => assert.match(e.message, /choices\[0\]\.message/)));
      server.respond = (_r, res) => FakeChatServer.json(res, 200, completion({ content: 42 }));
      await assert.rejects(provider.complete(hello), llmError('bad_response'));
      server.respond = (_r, res) => FakeChatServer.json(res, 200, completion({ content: null, tool_calls: [{ id: 'c', function: { arguments: '{}' } }] }));
      await assert.rejects(provider.complete(hello), llmError('bad_response', (e) => assert.match(e.message, /without a function name/)));
    });

    it('refuses an answer larger than maxResponseBytes', async () => {
      server.respond = (_r, res) => FakeChatServer.json(res, 200, completion({ content: 'x'.repeat(5000) }));
      const provider = new OpenAiChatProvider({ baseUrl, model: 'm', maxResponseBytes: 1000 });
      await assert.rejects(provider.complete(hello), llmError('bad_response', (e) => assert.match(e.message, /more than 1000 bytes/)));
    });

    it('reports an unreachable server as http_error without a status', async () => {
      const closed = new FakeChatServer();
      const url = await closed.start();
      await closed.stop();
      const provider = new OpenAiChatProvider({ baseUrl: url, model: 'm' });
      await assert.rejects(provider.complete(hello), llmError('http_error', (e) => {
        assert.equal(e.status, undefined);
        assert.match(e.message, /unreachable/);
      }));
    });
  });

  describe('stream', () => {
    it('yields text deltas in order as they arrive, then the whole reply', async () => {
      let release: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      server.respond = async (_r, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(`data: ${JSON.stringify(chunk({ role: 'assistant', content: '' }))}\n\n`);
        res.write(`data: ${JSON.stringify(chunk({ content: 'Thanks for calling.' }))}\n\n`);
        // The rest only comes once the client has seen the first sentence.
        await gate;
        res.write(`data: ${JSON.stringify(chunk({ content: ' How can' }))}\n\n`);
        res.write(`data: ${JSON.stringify(chunk({ content: ' I help?' }, 'stop'))}\n\n`);
        res.write(`data: ${JSON.stringify({ id: 'chatcmpl-1', model: 'fake-model-1', choices: [], usage: { prompt_tokens: 5, completion_tokens: 6, total_tokens: 11 } })}\n\n`);
        res.end('data: [DONE]\n\n');
      };
      const provider = new OpenAiChatProvider({ baseUrl, apiKey: 'sk-s', model: 'm' });
      const seen: ChatDelta[] = [];
      for await (const delta of provider.stream(hello)) {
        seen.push(delta);
        if (delta.type === 'text' && delta.text === 'Thanks for calling.') release();
      }
      const body = server.requests[0]?.body;
      assert.equal(body?.stream, true);
      assert.deepEqual(body?.stream_options, { include_usage: true });
      assert.equal(server.requests[0]?.headers.accept, 'text/event-stream');
      assert.equal(server.requests[0]?.headers.authorization, 'Bearer sk-s');
      assert.deepEqual(seen.slice(0, 3), [
        { type: 'text', text: 'Thanks for calling.' },
        { type: 'text', text: ' How can' },
        { type: 'text', text: ' I help?' },
      ]);
      const done = seen[3];
      assert.ok(done?.type === 'done');
      assert.equal(seen.length, 4);
      assert.equal(done.response.text, 'Thanks for calling. How can I help?');
      assert.equal(done.response.finishReason, 'stop');
      assert.deepEqual(done.response.usage, { promptTokens: 5, completionTokens: 6, totalTokens: 11 });
      assert.ok(done.response.firstTokenMs <= done.response.latencyMs);
    });

    it('assembles tool calls from fragments split across chunks and lines', async () => {
      const events = [
        chunk({ role: 'assistant', content: null, tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'lookup_order', arguments: '' } }] }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: '{"order' } }] }),
        chunk({ tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'send_sms', arguments: '{"to":' } }] }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: '_id":"A-17"}' } }] }),
        chunk({ tool_calls: [{ index: 1, function: { arguments: '"+15550100"}' } }] }, 'tool_calls'),
      ];
      // CRLF line ends, and writes that cut events (and one CRLF) in two.
      const wire = `${events.map((e) => `data: ${JSON.stringify(e)}\r\n\r\n`).join('')}data: [DONE]\r\n\r\n`;
      server.respond = async (_r, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
        const cuts = [7, 50, 51, 130, wire.indexOf('\r\n') + 1, 300];
        let from = 0;
        for (const at of [...new Set(cuts)].sort((a, b) => a - b)) {
          res.write(wire.slice(from, at));
          from = at;
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
        res.end(wire.slice(from));
      };
      const provider = new OpenAiChatProvider({ baseUrl, model: 'm' });
      const { deltas, text, done } = await collect(provider.stream({ ...hello, tools: [{ name: 'lookup_order' }, { name: 'send_sms' }] }));
      assert.deepEqual(text, []);
      assert.deepEqual(deltas.filter((d) => d.type === 'tool_call').map((d) => (d.type === 'tool_call' ? d.toolCall : null)), [
        { id: 'call_a', name: 'lookup_order', arguments: { order_id: 'A-17' }, rawArguments: '{"order_id":"A-17"}' },
        { id: 'call_b', name: 'send_sms', arguments: { to: '+15550100' }, rawArguments: '{"to":"+15550100"}' },
      ]);
      assert.equal(done.finishReason, 'tool_calls');
      assert.equal(done.toolCalls.length, 2);
    });

    it('parses a streamed json_schema reply at the end', async () => {
      server.respond = (_r, res) => FakeChatServer.sse(res, [
        chunk({ content: '{"name":' }),
        chunk({ content: '"Ada","age":36}' }, 'stop'),
      ]);
      const provider = new OpenAiChatProvider({ baseUrl, model: 'm' });
      const { done } = await collect(provider.stream({ ...hello, responseFormat: { type: 'json_schema', schema: contactSchema } }));
      assert.equal(server.requests[0]?.body.stream, true);
      assert.deepEqual((server.requests[0]?.body.response_format as { type: string }).type, 'json_schema');
      assert.deepEqual(done.json, { name: 'Ada', age: 36 });
    });

    it('holds back a <think> block split across deltas', async () => {
      server.respond = (_r, res) => FakeChatServer.sse(res, [
        chunk({ content: '<thi' }),
        chunk({ content: 'nk>Greeting; ' }),
        chunk({ content: 'answer politely.</th' }),
        chunk({ content: 'ink>\n\n' }),
        chunk({ content: 'Good morning!' }, 'stop'),
      ]);
      const provider = new OpenAiChatProvider({ baseUrl, model: 'm' });
      const { text, done } = await collect(provider.stream(hello));
      assert.deepEqual(text, ['Good morning!']);
      assert.equal(done.text, 'Good morning!');
      assert.equal(done.reasoning, 'Greeting; answer politely.');
    });

    it('accepts a server that ignores stream and answers with JSON', async () => {
      const provider = new OpenAiChatProvider({ baseUrl, model: 'm', streamUsage: false });
      const { deltas, done } = await collect(provider.stream(hello));
      assert.equal(server.requests[0]?.body.stream_options, undefined);
      assert.deepEqual(deltas[0], { type: 'text', text: 'Hello there.' });
      assert.equal(done.text, 'Hello there.');
    });

    it('reports errors inside the stream', async () => {
      const provider = new OpenAiChatProvider({ baseUrl, model: 'm' });
      server.respond = (_r, res) => FakeChatServer.sse(res, [chunk({ content: 'Hel' }), { error: { message: 'CUDA out of memory' } }]);
      await assert.rejects(collect(provider.stream(hello)), llmError('http_error', (e) => assert.match(e.message, /mid-stream: CUDA out of memory/)));
      server.respond = (_r, res) => FakeChatServer.sse(res, [chunk({ content: 'Hel' }), '{"choices": [nope']);
      await assert.rejects(collect(provider.stream(hello)), llmError('bad_response', (e) => assert.match(e.message, /streamed something other than JSON/)));
      server.respond = (_r, res) => FakeChatServer.sse(res, [chunk({ content: 'Hel' })], { done: false });
      await assert.rejects(collect(provider.stream(hello)), llmError('http_error', (e) => assert.match(e.message, /before the reply was complete/)));
      server.respond = (_r, res) => FakeChatServer.json(res, 503, { error: { message: 'overloaded' } });
      await assert.rejects(collect(provider.stream(hello)), llmError('http_error', (e) => assert.equal(e.status, 503)));
    });

    it('times out when the stream goes quiet, after what already arrived', async () => {
      server.respond = (_r, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(`data: ${JSON.stringify(chunk({ content: 'One moment' }))}\n\n`);
      };
      const provider = new OpenAiChatProvider({ baseUrl, model: 'm', timeoutMs: 150 });
      const seen: string[] = [];
      await assert.rejects(async () => {
        for await (const delta of provider.stream(hello)) if (delta.type === 'text') seen.push(delta.text);
      }, llmError('timeout'));
      assert.deepEqual(seen, ['One moment']);
    });

    it('keeps going past timeoutMs while pieces keep arriving', async () => {
      server.respond = async (_r, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        for (const word of ['one', ' two', ' three', ' four']) {
          res.write(`data: ${JSON.stringify(chunk({ content: word }))}\n\n`);
          await new Promise((resolve) => setTimeout(resolve, 60));
        }
        res.end(`data: ${JSON.stringify(chunk({}, 'stop'))}\n\ndata: [DONE]\n\n`);
      };
      const provider = new OpenAiChatProvider({ baseUrl, model: 'm', timeoutMs: 150 });
      const { done } = await collect(provider.stream(hello));
      assert.equal(done.text, 'one two three four');
    });

    it('aborts mid-stream with the signal reason, and hangs up when the consumer stops early', async () => {
      server.respond = (_r, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(`data: ${JSON.stringify(chunk({ content: 'Hello' }))}\n\n`);
      };
      const provider = new OpenAiChatProvider({ baseUrl, model: 'm' });
      const controller = new AbortController();
      await assert.rejects(async () => {
        for await (const delta of provider.stream(hello, { signal: controller.signal })) {
          if (delta.type === 'text') controller.abort();
        }
      }, (error: unknown) => !(error instanceof LlmError) && (error as Error).name === 'AbortError');

      for await (const delta of provider.stream(hello)) {
        assert.deepEqual(delta, { type: 'text', text: 'Hello' });
        break;
      }
      await Promise.race([
        server.closed,
        new Promise((_, reject) => setTimeout(() => reject(new Error('the request was not cancelled')), 2000).unref()),
      ]);
    });

    it('refuses a stream larger than maxResponseBytes', async () => {
      server.respond = (_r, res) => FakeChatServer.sse(res, Array.from({ length: 50 }, () => chunk({ content: 'x'.repeat(100) })));
      const provider = new OpenAiChatProvider({ baseUrl, model: 'm', maxResponseBytes: 2000 });
      await assert.rejects(collect(provider.stream(hello)), llmError('bad_response', (e) => assert.match(e.message, /more than 2000 bytes/)));
    });
  });

  it('resolves a provider from configuration that talks to the server with the referenced key', async () => {
    const resolved = resolveLlm(
      { baseUrl, model: 'local-model', apiKeyRefs: { my_openai_key: 'sk-from-ref' }, models: { 'openai/gpt-4o': 'mapped-model' } },
      { model: 'openai/gpt-4o', instructions: 'You collect addresses.', openai_api_key_ref: 'my_openai_key' },
    );
    assert.ok(resolved.ok);
    const reply = await resolved.value.provider.complete({ messages: [{ role: 'system', content: resolved.value.instructions ?? '' }, ...hello.messages] });
    assert.equal(reply.text, 'Hello there.');
    assert.equal(server.requests[0]?.headers.authorization, 'Bearer sk-from-ref');
    assert.equal(server.requests[0]?.body.model, 'mapped-model');
  });
});
