import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Telnyx from 'telnyx';
import { TestSwitchboard, type VirtualCallData } from '../../src/index.js';
import { createIvrApp, type IvrApp } from './app.js';

const IVR_NUMBER = '+15550100200';
const CALLER = '+15550109001';

interface Delivery {
  event_type: string;
  status: string;
}

/** Polls until `check` returns a value, failing after a bounded wait instead of hanging the suite. */
async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the IVR example, driven through a virtual phone', () => {
  let sb: TestSwitchboard;
  let ivr: IvrApp;
  const errors: string[] = [];

  before(async () => {
    sb = await TestSwitchboard.start();
    const client = new Telnyx({ apiKey: sb.apiKey, baseURL: sb.baseURL, publicKey: sb.publicKey, maxRetries: 0, timeout: 5000 });
    ivr = await createIvrApp({
      client,
      log: (level, message, fields) => { if (level === 'error') errors.push(`${message} ${JSON.stringify(fields)}`); },
    });
    await sb.createApplication(ivr.url, [IVR_NUMBER], 'ivr');
  });

  after(async () => {
    await ivr.close();
    await sb.close();
  });

  const virtualCall = (id: string, state: VirtualCallData['state']): Promise<VirtualCallData> =>
    until(`virtual call ${id} to be ${state}`, async () => {
      const call = await sb.virtualCall(id);
      return call.state === state ? call : undefined;
    });

  /** The caller hears the prompt once the gather is running; digits pressed earlier would be lost. */
  const gatherRunning = (callControlId: string, attempt: number): Promise<unknown> =>
    until(`gather attempt ${attempt}`, () =>
      ivr.commands.find((c) => c.callControlId === callControlId && c.command === 'gather' && c.attempt === attempt && c.ok));

  /** Deliveries for the call once none is left pending, so the list is final. */
  const settledDeliveries = (callControlId: string): Promise<Delivery[]> =>
    until('every webhook to be delivered', async () => {
      const list = await sb.request<Delivery[]>('GET', `/switchboard/v1/webhook_deliveries?call_control_id=${encodeURIComponent(callControlId)}`);
      return list.length > 0 && list.every((d) => d.status !== 'pending') && list.at(-1)?.event_type === 'call.hangup' ? list : undefined;
    });

  it('takes an account number and hangs up', async () => {
    const placed = await sb.placeCall(CALLER, IVR_NUMBER);
    const ccid = placed.call_control_id;
    await virtualCall(placed.id, 'answered');
    await gatherRunning(ccid, 1);

    await sb.pressDigits(placed.id, '12345678#', 40, 20);

    const ended = await virtualCall(placed.id, 'ended');
    assert.equal(ivr.accounts.get(ccid), '12345678');
    assert.equal(ended.hangup_cause, 'normal_clearing');
    const last = ended.log.at(-1);
    assert.equal(last?.event, 'hangup');
    assert.equal(last?.['by'], 'remote', 'the IVR hung up, not the caller');
    assert.deepEqual(ended.log.filter((e) => e.event === 'dtmf_sent').map((e) => e['digit']), [...'12345678#']);

    const deliveries = await settledDeliveries(ccid);
    assert.deepEqual(deliveries.map((d) => d.event_type), [
      'call.initiated', 'call.answered', ...Array<string>(9).fill('call.dtmf.received'), 'call.gather.ended', 'call.hangup',
    ]);
    assert.deepEqual(deliveries.filter((d) => d.status !== 'delivered'), []);
    await ivr.idle();
    assert.deepEqual(ivr.commands.filter((c) => c.callControlId === ccid).map((c) => c.command), ['answer', 'gather', 'hangup']);
    assert.deepEqual(errors, []);
  });

  it('re-prompts after input that is too short, then takes the retry', async () => {
    const placed = await sb.placeCall(CALLER, IVR_NUMBER);
    const ccid = placed.call_control_id;
    await virtualCall(placed.id, 'answered');
    await gatherRunning(ccid, 1);

    await sb.pressDigits(placed.id, '12#', 40, 20);
    await gatherRunning(ccid, 2);
    assert.equal(ivr.accounts.has(ccid), false);
    await sb.pressDigits(placed.id, '87654321#', 40, 20);

    const ended = await virtualCall(placed.id, 'ended');
    assert.equal(ivr.accounts.get(ccid), '87654321');
    assert.equal(ended.log.at(-1)?.['by'], 'remote');

    const deliveries = await settledDeliveries(ccid);
    assert.deepEqual(deliveries.map((d) => d.event_type), [
      'call.initiated', 'call.answered',
      ...Array<string>(3).fill('call.dtmf.received'), 'call.gather.ended',
      ...Array<string>(9).fill('call.dtmf.received'), 'call.gather.ended',
      'call.hangup',
    ]);
    assert.deepEqual(deliveries.filter((d) => d.status !== 'delivered'), []);
    await ivr.idle();
    assert.deepEqual(ivr.commands.filter((c) => c.callControlId === ccid).map((c) => [c.command, c.attempt]),
      [['answer', undefined], ['gather', 1], ['gather', 2], ['hangup', undefined]]);
    assert.deepEqual(errors, []);
  });

  it('hangs up after three attempts without a valid number', async () => {
    const placed = await sb.placeCall(CALLER, IVR_NUMBER);
    const ccid = placed.call_control_id;
    await virtualCall(placed.id, 'answered');
    for (const attempt of [1, 2, 3]) {
      await gatherRunning(ccid, attempt);
      await sb.pressDigits(placed.id, '9#', 40, 20);
    }

    const ended = await virtualCall(placed.id, 'ended');
    assert.equal(ended.log.at(-1)?.['by'], 'remote');
    assert.equal(ivr.accounts.has(ccid), false);
    await ivr.idle();
    assert.deepEqual(ivr.commands.filter((c) => c.callControlId === ccid).map((c) => c.command),
      ['answer', 'gather', 'gather', 'gather', 'hangup']);
    assert.deepEqual(errors, []);
  });

  it('refuses a webhook whose signature does not verify', async () => {
    const body = JSON.stringify({
      data: {
        record_type: 'event', id: '0b9a3c1e-0000-4000-8000-000000000001', event_type: 'call.initiated',
        occurred_at: new Date().toISOString(),
        payload: { call_control_id: 'v3:forged', direction: 'incoming', from: CALLER, to: IVR_NUMBER },
      },
      meta: { attempt: 1, delivered_to: ivr.url },
    });
    const forged = await fetch(ivr.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'telnyx-timestamp': String(Math.floor(Date.now() / 1000)),
        'telnyx-signature-ed25519': Buffer.alloc(64, 7).toString('base64'),
      },
      body,
    });
    assert.equal(forged.status, 400);
    const unsigned = await fetch(ivr.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal(unsigned.status, 400);

    await ivr.idle();
    assert.equal(ivr.commands.some((c) => c.callControlId === 'v3:forged'), false, 'a forged event must not be acted on');
    errors.length = 0;
  });
});
