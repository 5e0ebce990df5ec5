import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Telnyx from 'telnyx';
import { TestSwitchboard } from '../../src/testing/harness.js';
import { WebhookReceiver } from '../../src/testing/webhook-receiver.js';
import { sdkClient } from '../helpers/sdk.js';

interface TelnyxErrorBody {
  errors: { code: string; title: string; detail?: string; source?: { pointer?: string } }[];
}

/** Runs an SDK call that must fail, and returns the SDK's error. */
async function failure(call: () => Promise<unknown>): Promise<InstanceType<typeof Telnyx.APIError>> {
  try {
    await call();
  } catch (err) {
    assert.ok(err instanceof Telnyx.APIError, `expected an APIError, got ${String(err)}`);
    return err;
  }
  assert.fail('the call succeeded');
}

function body(err: InstanceType<typeof Telnyx.APIError>): TelnyxErrorBody {
  return err.error as TelnyxErrorBody;
}

describe('error paths through the SDK', () => {
  let sb: TestSwitchboard;
  let receiver: WebhookReceiver;
  let client: Telnyx;
  let connectionId: string;

  before(async () => {
    receiver = await new WebhookReceiver().start();
    sb = await TestSwitchboard.start();
    client = sdkClient(sb);
    connectionId = await sb.createApplication(receiver.url, ['+15550200200']);
  });

  after(async () => {
    await sb.close();
    await receiver.close();
  });

  async function inboundCall(): Promise<{ id: string; ccid: string }> {
    const phone = await sb.placeCall('+15550201111', '+15550200200');
    await receiver.waitForEvent('call.initiated', phone.call_control_id);
    return { id: phone.id, ccid: phone.call_control_id };
  }

  it('401 with code 10009 for a wrong key and for no key', async () => {
    const wrong = sdkClient(sb, { apiKey: 'KEYnot-the-right-one' });
    const err = await failure(() => wrong.calls.retrieveStatus('v3:anything'));
    assert.ok(err instanceof Telnyx.AuthenticationError);
    assert.equal(err.status, 401);
    assert.equal(body(err).errors[0]?.code, '10009');

    const res = await fetch(`${sb.baseURL}/calls/v3:anything`);
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as TelnyxErrorBody).errors[0]?.code, '10009');
  });

  it('422 lists every bad field with its JSON pointer, and changes nothing', async () => {
    const { ccid } = await inboundCall();
    await client.calls.actions.answer(ccid, {});
    const err = await failure(() => client.calls.actions.gather(ccid, {
      maximum_digits: 'lots' as unknown as number,
      minimum_digits: 0,
      gather_id: 'x'.repeat(41),
      client_state: 'not base64!',
    }));
    assert.ok(err instanceof Telnyx.UnprocessableEntityError);
    const pointers = body(err).errors.map((e) => e.source?.pointer).sort();
    assert.deepEqual(pointers, ['/client_state', '/gather_id', '/maximum_digits', '/minimum_digits']);
    for (const e of body(err).errors) {
      assert.match(e.code, /^\d+$/);
      assert.ok(e.title && e.detail, 'each error has a title and a detail');
    }
    // Nothing started: a digit now produces no gather.ended, and client_state is unchanged.
    await sb.pressDigits((await sb.request<{ id: string }[]>('GET', `/switchboard/v1/virtual_calls?call_control_id=${encodeURIComponent(ccid)}`))[0]!.id, '1', 40, 0);
    await receiver.waitForEvent('call.dtmf.received', ccid);
    assert.ok(!receiver.eventTypes(ccid).includes('call.gather.ended'));
    const status = await client.calls.retrieveStatus(ccid);
    assert.equal(status.data?.client_state, '');
  });

  it('dial: missing required fields, a bad enum and an unknown connection_id', async () => {
    const err = await failure(() => client.calls.dial({ connection_id: connectionId, answering_machine_detection: 'sometimes' } as unknown as Telnyx.Calls.CallDialParams));
    const byPointer = new Map(body(err).errors.map((e) => [e.source?.pointer, e.code]));
    assert.equal(byPointer.get('/to'), '10004');
    assert.equal(byPointer.get('/from'), '10004');
    assert.equal(byPointer.get('/answering_machine_detection'), '10032');

    const unknownApp = await failure(() => client.calls.dial({ connection_id: '1234', to: '+15550000001', from: '+15550000002' }));
    assert.equal(unknownApp.status, 422);
    assert.equal(body(unknownApp).errors[0]?.source?.pointer, '/connection_id');
  });

  it('90015 for an unknown call, 90034 before answer, 90018 after the end', async () => {
    const unknown = await failure(() => client.calls.actions.gather('v3:doesnotexist', {}));
    assert.equal(unknown.status, 422);
    assert.equal(body(unknown).errors[0]?.code, '90015');
    assert.equal((await failure(() => client.calls.retrieveStatus('v3:doesnotexist'))).status, 422);

    const { ccid } = await inboundCall();
    const early = await failure(() => client.calls.actions.gather(ccid, {}));
    assert.equal(body(early).errors[0]?.code, '90034');

    await client.calls.actions.hangup(ccid, {});
    const late = await failure(() => client.calls.actions.answer(ccid, {}));
    assert.equal(body(late).errors[0]?.code, '90018');
    const hangup = await receiver.waitForEvent('call.hangup', ccid);
    assert.equal(hangup.body.data?.payload?.['hangup_cause'], 'call_rejected');
  });

  it('a repeated command_id is acknowledged and not carried out again', async () => {
    const { id, ccid } = await inboundCall();
    const first = await client.calls.actions.answer(ccid, { command_id: 'answer-1' });
    const again = await client.calls.actions.answer(ccid, { command_id: 'answer-1' });
    assert.deepEqual(again.data, first.data);
    // A fresh command_id is a new command: answering twice is refused.
    const twice = await failure(() => client.calls.actions.answer(ccid, { command_id: 'answer-2' }));
    assert.equal(twice.status, 422);

    await client.calls.actions.gather(ccid, { command_id: 'g-1', maximum_digits: 1 });
    await sb.pressDigits(id, '5', 40, 0);
    await receiver.waitForEvent('call.gather.ended', ccid);
    await client.calls.actions.gather(ccid, { command_id: 'g-1', maximum_digits: 1 });
    await sb.pressDigits(id, '6', 40, 0);
    await receiver.waitFor((w) => w.body.data?.event_type === 'call.dtmf.received' && w.body.data.payload?.['digit'] === '6');
    assert.deepEqual(receiver.eventTypes(ccid).filter((t) => t === 'call.answered' || t === 'call.gather.ended'),
      ['call.answered', 'call.gather.ended']);
  });

  it('a second gather cancels the running one', async () => {
    const { id, ccid } = await inboundCall();
    await client.calls.actions.answer(ccid, {});
    await client.calls.actions.gather(ccid, { gather_id: 'first' });
    await client.calls.actions.gather(ccid, { gather_id: 'second', maximum_digits: 2 });
    await sb.pressDigits(id, '77', 40, 10);
    await receiver.waitFor((w) => w.body.data?.payload?.['gather_id'] === 'second');
    const ends = receiver.received.filter((w) => w.body.data?.event_type === 'call.gather.ended' && w.body.data.payload?.['call_control_id'] === ccid)
      .map((w) => [w.body.data?.payload?.['gather_id'], w.body.data?.payload?.['status'], w.body.data?.payload?.['digits']]);
    assert.deepEqual(ends, [['first', 'cancelled', ''], ['second', 'valid', '77']]);
  });

  it('gather_stop ends a gather as cancelled with the digits so far', async () => {
    const { id, ccid } = await inboundCall();
    await client.calls.actions.answer(ccid, {});
    await client.calls.actions.gather(ccid, {});
    await sb.pressDigits(id, '9', 40, 0);
    await receiver.waitForEvent('call.dtmf.received', ccid);
    await client.calls.actions.stopGather(ccid, {});
    const ended = await receiver.waitForEvent('call.gather.ended', ccid);
    assert.equal(ended.body.data?.payload?.['status'], 'cancelled');
    assert.equal(ended.body.data?.payload?.['digits'], '9');
  });

  it('hangup during a gather ends it with call_hangup before call.hangup', async () => {
    const { id, ccid } = await inboundCall();
    await client.calls.actions.answer(ccid, {});
    await client.calls.actions.gather(ccid, {});
    await sb.hangup(id);
    await receiver.waitForEvent('call.hangup', ccid);
    const types = receiver.eventTypes(ccid);
    assert.deepEqual(types.slice(-2), ['call.gather.ended', 'call.hangup']);
    const ended = await receiver.waitForEvent('call.gather.ended', ccid);
    assert.equal(ended.body.data?.payload?.['status'], 'call_hangup');
  });

  it('malformed JSON is a 400; an empty body is an empty object', async () => {
    const res = await fetch(`${sb.baseURL}/calls`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sb.apiKey}`, 'content-type': 'application/json' },
      body: '{"to": ',
    });
    assert.equal(res.status, 400);
    const parsed = (await res.json()) as TelnyxErrorBody;
    assert.ok(parsed.errors[0]?.code);

    const { ccid } = await inboundCall();
    const empty = await fetch(`${sb.baseURL}/calls/${ccid}/actions/answer`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sb.apiKey}`, 'content-type': 'application/json' },
    });
    assert.equal(empty.status, 200);
  });

  it('unknown paths get a Telnyx-shaped 404', async () => {
    const res = await fetch(`${sb.baseURL}/calls/v3:x/actions/teleport`, {
      method: 'POST', headers: { authorization: `Bearer ${sb.apiKey}`, 'content-type': 'application/json' }, body: '{}',
    });
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as TelnyxErrorBody).errors[0]?.code, '10005');
  });
});
