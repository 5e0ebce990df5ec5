import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import Telnyx from 'telnyx';
import { TestSwitchboard } from '../../src/testing/harness.js';
import { WebhookReceiver } from '../../src/testing/webhook-receiver.js';
import { freePort } from '../helpers/child-server.js';
import { sdkClient, verify } from '../helpers/sdk.js';

const APP_NUMBER = '+15550100700';

/**
 * The JavaScript seeds (voice gather and voice media), operation by operation, through the
 * official `telnyx` SDK against a live Switchboard on virtual-phone calls. Each call is made the
 * way the seed shows it (the id is a live call's; placeholder values such as a schema of 'bar'
 * are replaced by real ones); each must succeed, and the webhooks it promises must arrive,
 * verified with client.webhooks.unwrap. Then the error classes the seeds handle.
 */
describe('JavaScript SDK: the seed operations', () => {
  let sb: TestSwitchboard;
  let receiver: WebhookReceiver;
  let client: Telnyx;
  let closeModel: () => Promise<void>;
  let fileUrl: string;
  let closeFiles: () => Promise<void>;

  before(async () => {
    // A test double for a hosted chat model, so ai_assistant_start has one to talk to.
    const model = createServer((req: IncomingMessage, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
        id: 'x', object: 'chat.completion', model: 'fake',
        choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'Hello.' } }],
      })));
    });
    await new Promise<void>((resolve) => model.listen(0, '127.0.0.1', resolve));
    const modelAddress = model.address();
    closeModel = () => new Promise((resolve) => model.close(() => resolve()));
    // A tiny WAV for the playback operation.
    const tone = Buffer.alloc(44 + 1600);
    tone.write('RIFF', 0); tone.writeUInt32LE(36 + 1600, 4); tone.write('WAVEfmt ', 8); tone.writeUInt32LE(16, 16);
    tone.writeUInt16LE(1, 20); tone.writeUInt16LE(1, 22); tone.writeUInt32LE(8000, 24); tone.writeUInt32LE(16000, 28);
    tone.writeUInt16LE(2, 32); tone.writeUInt16LE(16, 34); tone.write('data', 36); tone.writeUInt32LE(1600, 40);
    for (let i = 0; i < 800; i++) tone.writeInt16LE(Math.round(8000 * Math.sin(i / 3)), 44 + i * 2);
    const files = createServer((_req, res) => res.writeHead(200, { 'content-type': 'audio/wav' }).end(tone));
    await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
    const filesAddress = files.address();
    fileUrl = `http://127.0.0.1:${typeof filesAddress === 'object' && filesAddress ? filesAddress.port : 0}/tone.wav`;
    closeFiles = () => new Promise((resolve) => files.close(() => resolve()));

    receiver = await new WebhookReceiver().start();
    sb = await TestSwitchboard.start({
      config: {
        ai: { llm: { baseUrl: `http://127.0.0.1:${typeof modelAddress === 'object' && modelAddress ? modelAddress.port : 0}`, model: 'fake' } },
        rateLimit: { requestsPerSecond: 50, burst: 100 },
      },
    });
    client = sdkClient(sb);
    await sb.createApplication(receiver.url, [APP_NUMBER], 'seeds');
  });

  after(async () => {
    await sb.close();
    await receiver.close();
    await closeModel();
    await closeFiles();
  });

  /** Waits for the next event of a type on the call, verified with the SDK's own unwrap. */
  const seen = new Set<string>();
  const expectEvent = async (type: string, ccid: string): Promise<Record<string, unknown>> => {
    const webhook = await receiver.waitFor((w) => w.body.data?.event_type === type
      && w.body.data.payload?.['call_control_id'] === ccid && !seen.has(String(w.body.data.id)), 15_000);
    const event = await verify(client, webhook);
    seen.add(event.id);
    return event.payload;
  };

  async function answeredCall(): Promise<{ phone: string; ccid: string }> {
    const placed = await sb.placeCall('+15550409100', APP_NUMBER);
    await client.calls.actions.answer(placed.call_control_id, {});
    await expectEvent('call.answered', placed.call_control_id);
    return { phone: placed.id, ccid: placed.call_control_id };
  }

  it('voice gather: gather, gather_stop, gather_using_audio, gather_using_speak, gather_using_ai', async () => {
    const { ccid, phone } = await answeredCall();
    assert.deepEqual((await client.calls.actions.gather(ccid, {})).data, { result: 'ok' });
    assert.deepEqual((await client.calls.actions.stopGather(ccid, {})).data, { result: 'ok' });
    assert.equal((await expectEvent('call.gather.ended', ccid))['status'], 'cancelled');

    assert.deepEqual((await client.calls.actions.gatherUsingAudio(ccid, { audio_url: fileUrl, maximum_digits: 1 })).data, { result: 'ok' });
    await expectEvent('call.playback.started', ccid);
    await sb.pressDigits(phone, '5', 60, 60);
    assert.equal((await expectEvent('call.gather.ended', ccid))['digits'], '5');

    const speak = await client.calls.actions.gatherUsingSpeak(ccid, { payload: 'say this on call', voice: 'male' });
    assert.deepEqual(speak.data, { result: 'ok' });
    await sb.pressDigits(phone, '7#', 60, 60);
    assert.equal((await expectEvent('call.gather.ended', ccid))['status'], 'valid');

    const ai = await client.calls.actions.gatherUsingAI(ccid, {
      parameters: { properties: { code: { type: 'integer', description: 'the code' } }, required: ['code'], type: 'object' },
    });
    assert.match(String((ai.data as { conversation_id?: string }).conversation_id), /^[0-9a-f-]{36}$/);
    await client.calls.actions.hangup(ccid, {});
    await expectEvent('call.conversation.ended', ccid);
  });

  it('voice gather: ai_assistant_start, ai_assistant_add_messages, ai_assistant_stop', async () => {
    const { ccid } = await answeredCall();
    const started = await client.calls.actions.startAIAssistant(ccid, {});
    assert.match(String((started.data as { conversation_id?: string }).conversation_id), /^[0-9a-f-]{36}$/);
    assert.deepEqual((await client.calls.actions.addAIAssistantMessages(ccid, {})).data, { result: 'ok' });
    assert.deepEqual((await client.calls.actions.stopAIAssistant(ccid, {})).data, { result: 'ok' });
    await expectEvent('call.conversation.ended', ccid);
    await client.calls.actions.hangup(ccid, {});
  });

  it('voice media: playback_start/stop, speak, record_start/pause/resume/stop', async () => {
    const { ccid } = await answeredCall();
    assert.deepEqual((await client.calls.actions.startPlayback(ccid, { audio_url: fileUrl, loop: 'infinity' })).data, { result: 'ok' });
    await expectEvent('call.playback.started', ccid);
    assert.deepEqual((await client.calls.actions.stopPlayback(ccid, {})).data, { result: 'ok' });
    assert.equal((await expectEvent('call.playback.ended', ccid))['status'], 'cancelled');
    assert.deepEqual((await client.calls.actions.speak(ccid, { payload: 'Say this on the call', voice: 'female', language: 'en-US' })).data, { result: 'ok' });
    assert.equal((await expectEvent('call.speak.ended', ccid))['status'], 'completed');
    assert.deepEqual((await client.calls.actions.startRecording(ccid, { channels: 'single', format: 'wav' })).data, { result: 'ok' });
    assert.deepEqual((await client.calls.actions.pauseRecording(ccid, {})).data, { result: 'ok' });
    assert.deepEqual((await client.calls.actions.resumeRecording(ccid, {})).data, { result: 'ok' });
    assert.deepEqual((await client.calls.actions.stopRecording(ccid, {})).data, { result: 'ok' });
    const saved = await expectEvent('call.recording.saved', ccid);
    assert.ok((saved['recording_urls'] as Record<string, string>)['wav']);
    await client.calls.actions.hangup(ccid, {});
  });

  it('the error classes the seeds handle: connection, 401, 404, 422, 429', async () => {
    const closed = new Telnyx({ apiKey: sb.apiKey, baseURL: `http://127.0.0.1:${await freePort()}/v2`, maxRetries: 0, timeout: 2000 });
    await assert.rejects(closed.calls.retrieveStatus('v3:nothing'), Telnyx.APIConnectionError);
    const unauthorised = sdkClient(sb, { apiKey: 'KEYnot-a-valid-key' });
    await assert.rejects(unauthorised.callControlApplications.list(), Telnyx.AuthenticationError);
    await assert.rejects(client.recordings.retrieve('00000000-0000-4000-8000-000000000000'), Telnyx.NotFoundError);
    const { ccid } = await answeredCall();
    const invalid = await client.calls.actions.gather(ccid, { maximum_digits: 0 } as never).then(() => null, (e: unknown) => e);
    assert.ok(invalid instanceof Telnyx.APIError && invalid.status === 422, String(invalid));
    let limited: unknown = null;
    for (let i = 0; i < 150 && !limited; i++) {
      limited = await client.callControlApplications.list().then(() => null, (e: unknown) => e);
    }
    assert.ok(limited instanceof Telnyx.RateLimitError, String(limited));
    await new Promise((resolve) => setTimeout(resolve, 2500));
    await client.calls.actions.hangup(ccid, {});
  });
});
