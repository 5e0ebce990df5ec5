import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { VirtualClock } from '../../src/util/clock.js';
import type { TransportProtocol } from '../../src/endpoints/sip/transport.js';
import type { SipIncomingCall } from '../../src/endpoints/sip/incoming-call.js';
import type { CallEndInfo } from '../../src/endpoints/sip/ua-core.js';
import { agent, ANSWER, next, OFFER, sentBy, trace, waitFor } from '../fixtures/sip/harness.js';

describe('two user agents over loopback', () => {
  const alice = agent('alice');
  const bob = agent('bob');
  let bobCall: ((call: SipIncomingCall) => void) | null = null;

  before(async () => {
    await alice.start();
    await bob.start();
    bob.on('invite', (call) => bobCall?.(call));
  });
  after(async () => {
    await alice.stop();
    await bob.stop();
  });

  const bobUri = (protocol: TransportProtocol): string =>
    `sip:bob@127.0.0.1:${bob.port(protocol)}${protocol === 'TCP' ? ';transport=tcp' : ''}`;

  for (const protocol of ['UDP', 'TCP'] as const) {
    it(`${protocol}: INVITE → 180 → 200 → ACK → BYE → 200`, async () => {
      const mark = trace.length;
      let incoming: SipIncomingCall | null = null;
      const confirmed = new Promise<void>((resolve) => {
        bobCall = (call) => {
          incoming = call;
          assert.equal(call.offer?.body.toString(), OFFER.body);
          assert.equal(call.from.params.get('tag') !== undefined, true);
          call.on('confirmed', () => resolve());
          call.progress(180);
          setTimeout(() => call.accept(ANSWER), 10);
        };
      });
      const call = alice.invite({ to: bobUri(protocol), from: 'sip:alice@127.0.0.1', offer: OFFER });
      const progress: number[] = [];
      call.on('progress', (res) => progress.push(res.status));
      const answered = await next(call, 'answered');
      assert.equal(answered.body.toString(), ANSWER.body);
      assert.deepEqual(progress, [100, 180]);
      await confirmed;
      assert.ok(incoming);
      const bobEnded = next(incoming as SipIncomingCall, 'ended');
      const aliceEnded = next(call, 'ended');
      call.bye();
      assert.deepEqual(await aliceEnded, { by: 'local', reason: 'bye' });
      assert.deepEqual(await bobEnded, { by: 'remote', reason: 'bye' });
      await waitFor(() => trace.slice(mark).some((t) => t.ua === 'alice' && t.dir === 'in' && t.line === '200 BYE'));
      assert.deepEqual(sentBy('alice', mark), ['INVITE', 'ACK', 'BYE']);
      assert.deepEqual(sentBy('bob', mark), ['100 INVITE', '180 INVITE', '200 INVITE', '200 BYE']);
      assert.deepEqual(trace.slice(mark).filter((t) => t.protocol !== protocol), []);
    });
  }

  it('the callee hangs up: BYE from the UAS side', async () => {
    bobCall = (call) => {
      call.accept(ANSWER);
      call.on('confirmed', () => call.bye());
    };
    const call = alice.invite({ to: bobUri('UDP'), from: 'sip:alice@127.0.0.1', offer: OFFER });
    assert.deepEqual(await next(call, 'ended'), { by: 'remote', reason: 'bye' });
  });

  for (const protocol of ['UDP', 'TCP'] as const) {
    it(`${protocol}: CANCEL while ringing → 200 to CANCEL, 487 to INVITE`, async () => {
      const mark = trace.length;
      const cancelled = new Promise<CallEndInfo>((resolve) => {
        bobCall = (call) => {
          call.on('ended', resolve);
          call.progress(180);
        };
      });
      const call = alice.invite({ to: bobUri(protocol), from: 'sip:alice@127.0.0.1', offer: OFFER });
      call.on('progress', (res) => {
        if (res.status === 180) call.cancel();
      });
      const failure = await next(call, 'failed');
      assert.equal(failure.status, 487);
      assert.equal(failure.cause, 'cancelled');
      assert.deepEqual(await cancelled, { by: 'remote', reason: 'cancelled', status: 487 });
      await waitFor(() => sentBy('alice', mark).includes('ACK'));
      assert.deepEqual(sentBy('alice', mark), ['INVITE', 'CANCEL', 'ACK']);
      assert.deepEqual(sentBy('bob', mark), ['100 INVITE', '180 INVITE', '200 CANCEL', '487 INVITE']);
    });
  }

  it('a CANCEL requested before any provisional waits for one', async () => {
    bobCall = () => undefined;
    const call = alice.invite({ to: bobUri('UDP'), from: 'sip:alice@127.0.0.1', offer: OFFER });
    call.cancel();
    const failure = await next(call, 'failed');
    assert.deepEqual([failure.status, failure.cause], [487, 'cancelled']);
  });

  it('a rejection reaches the caller, whose transaction ACKs it', async () => {
    const mark = trace.length;
    bobCall = (call) => call.reject(486);
    const call = alice.invite({ to: bobUri('UDP'), from: 'sip:alice@127.0.0.1' });
    const failure = await next(call, 'failed');
    assert.deepEqual([failure.status, failure.cause, failure.response?.status], [486, 'rejected', 486]);
    await waitFor(() => sentBy('alice', mark).includes('ACK'));
  });

  it('re-INVITE in both directions', async () => {
    let incoming: SipIncomingCall | null = null;
    bobCall = (call) => {
      incoming = call;
      call.onReinvite = (offer) => (offer ? { contentType: 'application/sdp', body: 'v=0\r\ns=held\r\n' } : null);
      call.accept(ANSWER);
    };
    const call = alice.invite({ to: bobUri('UDP'), from: 'sip:alice@127.0.0.1', offer: OFFER });
    await next(call, 'answered');
    await waitFor(() => (incoming as SipIncomingCall | null)?.state === 'confirmed');
    const result = await new Promise<unknown>((resolve) => call.dialogSession?.reinvite({ contentType: 'application/sdp', body: 'v=0\r\ns=hold\r\n' }, resolve));
    assert.deepEqual(result, { ok: true, answer: { contentType: 'application/sdp', body: Buffer.from('v=0\r\ns=held\r\n') } });
    const bobSession = (incoming as SipIncomingCall | null)?.dialogSession;
    assert.ok(bobSession);
    await waitFor(() => !bobSession.awaitingAck);
    const back = await new Promise<unknown>((resolve) => bobSession.reinvite(ANSWER, resolve));
    assert.deepEqual(back, { ok: true, answer: { contentType: 'application/sdp', body: Buffer.from('v=0\r\ns=hold\r\n') } }, 'no hook: Alice answers with her current local body');
    call.bye();
  });

  it('INFO inside the dialog reaches the other side', async () => {
    let incoming: SipIncomingCall | null = null;
    bobCall = (call) => {
      incoming = call;
      call.accept(ANSWER);
    };
    const call = alice.invite({ to: bobUri('TCP'), from: 'sip:alice@127.0.0.1', offer: OFFER });
    await next(call, 'answered');
    await waitFor(() => incoming !== null);
    const info = next(incoming as unknown as SipIncomingCall, 'info');
    call.sendInfo({ contentType: 'application/dtmf-relay', body: 'Signal=5\r\nDuration=160\r\n' });
    assert.equal((await info).body.toString(), 'Signal=5\r\nDuration=160\r\n');
    call.bye();
  });

  it('with no listener for calls, INVITEs get 480', async () => {
    const lonely = agent('lonely');
    await lonely.start();
    const call = alice.invite({ to: `sip:x@127.0.0.1:${lonely.port('UDP')}`, from: 'sip:alice@127.0.0.1' });
    assert.equal((await next(call, 'failed')).status, 480);
    await lonely.stop();
  });

  it('times out (408) when nobody answers, on virtual time', async () => {
    const clock = new VirtualClock();
    const caller = agent('caller', { clock });
    await caller.start();
    const silent = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    const call = caller.invite({ to: `sip:x@127.0.0.1:${silent.address().port}`, from: 'sip:c@127.0.0.1' });
    const failed = next(call, 'failed');
    clock.advance(32_000);
    assert.deepEqual([(await failed).status, (await failed).cause], [408, 'timeout']);
    silent.close();
    await caller.stop();
  });
});

describe('digest on a trunk', () => {
  const trunk = agent('trunk', { inboundAuth: { realm: 'switchboard', password: (u) => (u === 'acme' ? 'pw' : undefined) } });
  const carrier = agent('carrier');
  before(async () => {
    await trunk.start();
    await carrier.start();
    trunk.on('invite', (call) => call.accept(ANSWER));
  });
  after(async () => {
    await trunk.stop();
    await carrier.stop();
  });

  it('retries the INVITE with credentials after 401', async () => {
    const mark = trace.length;
    const call = carrier.invite({ to: `sip:+15550100@127.0.0.1:${trunk.port('UDP')}`, from: 'sip:acme@127.0.0.1', credentials: { username: 'acme', password: 'pw' }, offer: OFFER });
    await next(call, 'answered');
    assert.deepEqual(sentBy('carrier', mark), ['INVITE', 'ACK', 'INVITE', 'ACK']);
    assert.equal(call.request.headers.get('authorization')?.startsWith('Digest username="acme"'), true);
    call.bye();
  });

  it('fails with 401 when the credentials are wrong or missing', async () => {
    const wrong = carrier.invite({ to: `sip:+15550100@127.0.0.1:${trunk.port('UDP')}`, from: 'sip:acme@127.0.0.1', credentials: { username: 'acme', password: 'nope' } });
    assert.equal((await next(wrong, 'failed')).status, 401);
    const none = carrier.invite({ to: `sip:+15550100@127.0.0.1:${trunk.port('UDP')}`, from: 'sip:acme@127.0.0.1' });
    assert.equal((await next(none, 'failed')).status, 401);
  });
});
