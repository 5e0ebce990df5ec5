import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/util/clock.js';
import { Dialog } from '../../src/endpoints/sip/dialog.js';
import { createResponse } from '../../src/endpoints/sip/message.js';
import type { SipRequest, SipResponse } from '../../src/endpoints/sip/message.js';
import { parseMessage } from '../../src/endpoints/sip/parser.js';
import { DEFAULT_TIMERS } from '../../src/endpoints/sip/transaction/types.js';
import { TwoXxRetransmitter } from '../../src/endpoints/sip/two-xx.js';

function parse<T extends 'request' | 'response'>(lines: string[], kind: T): T extends 'request' ? SipRequest : SipResponse {
  const msg = parseMessage(Buffer.from([...lines, '', ''].join('\r\n')));
  assert.equal(msg.kind, kind);
  return msg as T extends 'request' ? SipRequest : SipResponse;
}

const INVITE = parse(
  [
    'INVITE sip:bob@switchboard.example.com SIP/2.0',
    'Via: SIP/2.0/UDP proxy2.example.com;branch=z9hG4bK2',
    'Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK1',
    'Record-Route: <sip:proxy2.example.com;lr>',
    'Record-Route: <sip:proxy1.example.com;lr>',
    'From: "Alice" <sip:alice@atlanta.example.com>;tag=alice-tag',
    'To: <sip:bob@switchboard.example.com>',
    'Call-ID: dialog-test@atlanta',
    'CSeq: 10 INVITE',
    'Contact: <sip:alice@pc33.atlanta.example.com:5070;transport=tcp>',
    'Max-Forwards: 68',
  ],
  'request',
);

describe('UAS dialog (§12.1.1)', () => {
  const ok = createResponse(INVITE, 200, { toTag: 'bob-tag' });
  const dialog = Dialog.asUas(INVITE, ok, '<sip:switchboard@192.0.2.10:5060>');

  it('takes its id, parties, route set and remote target from the INVITE and our 2xx', () => {
    assert.deepEqual(dialog.id, { callId: 'dialog-test@atlanta', localTag: 'bob-tag', remoteTag: 'alice-tag' });
    assert.deepEqual(dialog.routeSet, ['<sip:proxy2.example.com;lr>', '<sip:proxy1.example.com;lr>']);
    assert.equal(dialog.remoteTarget, 'sip:alice@pc33.atlanta.example.com:5070;transport=tcp');
    assert.equal(dialog.remoteSeq, 10);
    assert.equal(dialog.localSeq, null);
    assert.equal(dialog.state, 'confirmed');
  });

  it('builds a BYE: Request-URI = remote target, Route = route set, tags swapped, fresh CSeq', () => {
    dialog.localSeq = 500;
    const bye = dialog.createRequest('BYE');
    assert.equal(bye.uri, 'sip:alice@pc33.atlanta.example.com:5070;transport=tcp');
    assert.deepEqual(bye.headers.getAll('route'), ['<sip:proxy2.example.com;lr>', '<sip:proxy1.example.com;lr>']);
    assert.equal(bye.fromTag(), 'bob-tag');
    assert.equal(bye.toTag(), 'alice-tag');
    assert.equal(bye.to().displayName, 'Alice');
    assert.deepEqual(bye.cseq(), { seq: 501, method: 'BYE' });
    assert.equal(bye.headers.has('contact'), false);
    assert.equal(bye.headers.has('via'), false, 'the transport user adds Via');
    const nextHop = dialog.nextHop();
    assert.ok(nextHop.kind === 'sip' && nextHop.host === 'proxy2.example.com');
  });

  it('orders the peer\'s requests by CSeq and follows target refreshes', () => {
    const reinvite = parse(['INVITE sip:switchboard@192.0.2.10 SIP/2.0', 'CSeq: 11 INVITE', 'Contact: <sip:alice@198.51.100.9>'], 'request');
    assert.equal(dialog.acceptRemoteSeq(reinvite), true);
    assert.equal(dialog.remoteSeq, 11);
    dialog.refreshTarget(reinvite);
    assert.equal(dialog.remoteTarget, 'sip:alice@198.51.100.9');
    const stale = parse(['BYE sip:switchboard@192.0.2.10 SIP/2.0', 'CSeq: 9 BYE'], 'request');
    assert.equal(dialog.acceptRemoteSeq(stale), false, 'answered with 500 (§12.2.2)');
  });

  it('starts its own CSeq from a random value below 2^31 when empty', () => {
    const fresh = Dialog.asUas(INVITE, ok, '<sip:switchboard@192.0.2.10>');
    const first = fresh.createRequest('INFO').cseq().seq;
    assert.ok(first > 0 && first < 2 ** 31);
    assert.equal(fresh.createRequest('INFO').cseq().seq, first + 1);
  });
});

describe('UAC dialog (§12.1.2)', () => {
  const invite = parse(
    [
      'INVITE sip:carol@chicago.example.com SIP/2.0',
      'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKx',
      'From: <sip:switchboard@192.0.2.10>;tag=ours',
      'To: <sip:carol@chicago.example.com>',
      'Call-ID: out-1@192.0.2.10',
      'CSeq: 4711 INVITE',
      'Contact: <sip:switchboard@192.0.2.10:5060>',
    ],
    'request',
  );
  const ok = parse(
    [
      'SIP/2.0 200 OK',
      'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKx',
      'Record-Route: <sip:p2.example.com;lr>, <sip:p1.example.com;lr>',
      'From: <sip:switchboard@192.0.2.10>;tag=ours',
      'To: <sip:carol@chicago.example.com>;tag=theirs',
      'Call-ID: out-1@192.0.2.10',
      'CSeq: 4711 INVITE',
      'Contact: <sip:carol@203.0.113.5:5062>',
    ],
    'response',
  );
  const dialog = Dialog.asUac(invite, ok, '<sip:switchboard@192.0.2.10:5060>');

  it('reverses Record-Route and keeps the INVITE CSeq', () => {
    assert.deepEqual(dialog.id, { callId: 'out-1@192.0.2.10', localTag: 'ours', remoteTag: 'theirs' });
    assert.deepEqual(dialog.routeSet, ['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
    assert.equal(dialog.localSeq, 4711);
    assert.equal(dialog.remoteSeq, null);
  });

  it('builds the ACK for 2xx with the INVITE CSeq, and re-INVITE / INFO / BYE with the next ones', () => {
    const ack = dialog.createAck(4711, { body: 'v=0\r\n', contentType: 'application/sdp' });
    assert.deepEqual(ack.cseq(), { seq: 4711, method: 'ACK' });
    assert.equal(ack.uri, 'sip:carol@203.0.113.5:5062');
    assert.equal(ack.body.toString(), 'v=0\r\n');
    const reinvite = dialog.createRequest('INVITE');
    assert.deepEqual(reinvite.cseq(), { seq: 4712, method: 'INVITE' });
    assert.equal(reinvite.headers.get('contact'), '<sip:switchboard@192.0.2.10:5060>', 'target refresh carries Contact');
    const info = dialog.createRequest('INFO', { body: 'Signal=5\r\nDuration=160\r\n', contentType: 'application/dtmf-relay' });
    assert.deepEqual(info.cseq(), { seq: 4713, method: 'INFO' });
    assert.equal(info.contentType(), 'application/dtmf-relay');
    assert.deepEqual(dialog.createRequest('BYE').cseq(), { seq: 4714, method: 'BYE' });
    assert.equal(dialog.createRequest('BYE').fromTag(), 'ours');
  });

  it('uses strict routing when the first route lacks lr (§12.2.1.1)', () => {
    const strictOk = ok.clone();
    strictOk.headers.set('Record-Route', '<sip:p2.example.com;lr>, <sip:strict.example.com;method=INVITE>');
    const strict = Dialog.asUac(invite, strictOk, '<sip:switchboard@192.0.2.10:5060>');
    const bye = strict.createRequest('BYE');
    assert.equal(bye.uri, 'sip:strict.example.com', 'first route URI, method parameter stripped');
    assert.deepEqual(bye.headers.getAll('route'), ['<sip:p2.example.com;lr>', '<sip:carol@203.0.113.5:5062>']);
  });

  it('without routes sends straight to the remote target', () => {
    const direct = Dialog.asUac(invite, createResponse(invite, 200, { toTag: 't' }), '<sip:s@h>');
    assert.equal(direct.routeSet.length, 0);
    assert.equal(direct.remoteTarget, 'sip:carol@chicago.example.com', 'no Contact: the Request-URI stays the target');
    assert.equal(direct.createRequest('BYE').headers.has('route'), false);
  });
});

describe('UAS 2xx retransmission (§13.3.1.4)', () => {
  it('resends from T1 doubling to T2 until the ACK', () => {
    const clock = new VirtualClock();
    const start = clock.now();
    const sends: number[] = [];
    let gaveUp = 0;
    const rtx = new TwoXxRetransmitter(clock, DEFAULT_TIMERS, () => sends.push(clock.now() - start), () => gaveUp++);
    rtx.start();
    clock.advance(12_000);
    assert.deepEqual(sends, [500, 1500, 3500, 7500, 11500]);
    rtx.stop();
    clock.advance(60_000);
    assert.equal(sends.length, 5);
    assert.equal(gaveUp, 0);
    assert.equal(clock.pendingCount, 0);
  });

  it('gives up after 64*T1 without an ACK', () => {
    const clock = new VirtualClock();
    let sends = 0;
    let gaveUp = 0;
    const rtx = new TwoXxRetransmitter(clock, DEFAULT_TIMERS, () => sends++, () => gaveUp++);
    rtx.start();
    clock.advance(31_999);
    assert.equal(gaveUp, 0);
    clock.advance(1);
    assert.equal(gaveUp, 1);
    assert.equal(sends, 10);
    assert.equal(rtx.active, false);
    assert.equal(clock.pendingCount, 0);
  });
});
