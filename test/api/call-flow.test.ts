import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type Telnyx from 'telnyx';
import { TestSwitchboard } from '../../src/testing/harness.js';
import { WebhookReceiver } from '../../src/testing/webhook-receiver.js';
import { sdkClient, verify } from '../helpers/sdk.js';

const APP_NUMBER = '+15550100100';

describe('a whole DTMF call flow through the official SDK', () => {
  let sb: TestSwitchboard;
  let receiver: WebhookReceiver;
  let client: Telnyx;
  let connectionId: string;

  before(async () => {
    receiver = await new WebhookReceiver().start();
    sb = await TestSwitchboard.start();
    client = sdkClient(sb);
    const created = await client.callControlApplications.create({ application_name: 'ivr', webhook_event_url: receiver.url });
    connectionId = created.data?.id as string;
    await sb.request('POST', '/switchboard/v1/numbers', { number: APP_NUMBER, connection_id: connectionId });
  });

  after(async () => {
    await sb.close();
    await receiver.close();
  });

  it('inbound call → answer → gather → DTMF → gather.ended → hangup, every webhook verified by the SDK', async () => {
    const phone = await sb.placeCall('+15550109999', APP_NUMBER);
    const ccid = phone.call_control_id;

    const initiated = await verify(client, await receiver.waitForEvent('call.initiated', ccid));
    assert.equal(initiated.payload['direction'], 'incoming');
    assert.equal(initiated.payload['state'], 'parked');
    assert.equal(initiated.payload['from'], '+15550109999');
    assert.equal(initiated.payload['to'], APP_NUMBER);
    assert.equal(initiated.payload['connection_id'], connectionId);
    assert.match(ccid, /^v3:[A-Za-z0-9_-]+$/);
    assert.match(String(initiated.payload['call_leg_id']), /^[0-9a-f-]{36}$/);
    assert.match(String(initiated.payload['call_session_id']), /^[0-9a-f-]{36}$/);

    const state = Buffer.from('menu:main').toString('base64');
    const answered = await client.calls.actions.answer(ccid, { client_state: state });
    assert.deepEqual(answered.data, { result: 'ok' });
    const answeredEvent = await verify(client, await receiver.waitForEvent('call.answered', ccid));
    assert.equal(answeredEvent.payload['client_state'], state);
    assert.equal((await sb.virtualCall(phone.id)).state, 'answered');

    await client.calls.actions.gather(ccid, { minimum_digits: 4, maximum_digits: 10, terminating_digit: '#', gather_id: 'acct' });
    await sb.pressDigits(phone.id, '4821#', 40, 20);
    const ended = await verify(client, await receiver.waitForEvent('call.gather.ended', ccid));
    assert.equal(ended.payload['digits'], '4821');
    assert.equal(ended.payload['status'], 'valid');
    assert.equal(ended.payload['gather_id'], 'acct');
    assert.equal(ended.payload['client_state'], state, 'client_state is echoed on later webhooks');

    const dtmf = receiver.received.filter((w) => w.body.data?.event_type === 'call.dtmf.received' && w.body.data.payload?.['call_control_id'] === ccid);
    assert.deepEqual(await Promise.all(dtmf.map(async (w) => (await verify(client, w)).payload['digit'])), ['4', '8', '2', '1', '#']);

    await client.calls.actions.hangup(ccid, {});
    const hangup = await verify(client, await receiver.waitForEvent('call.hangup', ccid));
    assert.equal(hangup.payload['hangup_cause'], 'normal_clearing');
    assert.equal(hangup.payload['hangup_source'], 'callee');
    assert.equal(hangup.payload['sip_hangup_cause'], 'unspecified');
    assert.ok(Date.parse(String(hangup.payload['end_time'])) >= Date.parse(String(hangup.payload['start_time'])));
    assert.equal((await sb.virtualCall(phone.id)).state, 'ended');

    assert.deepEqual(receiver.eventTypes(ccid), [
      'call.initiated', 'call.answered',
      'call.dtmf.received', 'call.dtmf.received', 'call.dtmf.received', 'call.dtmf.received', 'call.dtmf.received',
      'call.gather.ended', 'call.hangup',
    ]);
    for (const w of receiver.received) {
      assert.equal(w.body.data?.['record_type' as 'id'], 'event');
      assert.equal(typeof w.body.meta?.['attempt'], 'number');
      assert.equal(w.body.meta?.['delivered_to'], receiver.url);
    }

    const status = await client.calls.retrieveStatus(ccid);
    assert.equal(status.data?.is_alive, false);
    assert.equal(status.data?.record_type, 'call');
    assert.ok(status.data?.end_time);
  });

  it('dials a virtual phone, which auto-answers, and shows the call in the phone log', async () => {
    const number = '+15550107777';
    await sb.addPhone(number, 'auto', 20);
    const dialled = await client.calls.dial({ connection_id: connectionId, to: number, from: APP_NUMBER });
    const ccid = dialled.data?.call_control_id as string;
    assert.equal(dialled.data?.is_alive, false);
    assert.equal(dialled.data?.record_type, 'call');

    const initiated = await verify(client, await receiver.waitForEvent('call.initiated', ccid));
    assert.equal(initiated.payload['direction'], 'outgoing');
    assert.equal(initiated.payload['state'], 'bridging');
    await verify(client, await receiver.waitForEvent('call.answered', ccid));
    const calls = await sb.virtualCalls(number);
    assert.equal(calls.length, 1);
    assert.equal(calls[0]?.call_control_id, ccid);
    assert.equal(calls[0]?.state, 'answered');
    assert.equal((await client.calls.retrieveStatus(ccid)).data?.is_alive, true);

    await client.calls.actions.hangup(ccid, {});
    const hangup = await verify(client, await receiver.waitForEvent('call.hangup', ccid));
    assert.equal(hangup.payload['hangup_source'], 'caller');
    const phoneLog = (await sb.virtualCalls(number))[0]?.log.map((e) => e.event);
    assert.deepEqual(phoneLog, ['incoming_call', 'ringing', 'answered', 'hangup']);
  });

  it('a caller who hangs up before answer gives originator_cancel', async () => {
    const phone = await sb.placeCall('+15550108888', APP_NUMBER);
    await receiver.waitForEvent('call.initiated', phone.call_control_id);
    await sb.hangup(phone.id);
    const hangup = await verify(client, await receiver.waitForEvent('call.hangup', phone.call_control_id));
    assert.equal(hangup.payload['hangup_cause'], 'originator_cancel');
    assert.equal(hangup.payload['hangup_source'], 'caller');
    const phoneView = await sb.virtualCall(phone.id);
    assert.equal(phoneView.hangup_cause, 'originator_cancel', 'the phone knows how its call ended');
    assert.equal(phoneView.log.at(-1)?.event, 'cancelled');
  });

  it('dialling a number nothing answers ends with not_found', async () => {
    const dialled = await client.calls.dial({ connection_id: connectionId, to: '+15550000404', from: APP_NUMBER });
    const hangup = await verify(client, await receiver.waitForEvent('call.hangup', dialled.data?.call_control_id));
    assert.equal(hangup.payload['hangup_cause'], 'not_found');
    assert.equal(hangup.payload['sip_hangup_cause'], '404');
  });

  it('a busy phone ends the dial with user_busy', async () => {
    await sb.addPhone('+15550100486', 'busy');
    const dialled = await client.calls.dial({ connection_id: connectionId, to: '+15550100486', from: APP_NUMBER });
    const hangup = await verify(client, await receiver.waitForEvent('call.hangup', dialled.data?.call_control_id));
    assert.equal(hangup.payload['hangup_cause'], 'user_busy');
    assert.equal(hangup.payload['sip_hangup_cause'], '486');
  });
});
