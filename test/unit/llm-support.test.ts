import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LlmError, isLlmError } from '../../src/ai/llm/errors.js';
import { jsonInstruction, parseJsonReply } from '../../src/ai/llm/openai-chat.js';
import { SseDataDecoder } from '../../src/ai/llm/sse.js';
import { fromTelnyxMessages, toTelnyxHistory } from '../../src/ai/llm/telnyx-messages.js';

describe('SseDataDecoder', () => {
  it('returns event data across arbitrary chunk boundaries and line endings', () => {
    const decoder = new SseDataDecoder();
    const out: string[] = [];
    for (const piece of ['da', 'ta: {"a":1}\r', '\n\r\ndata:{"b"', ':2}\n', '\n: keep-alive comment\n\nevent: x\nid: 3\ndata: one\ndata: two\n\n', 'data: [DONE]\r\r']) {
      out.push(...decoder.push(piece));
    }
    out.push(...decoder.end());
    assert.deepEqual(out, ['{"a":1}', '{"b":2}', 'one\ntwo', '[DONE]']);
  });

  it('keeps a last event without its blank line, and refuses an endless line', () => {
    const decoder = new SseDataDecoder();
    assert.deepEqual(decoder.push('data: tail'), []);
    assert.deepEqual(decoder.end(), ['tail']);
    const small = new SseDataDecoder({ maxLineChars: 10 });
    assert.throws(() => small.push('data: 0123456789abcdef'), RangeError);
  });
});

describe('JSON replies', () => {
  it('parses plain, fenced and wrapped objects', () => {
    assert.deepEqual(parseJsonReply(' {"a":1} '), { a: 1 });
    assert.deepEqual(parseJsonReply('```json\n{"a":[1,2]}\n```'), { a: [1, 2] });
    assert.deepEqual(parseJsonReply('Here it is: {"a":{"b":true}}. Done.'), { a: { b: true } });
  });

  it('explains what was wrong', () => {
    assert.throws(() => parseJsonReply('', 'http://x/v1/chat/completions', 'length'), (e: unknown) => isLlmError(e, 'bad_response') && /ran out of tokens/.test(e.message));
    assert.throws(() => parseJsonReply('{"a":'), (e: unknown) => isLlmError(e, 'bad_response'));
  });

  it('words the instruction used without native json_schema', () => {
    const text = jsonInstruction({ type: 'json_schema', schema: { type: 'object' }, description: 'caller details' }) ?? '';
    assert.match(text, /single JSON object/);
    assert.match(text, /JSON Schema \(caller details\):\n\{"type":"object"\}$/);
    assert.equal(jsonInstruction({ type: 'text' }), undefined);
  });
});

describe('LlmError', () => {
  it('carries a code, and says whether retrying may help', () => {
    const error = new LlmError('http_error', 'x', { status: 503, retryAfterMs: 1000 });
    assert.equal(error.name, 'LlmError');
    assert.equal(error.retryable, true);
    assert.equal(new LlmError('http_error', 'x', { status: 400 }).retryable, false);
    assert.equal(new LlmError('http_error', 'unreachable').retryable, true);
    assert.equal(new LlmError('timeout', 'x').retryable, true);
    assert.equal(new LlmError('bad_response', 'x').retryable, false);
    assert.equal(isLlmError(error, 'http_error'), true);
    assert.equal(isLlmError(error, 'timeout'), false);
    assert.equal(isLlmError(new Error('x')), false);
  });
});

describe('Telnyx messages', () => {
  it('turns request messages into chat messages', () => {
    assert.deepEqual(fromTelnyxMessages([
      { role: 'system', content: 'Be kind.' },
      { role: 'developer', content: 'Use metric units.' },
      { role: 'user', content: 'Hi', metadata: { x: 1 } },
      { role: 'assistant', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: '{"found":true}' },
      { role: 'assistant', content: 'Found it.' },
      { role: 'assistant', content: 'With args', tool_calls: [{ id: 'call_2', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] },
      { role: 'tool', content: 'no id' },
      { role: 'narrator', content: '?' },
      'junk',
    ]), [
      { role: 'system', content: 'Be kind.' },
      { role: 'system', content: 'Use metric units.' },
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: null, toolCalls: [{ id: 'call_1', name: 'lookup', arguments: {} }] },
      { role: 'tool', toolCallId: 'call_1', content: '{"found":true}' },
      { role: 'assistant', content: 'Found it.' },
      { role: 'assistant', content: 'With args', toolCalls: [{ id: 'call_2', name: 'f', arguments: { a: 1 }, rawArguments: '{"a":1}' }] },
    ]);
    assert.deepEqual(fromTelnyxMessages(undefined), []);
  });

  it('reports user and assistant turns that said something', () => {
    assert.deepEqual(toTelnyxHistory([
      { role: 'system', content: 'secret instructions' },
      { role: 'assistant', content: 'Hello, what is your name?' },
      { role: 'user', content: 'Ada' },
      { role: 'assistant', content: null, toolCalls: [{ id: 'c', name: 'save', arguments: {} }] },
      { role: 'tool', toolCallId: 'c', content: 'ok' },
      { role: 'assistant', content: ' ' },
    ]), [
      { role: 'assistant', content: 'Hello, what is your name?' },
      { role: 'user', content: 'Ada' },
    ]);
  });
});
