import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConfigOverrides } from '../../src/config/config.js';
import { FakeChatModel } from '../fixtures/fake-chat-model.js';
import { pocketsphinxInstalled, recognisersRunning } from '../helpers/recognise.js';
import { startPhoneApp } from '../fixtures/phone-app.js';

const APP_NUMBER = '+15550100500';
const CALLER = '+15550409997';

const ACCOUNT_FORM = {
  type: 'object',
  properties: {
    account_number: { type: 'integer', description: 'your account number' },
    confirmed: { type: 'boolean', description: 'whether you confirm the payment' },
  },
  required: ['account_number', 'confirmed'],
};

async function setup(config: ConfigOverrides = {}) {
  const app = await startPhoneApp({ number: APP_NUMBER, caller: CALLER, config });
  /** Waits until the phone has heard `count` prompts end, and returns their texts. */
  const heardPrompts = async (phone: string, count: number, timeoutMs = 15_000): Promise<string[]> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const texts = (await app.sb.virtualCall(phone)).log.filter((e) => e.event === 'prompt_ended').map((e) => String(e['text']));
      if (texts.length >= count || Date.now() > deadline) return texts;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  return { ...app, heardPrompts };
}

describe('gather_using_ai with the offline form engine', () => {
  let t: Awaited<ReturnType<typeof setup>>;
  before(async () => { t = await setup(); });
  after(async () => { await t.close(); });

  it('collects {account_number, confirmed} from keyed digits', async () => {
    const { ccid, phone } = await t.call();
    const res = await t.client.calls.actions.gatherUsingAI(ccid, { parameters: ACCOUNT_FORM, greeting: 'Hello.', send_partial_results: true, send_message_history_updates: true });
    assert.match(String((res.data as { conversation_id?: string }).conversation_id), /^[0-9a-f-]{36}$/);
    await t.heardPrompts(phone, 1);
    await t.sb.pressDigits(phone, '4271#', 60, 60);
    await t.heardPrompts(phone, 2);
    await t.sb.pressDigits(phone, '1', 60, 60);
    const ended = await t.next('call.ai_gather.ended', ccid);
    assert.equal(ended.payload['status'], 'valid');
    assert.deepEqual(ended.payload['result'], { account_number: 4271, confirmed: true });
    const history = ended.payload['message_history'] as { role: string; content: string }[];
    assert.equal(history[0]?.role, 'assistant');
    assert.ok(history.some((m) => m.role === 'user' && m.content.includes('4271')));
    const partial = await t.next('call.ai_gather.partial_results', ccid);
    assert.ok(partial.payload['partial_results']);
    await t.next('call.ai_gather.message_history_updated', ccid);
    await t.next('call.conversation.ended', ccid);
    await t.client.calls.actions.hangup(ccid, {});
  });

  it('collects them from speech: flite → pocketsphinx → form engine', { skip: pocketsphinxInstalled ? false : 'pocketsphinx not installed' }, async () => {
    const { ccid, phone } = await t.call();
    const started = await t.client.calls.actions.gatherUsingAI(ccid, { parameters: ACCOUNT_FORM });
    const conversationId = String((started.data as { conversation_id?: string }).conversation_id);
    await t.heardPrompts(phone, 1);
    await t.sb.say(phone, 'four two seven one', 'male');
    await t.heardPrompts(phone, 2);
    await t.sb.say(phone, 'yes', 'male');
    const ended = await t.next('call.ai_gather.ended', ccid, 30_000);
    assert.deepEqual([ended.payload['status'], ended.payload['result']], ['valid', { account_number: 4271, confirmed: true }],
      JSON.stringify(ended.payload['message_history']));
    // Turns: the first question, then the reply to the spoken number (the last answer ends the
    // form silently). The number was transcribed while spoken, by the recogniser the question started.
    const view = await t.sb.request<{ turns: { stt_mode: string }[] }>('GET', `/switchboard/v1/conversations/${conversationId}`);
    assert.deepEqual(view.turns.map((turn) => turn.stt_mode), ['none', 'live'], JSON.stringify(view.turns));
    await t.client.calls.actions.hangup(ccid, {});
  });

  it('starts a recogniser for each answer before it is spoken, and stops it with the conversation', { skip: pocketsphinxInstalled ? false : 'pocketsphinx not installed' }, async () => {
    /** The number of recognisers once it has settled at `expected` (processes take a moment to start and to go). */
    const recognisers = async (expected: number): Promise<number> => {
      for (let i = 0; i < 40 && (await recognisersRunning()) !== expected; i++) await new Promise((resolve) => setTimeout(resolve, 50));
      return recognisersRunning();
    };
    assert.equal(await recognisers(0), 0, 'earlier conversations left recognisers running');
    const calls = [await t.call(), await t.call()];
    for (const { ccid } of calls) await t.client.calls.actions.gatherUsingAI(ccid, { parameters: ACCOUNT_FORM });
    for (const { phone } of calls) await t.heardPrompts(phone, 1);
    assert.equal(await recognisers(2), 2);
    await t.client.calls.actions.stopGather((calls[0] as { ccid: string }).ccid, {});
    await t.client.calls.actions.hangup((calls[1] as { ccid: string }).ccid, {});
    assert.equal(await recognisers(0), 0);
    await t.client.calls.actions.hangup((calls[0] as { ccid: string }).ccid, {});
  });

  it('ends invalid after the retries when the answers make no sense', async () => {
    const { ccid, phone } = await t.call();
    await t.client.calls.actions.gatherUsingAI(ccid, { parameters: ACCOUNT_FORM, user_response_timeout_ms: 500 });
    // Silence counts as a failed answer: three tries, then invalid.
    const ended = await t.next('call.ai_gather.ended', ccid, 30_000);
    assert.equal(ended.payload['status'], 'invalid');
    assert.ok((await t.heardPrompts(phone, 3)).length >= 3);
    await t.client.calls.actions.hangup(ccid, {});
  });

  it('refuses a parameters object that is not a JSON Schema, and an assistant with no model configured', async () => {
    const { ccid } = await t.call();
    const post = async (action: string, body: unknown) => fetch(`${t.sb.baseURL}/calls/${ccid}/actions/${action}`, {
      method: 'POST', headers: { authorization: `Bearer ${t.sb.apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    const bad = await post('gather_using_ai', { parameters: { type: 'object', properties: { a: { type: 'not-a-type' } } } });
    assert.equal(bad.status, 422);
    const badBody = (await bad.json()) as { errors: { source?: { pointer?: string } }[] };
    assert.match(String(badBody.errors[0]?.source?.pointer), /^\/parameters/);
    const assistant = await post('ai_assistant_start', {});
    assert.equal(assistant.status, 422);
    const assistantBody = (await assistant.json()) as { errors: { detail?: string }[] };
    assert.match(String(assistantBody.errors[0]?.detail), /ai\.llm|SWITCHBOARD_LLM/);
    await t.client.calls.actions.hangup(ccid, {});
  });
});

describe('AI with a language model (an OpenAI-compatible test double)', () => {
  let model: FakeChatModel;
  let t: Awaited<ReturnType<typeof setup>>;
  before(async () => {
    model = await new FakeChatModel((n) => ({ account_number: n, confirmed: true })).start();
    t = await setup({ ai: { llm: { baseUrl: model.url, model: 'fake-model' } } });
  });
  after(async () => {
    await t.close();
    await model.close();
  });

  it('gather_using_ai: the model asks, the result comes through its tool, with partial results', async () => {
    const { ccid, phone } = await t.call();
    await t.client.calls.actions.gatherUsingAI(ccid, { parameters: ACCOUNT_FORM, send_partial_results: true, gather_ended_speech: 'Thank you.' });
    assert.deepEqual(await t.heardPrompts(phone, 1), ['What is your account number?']);
    await t.sb.pressDigits(phone, '4271#', 60, 60);
    const partial = await t.next('call.ai_gather.partial_results', ccid);
    assert.deepEqual(partial.payload['partial_results'], { account_number: 4271 });
    const ended = await t.next('call.ai_gather.ended', ccid);
    assert.deepEqual([ended.payload['status'], ended.payload['result']], ['valid', { account_number: 4271, confirmed: true }]);
    assert.ok(model.requests.some((r) => r.tools?.some((tool) => tool.function.name === 'save_result')));
    const ended2 = await t.next('call.conversation.ended', ccid);
    assert.equal(ended2.payload['llm_model'], 'fake-model');
    await t.client.calls.actions.hangup(ccid, {});
  });

  it('assistant: greeting, add_messages with a reply, a second start refused, stop, ended and insights', async () => {
    const { ccid, phone } = await t.call();
    const started = await t.client.calls.actions.startAIAssistant(ccid, {
      greeting: 'Hi, how can I help?',
      assistant: { id: 'assistant-bank', instructions: 'You are a bank assistant.', insight_settings: { insight_group_id: 'calls' } } as never,
    });
    assert.match(String((started.data as { conversation_id?: string }).conversation_id), /^[0-9a-f-]{36}$/);
    assert.deepEqual(await t.heardPrompts(phone, 1), ['Hi, how can I help?']);
    const second = await fetch(`${t.sb.baseURL}/calls/${ccid}/actions/ai_assistant_start`, {
      method: 'POST', headers: { authorization: `Bearer ${t.sb.apiKey}`, 'content-type': 'application/json' }, body: '{}',
    });
    assert.equal(second.status, 422);
    assert.equal(((await second.json()) as { errors: { code: string }[] }).errors[0]?.code, '90061');
    await t.client.calls.actions.addAIAssistantMessages(ccid, { messages: [{ role: 'user', content: 'What is my balance?' }], trigger_response: true } as never);
    assert.deepEqual((await t.heardPrompts(phone, 2)).slice(1), ['Your balance is twelve dollars.']);
    await t.client.calls.actions.stopAIAssistant(ccid, {});
    const ended = await t.next('call.conversation.ended', ccid);
    assert.equal(ended.payload['reason'], 'stopped');
    assert.equal(ended.payload['llm_model'], 'fake-model');
    assert.equal(ended.payload['assistant_id'], 'assistant-bank');
    const insights = await t.next('call.conversation_insights.generated', ccid);
    assert.equal(insights.payload['insight_group_id'], 'calls');
    assert.deepEqual(insights.payload['results'], [{ insight_id: 'summary', result: 'The caller asked about their balance.' }]);
    await t.client.calls.actions.hangup(ccid, {});
  });

  it('barge-in: the caller talking stops the assistant mid-sentence', async () => {
    const { ccid, phone } = await t.call();
    const long = 'Welcome to the bank. Our opening hours are nine to five on weekdays and ten to two on Saturdays, and we are closed on public holidays.';
    await t.client.calls.actions.startAIAssistant(ccid, { greeting: long });
    // Wait for the greeting to be heard, then talk over it.
    for (let i = 0; i < 100 && !(await t.sb.virtualCall(phone)).log.some((e) => e.event === 'prompt_started'); i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((resolve) => setTimeout(resolve, 500));
    await t.sb.say(phone, 'Hello, I need help with my card please.', 'male');
    const log = await (async () => {
      for (let i = 0; i < 100; i++) {
        const entries = (await t.sb.virtualCall(phone)).log;
        if (entries.some((e) => e.event === 'prompt_ended' && e['interrupted'] === true)) return entries;
        await new Promise((r) => setTimeout(r, 50));
      }
      return (await t.sb.virtualCall(phone)).log;
    })();
    const spoke = log.find((e) => e.event === 'sending_started');
    const cut = log.find((e) => e.event === 'prompt_ended' && e['interrupted'] === true);
    assert.ok(spoke && cut, JSON.stringify(log.map((e) => e.event)));
    const afterMs = Date.parse(cut.at) - Date.parse(spoke.at);
    assert.ok(afterMs >= 0 && afterMs <= 400, `the assistant stopped ${afterMs} ms after the caller started`);
    // The greeting is spoken sentence by sentence; what was queued after the cut is never heard.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const heard = (await t.sb.virtualCall(phone)).log.filter((e) => e.event === 'prompt_started').map((e) => String(e['text']));
    assert.ok(!heard.some((text) => text.startsWith('Our opening hours')), JSON.stringify(heard));
    await t.client.calls.actions.hangup(ccid, {});
    const ended = await t.next('call.conversation.ended', ccid);
    assert.equal(ended.payload['reason'], 'customer_disconnect');
  });
});
