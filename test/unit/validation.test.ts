import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../../src/api/errors.js';
import type { ErrorItem } from '../../src/api/errors.js';
import {
  actionNames, actionSchemas, applicationDefaults, createRequestValidator, dialDefaults, hasAction, isBase64, loopTimes,
  validateRequest,
} from '../../src/api/schemas/index.js';
import type { SchemaName, ValidateOptions } from '../../src/api/schemas/index.js';

const DIAL = { connection_id: 'app-1', to: '+15550001111', from: '+15550002222' };

function errorsOf(name: SchemaName, body: unknown, options?: ValidateOptions): ErrorItem[] {
  const r = validateRequest(name, body, options);
  assert.ok(!r.ok, `${name}: ${JSON.stringify(body)} was accepted`);
  return r.errors;
}

function accepted(name: SchemaName, body: unknown, options?: ValidateOptions): Record<string, unknown> {
  const r = validateRequest(name, body, options);
  assert.ok(r.ok, `${name}: ${JSON.stringify(body)} rejected: ${r.ok ? '' : JSON.stringify(r.errors)}`);
  return r.value;
}

/** The one error for `body`, asserting its code and pointer. */
function oneError(name: SchemaName, body: unknown, code: string, pointer: string): ErrorItem {
  const errors = errorsOf(name, body);
  assert.equal(errors.length, 1, `${name}: expected one error, got ${JSON.stringify(errors)}`);
  const [e] = errors;
  assert.ok(e);
  assert.equal(e.code, code, JSON.stringify(e));
  assert.equal(e.source?.pointer, pointer, JSON.stringify(e));
  return e;
}

const pointers = (errors: ErrorItem[]) => errors.map((e) => e.source?.pointer).sort();

describe('body shape', () => {
  for (const body of [[], 'text', null, 42, true, [{ payload: 'x' }]]) {
    it(`rejects a non-object body ${JSON.stringify(body)} with one root error`, () => {
      const e = oneError('speak', body, '10015', '');
      assert.equal(e.title, 'Invalid parameter type');
    });
  }

  it('treats an absent body as {} (the SDK sends none for parameterless calls)', () => {
    accepted('answer', undefined);
    accepted('hangup', undefined);
    assert.deepEqual(pointers(errorsOf('speak', undefined)), ['/payload', '/voice']);
  });

  it('accepts {} for every action without required fields', () => {
    const withRequired = new Set(['gather_using_speak', 'gather_using_ai', 'speak', 'record_start', 'send_dtmf', 'client_state_update']);
    for (const name of actionNames) {
      const r = validateRequest(name, {});
      assert.equal(r.ok, !withRequired.has(name), `${name}: {} gave ${JSON.stringify(r)}`);
    }
  });
});

describe('error items', () => {
  it('reports every problem of one body, each once, with its own pointer and code', () => {
    const errors = errorsOf('speak', {
      payload: 'x'.repeat(3001), voice: 5, payload_type: 'html', client_state: 'not base64!', extra: 1, loop: 0,
    });
    const byPointer = Object.fromEntries(errors.map((e) => [e.source?.pointer, e]));
    assert.equal(errors.length, 6, JSON.stringify(errors));
    assert.equal(byPointer['/payload']?.code, '10033');
    assert.match(byPointer['/payload']?.detail ?? '', /3000 characters/);
    assert.equal(byPointer['/voice']?.title, 'Invalid parameter type');
    assert.equal(byPointer['/payload_type']?.code, '10032');
    assert.equal(byPointer['/client_state']?.title, 'Invalid client_state');
    assert.equal(byPointer['/extra']?.title, 'Unknown parameter');
    assert.equal(byPointer['/loop']?.code, '10033');
  });

  it('gives every item the Telnyx shape', () => {
    for (const e of errorsOf('record_start', { format: 'ogg', timeout_secs: -1, bogus: true })) {
      assert.equal(typeof e.code, 'string');
      assert.ok(e.title.length > 0 && (e.detail ?? '').length > 0);
      assert.ok(e.source?.pointer?.startsWith('/'));
    }
  });

  it('points into nested objects and arrays', () => {
    oneError('dial', { ...DIAL, custom_headers: [{ name: 'X-A', value: '1' }, { name: 'X-B' }] }, '10004', '/custom_headers/1/value');
    oneError('answer', { sip_headers: [{ name: 'X-Other', value: 'v' }] }, '10032', '/sip_headers/0/name');
    oneError('answer', { assistant: { instructions: 'hi' } }, '10004', '/assistant/id');
    oneError('answer', { deepfake_detection: { enabled: true, timeout: 61 } }, '10033', '/deepfake_detection/timeout');
    oneError('answer', { custom_headers: { name: 'X' } }, '10015', '/custom_headers');
    oneError('dial', { ...DIAL, webhook_retries_policies: { 'call.hangup': { retries_ms: [1, 2, 3, 4, 5, 6] } } },
      '10033', '/webhook_retries_policies/call.hangup/retries_ms');
    oneError('ai_assistant_start', { participants: [{ id: 'v3:x', role: 'agent' }] }, '10032', '/participants/0/role');
    oneError('ai_assistant_start', { message_history: [{ role: 'tool', content: 'done' }] }, '10004', '/message_history/0/tool_call_id');
    oneError('application_create', { application_name: 'a', webhook_event_url: 'https://x.test', inbound: { channel_limit: -1 } },
      '10033', '/inbound/channel_limit');
  });

  it('escapes pointer segments per RFC 6901', () => {
    oneError('hangup', { 'a/b~c': 1 }, '10015', '/a~1b~0c');
  });

  it('checks message roles: content required except for assistant turns', () => {
    oneError('ai_assistant_add_messages', { messages: [{ role: 'user' }] }, '10004', '/messages/0/content');
    oneError('ai_assistant_add_messages', { messages: [{ role: 'robot', content: 'x' }] }, '10032', '/messages/0/role');
    accepted('ai_assistant_add_messages', {
      messages: [{ role: 'assistant', tool_calls: [{ id: 't1', type: 'function', function: { name: 'lookup' } }] },
        { role: 'tool', content: '{}', tool_call_id: 't1' }, { role: 'developer', content: 'be brief' }],
      trigger_response: true,
    });
  });
});

describe('client_state must be standard base64', () => {
  const good = ['aGVsbG8=', 'aGVsbG8', 'YQ==', 'YQ', 'YWI=', 'AAAA+/+/', ''];
  const bad = ['aGVsbG8===', 'a', 'aGk$', 'aGVs bG8=', 'a-_b', '=YQ', 'YQ=a'];

  it('recognises padded and unpadded base64 only', () => {
    for (const s of good) assert.ok(isBase64(s), s);
    for (const s of bad) assert.ok(!isBase64(s), s);
  });

  it('rejects a bad client_state on dial and every action with the base64 error', () => {
    for (const name of [...actionNames, 'dial'] as const) {
      const body = name === 'dial' ? { ...DIAL, client_state: 'not base64!' } : { client_state: 'not base64!' };
      const errors = errorsOf(name, body).filter((e) => e.source?.pointer === '/client_state');
      assert.equal(errors.length, 1, `${name}: ${JSON.stringify(errors)}`);
      assert.equal(errors[0]?.title, 'Invalid client_state', name);
    }
  });

  it('reports a non-string client_state as a type error, and requires it on client_state_update', () => {
    assert.equal(oneError('hangup', { client_state: 12 }, '10015', '/client_state').title, 'Invalid parameter type');
    oneError('client_state_update', {}, '10004', '/client_state');
    accepted('client_state_update', { client_state: 'aGk=' });
  });

  it('checks the nested transcription_config.client_state too', () => {
    oneError('answer', { transcription_config: { client_state: '%%' } }, '10015', '/transcription_config/client_state');
  });
});

describe('limits', () => {
  const cases: Array<[SchemaName, Record<string, unknown>, string, unknown[], unknown[]]> = [
    ['gather', {}, 'gather_id', ['x', 'x'.repeat(40)], ['', 'x'.repeat(41)]],
    ['gather', {}, 'maximum_digits', [1, 128], [0, 129]],
    ['gather', {}, 'minimum_digits', [1], [0]],
    ['gather_using_speak', { voice: 'female' }, 'payload', ['x'.repeat(3000)], ['x'.repeat(3001)]],
    ['speak', { voice: 'female' }, 'payload', ['x'.repeat(3000)], ['x'.repeat(3001)]],
    ['playback_start', {}, 'loop', [1, 100, 'infinity', '7', '100'], [0, 101]],
    ['speak', { voice: 'female', payload: 'hi' }, 'loop', [1, 'infinity'], [0, 101]],
    ['dial', DIAL, 'timeout_secs', [5, 600], [4, 601]],
    ['dial', DIAL, 'time_limit_secs', [30, 14400], [29, 14401]],
    ['dial', DIAL, 'record_max_length', [0, 43200], [-1, 43201]],
    ['dial', DIAL, 'send_digits_on_answer', ['ww1234#', '1'.repeat(64)], ['1'.repeat(65)]],
    ['record_start', { format: 'mp3', channels: 'single' }, 'max_length', [0, 14400], [-1, 14401]],
    ['record_start', { format: 'mp3', channels: 'single' }, 'custom_file_name', ['a', 'a'.repeat(40)], ['', 'a'.repeat(41)]],
    ['send_dtmf', { digits: '1' }, 'duration_millis', [100, 500], [99, 501]],
    ['application_create', { application_name: 'a', webhook_event_url: 'https://x.test' }, 'webhook_timeout_secs', [0, 30, null], [-1, 31]],
  ];
  for (const [name, base, field, ok, outOfRange] of cases) {
    it(`${name}.${field}`, () => {
      for (const v of ok) accepted(name, { ...base, [field]: v });
      for (const v of outOfRange) assert.equal(oneError(name, { ...base, [field]: v }, '10033', `/${field}`).title, 'Value outside of range');
    });
  }

  it('words loop failures as one error for the field, whatever the branch', () => {
    assert.match(oneError('playback_start', { loop: 0 }, '10033', '/loop').detail ?? '', /between 1 and 100.*infinity/);
    for (const text of ['forever', '0', '101', '']) oneError('playback_start', { loop: text }, '10015', '/loop');
    assert.match(oneError('playback_start', { loop: true }, '10015', '/loop').detail ?? '', /integer or string/);
    oneError('playback_start', { loop: 1.5 }, '10015', '/loop');
    assert.equal(loopTimes('infinity'), Infinity);
    assert.equal(loopTimes('7'), 7);
    assert.equal(loopTimes(3), 3);
  });

  it('checks DTMF strings and webhook URLs by pattern', () => {
    oneError('send_dtmf', { digits: '12x' }, '10015', '/digits');
    oneError('send_dtmf', { digits: '' }, '10015', '/digits');
    accepted('send_dtmf', { digits: '0123456789ABCD*#wW' });
    oneError('application_create', { application_name: 'a', webhook_event_url: 'ftp://x.test' }, '10015', '/webhook_event_url');
    for (const failover of ['', null, 'https://b.test']) {
      accepted('application_create', { application_name: 'a', webhook_event_url: 'http://127.0.0.1:9/x', webhook_event_failover_url: failover });
    }
  });
});

describe('dial to', () => {
  it('takes a string or a non-empty list of strings', () => {
    accepted('dial', DIAL);
    accepted('dial', { ...DIAL, to: ['+15550001111', 'sip:bob@example.com'] });
    assert.match(oneError('dial', { ...DIAL, to: [] }, '10033', '/to').detail ?? '', /non-empty/);
    assert.match(oneError('dial', { ...DIAL, to: 5 }, '10015', '/to').detail ?? '', /string or array of strings/);
    oneError('dial', { ...DIAL, to: ['+15550001111', 7] }, '10015', '/to/1');
  });

  it('requires connection_id, to and from', () => {
    const errors = errorsOf('dial', {});
    assert.deepEqual(pointers(errors), ['/connection_id', '/from', '/to']);
    assert.ok(errors.every((e) => e.code === '10004'));
  });
});

describe('unknown fields', () => {
  it('are rejected by default, one error each', () => {
    const errors = errorsOf('gather', { gather_idd: 'x', cliet_state: 'aGk=' });
    assert.deepEqual(pointers(errors), ['/cliet_state', '/gather_idd']);
    assert.ok(errors.every((e) => e.title === 'Unknown parameter'));
  });

  it("are dropped from the copy with unknownFields: 'strip'", () => {
    const value = accepted('gather', { gather_idd: 'x', gather_id: 'g1' }, { unknownFields: 'strip' });
    assert.equal(value['gather_idd'], undefined);
    assert.equal(value['gather_id'], 'g1');
  });

  it('never include the fields telnyx 7.24.0 adds beyond the spec, or ones it dropped', () => {
    accepted('dial', { ...DIAL, route_to_mobile: true, diversion: '+15550003333' });
    accepted('ai_assistant_add_messages', { trigger_response: false });
    accepted('ai_assistant_start', { voice: 'Telnyx.KokoroTTS.af', voice_settings: { type: 'telnyx', voice_speed: 1.2 } });
    // Nested shapes stay open: a provider newer than the spec still passes.
    accepted('speak', { payload: 'hi', voice: 'x', voice_settings: { type: 'soniox', speed: 1 } });
  });
});

describe('defaults', () => {
  it('fill a copy and never touch the input', () => {
    // Frozen, so any write to the input would throw.
    const body = Object.freeze({ maximum_digits: 5 });
    const value = accepted('gather', body);
    assert.deepEqual(body, { maximum_digits: 5 });
    assert.notEqual(value, body);
    assert.equal(value['maximum_digits'], 5);
    assert.equal(value['minimum_digits'], 1);
    assert.equal(value['timeout_millis'], 60000);
    assert.equal(value['valid_digits'], '0123456789#*');
    assert.equal(value['gather_id'], undefined);
  });

  it('deep-copies nested input', () => {
    const headers = [{ name: 'X-A', value: '1' }];
    const value = accepted('hangup', { custom_headers: headers });
    assert.notEqual(value['custom_headers'], headers);
    assert.deepEqual(value['custom_headers'], headers);
  });

  it('give each call its own copy of list defaults', () => {
    const first = accepted('ai_assistant_start', {});
    assert.deepEqual(first['message_history'], []);
    (first['message_history'] as unknown[]).push({ role: 'user', content: 'leak' });
    assert.deepEqual(accepted('ai_assistant_start', {})['message_history'], []);
  });

  it('are exported, frozen, and match the contract', () => {
    assert.deepEqual(actionSchemas.gather.defaults, {
      initial_timeout_millis: 5000, inter_digit_timeout_millis: 5000, maximum_digits: 128, minimum_digits: 1,
      terminating_digit: '#', timeout_millis: 60000, valid_digits: '0123456789#*',
    });
    assert.equal(actionSchemas.playback_stop.defaults['stop'], 'all');
    assert.equal(actionSchemas.playback_start.defaults['loop'], 1);
    assert.equal(dialDefaults['timeout_secs'], 30);
    assert.equal(dialDefaults['time_limit_secs'], 14400);
    assert.equal(applicationDefaults['webhook_api_version'], '1');
    assert.throws(() => { (dialDefaults as Record<string, unknown>)['timeout_secs'] = 1; }, TypeError);
  });

  it('are not applied to an application update, where absent means unchanged', () => {
    const value = accepted('application_update', { application_name: 'a', webhook_event_url: 'https://x.test' });
    assert.deepEqual(Object.keys(value).sort(), ['application_name', 'webhook_event_url']);
    assert.equal(accepted('application_create', { application_name: 'a', webhook_event_url: 'https://x.test' })['active'], true);
  });
});

describe('createRequestValidator', () => {
  const validator = createRequestValidator();

  it('returns the checked copy or throws a 422 ApiError listing every error', () => {
    assert.equal(validator.validate('dial', DIAL)['timeout_secs'], 30);
    assert.throws(() => validator.validate('speak', { voice: 1 }), (err: unknown) => {
      assert.ok(err instanceof ApiError);
      assert.equal(err.status, 422);
      assert.deepEqual(pointers(err.body().errors), ['/payload', '/voice']);
      return true;
    });
  });

  it('treats an unknown schema name as a programming error, not a 422', () => {
    assert.throws(() => validator.validate('bridge', {}), (err: unknown) => err instanceof Error && !(err instanceof ApiError));
  });

  it('knows which action takes which method', () => {
    assert.ok(validator.hasAction('client_state_update', 'PUT'));
    assert.ok(!hasAction('client_state_update', 'POST'));
    assert.ok(hasAction('gather', 'POST') && !hasAction('gather', 'PUT'));
    assert.ok(!hasAction('bridge', 'POST'));
    assert.ok(!hasAction('__proto__', 'POST') && !hasAction('toString', 'POST'));
  });
});

describe('explicit nulls', () => {
  it('treat a null optional field as not given, and a null required field as missing', () => {
    const r = validateRequest('gather_using_speak', { payload: 'hello', voice: 'male', language: null, invalid_payload: null });
    assert.ok(r.ok);
    assert.equal(Object.hasOwn(r.value, 'language'), false);
    const missing = validateRequest('gather_using_speak', { payload: null, voice: 'male' });
    assert.equal(missing.ok, false);
    assert.equal(missing.ok ? '' : missing.errors[0]?.code, '10004');
  });
});
