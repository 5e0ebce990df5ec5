import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type Telnyx from 'telnyx';
import { TestSwitchboard } from '../../src/testing/harness.js';
import { WebhookReceiver } from '../../src/testing/webhook-receiver.js';
import { VirtualClock } from '../../src/util/clock.js';
import { sdkClient, verify } from '../helpers/sdk.js';

describe('dial timers on a virtual clock', () => {
  const clock = new VirtualClock();
  let sb: TestSwitchboard;
  let receiver: WebhookReceiver;
  let client: Telnyx;
  let connectionId: string;

  before(async () => {
    receiver = await new WebhookReceiver().start();
    sb = await TestSwitchboard.start({ clock });
    client = sdkClient(sb);
    connectionId = await sb.createApplication(receiver.url);
  });

  after(async () => {
    await sb.close();
    await receiver.close();
  });

  it('an unanswered dial ends with timeout after timeout_secs, not before', async () => {
    await sb.addPhone('+15550300001', 'never');
    const dialled = await client.calls.dial({ connection_id: connectionId, to: '+15550300001', from: '+15550300000', timeout_secs: 5 });
    const ccid = dialled.data?.call_control_id as string;
    clock.advance(4_999);
    assert.equal((await client.calls.retrieveStatus(ccid)).data?.is_alive, true);
    clock.advance(1);
    const hangup = await verify(client, await receiver.waitForEvent('call.hangup', ccid));
    assert.equal(hangup.payload['hangup_cause'], 'timeout');
    const phone = (await sb.virtualCalls('+15550300001'))[0];
    assert.equal(phone?.state, 'ended', 'the phone stops ringing');
  });

  it('a phone that answers after a delay is answered at that time', async () => {
    await sb.addPhone('+15550300002', 'auto', 3_000);
    const dialled = await client.calls.dial({ connection_id: connectionId, to: '+15550300002', from: '+15550300000' });
    const ccid = dialled.data?.call_control_id as string;
    clock.advance(2_999);
    assert.ok(!receiver.eventTypes(ccid).includes('call.answered'));
    clock.advance(1);
    await receiver.waitForEvent('call.answered', ccid);
  });

  it('time_limit_secs ends an answered call with time_limit', async () => {
    await sb.addPhone('+15550300003', 'auto', 0);
    const dialled = await client.calls.dial({ connection_id: connectionId, to: '+15550300003', from: '+15550300000', time_limit_secs: 30 });
    const ccid = dialled.data?.call_control_id as string;
    clock.advance(0);
    await receiver.waitForEvent('call.answered', ccid);
    clock.advance(30_000);
    const hangup = await verify(client, await receiver.waitForEvent('call.hangup', ccid));
    assert.equal(hangup.payload['hangup_cause'], 'time_limit');
  });

  it('a gather times out on the virtual clock', async () => {
    const phone = await sb.placeCall('+15550300009', '+15550300000', connectionId);
    await client.calls.actions.answer(phone.call_control_id, {});
    await client.calls.actions.gather(phone.call_control_id, { initial_timeout_millis: 2000 });
    clock.advance(2000);
    const ended = await verify(client, await receiver.waitForEvent('call.gather.ended', phone.call_control_id));
    assert.equal(ended.payload['status'], 'timeout');
    assert.equal(ended.payload['digits'], '');
  });
});
