import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/util/clock.js';
import { createResponse } from '../../src/endpoints/sip/message.js';
import type { SipMessage, SipRequest, SipResponse } from '../../src/endpoints/sip/message.js';
import { parseMessage } from '../../src/endpoints/sip/parser.js';
import { inviteClientInitial, inviteClientTransition } from '../../src/endpoints/sip/transaction/invite-client.js';
import { nonInviteClientInitial, nonInviteClientTransition } from '../../src/endpoints/sip/transaction/non-invite-client.js';
import { TransactionLayer } from '../../src/endpoints/sip/transaction/layer.js';
import type { ServerTransaction } from '../../src/endpoints/sip/transaction/server-transaction.js';
import { DEFAULT_TIMERS } from '../../src/endpoints/sip/transaction/types.js';
import type { SipAddress, SipSender, TransportProtocol } from '../../src/endpoints/sip/transport.js';

interface Sent {
  at: number;
  message: SipMessage;
  to: SipAddress;
}

class FakeSender implements SipSender {
  readonly sent: Sent[] = [];
  failNext = false;

  constructor(private readonly clock: VirtualClock) {}

  send(message: SipMessage, to: SipAddress, onError?: (err: Error) => void): void {
    if (this.failNext) {
      this.failNext = false;
      onError?.(new Error('connection refused'));
      return;
    }
    this.sent.push({ at: this.clock.now() - START, message, to });
  }

  /** Times (ms from start) at which messages matching the filter were sent. */
  times(filter: (m: SipMessage) => boolean): number[] {
    return this.sent.filter((s) => filter(s.message)).map((s) => s.at);
  }
}

const START = Date.UTC(2026, 0, 1);
const isRequest = (method: string) => (m: SipMessage): boolean => m.kind === 'request' && m.method === method;
const isStatus = (status: number) => (m: SipMessage): boolean => m.kind === 'response' && m.status === status;

function request(method: string, branch: string, protocol: TransportProtocol = 'UDP', extra: string[] = []): SipRequest {
  const cseqMethod = method === 'ACK' ? 'INVITE' : method === 'CANCEL' ? 'INVITE' : method;
  const lines = [
    `${method} sip:bob@192.0.2.2 SIP/2.0`,
    `Via: SIP/2.0/${protocol} 192.0.2.1:5060;branch=${branch}`,
    'Max-Forwards: 70',
    'From: <sip:alice@192.0.2.1>;tag=a1',
    'To: <sip:bob@192.0.2.2>',
    'Call-ID: call-1',
    `CSeq: 1 ${method === 'ACK' || method === 'CANCEL' ? method : cseqMethod}`,
    ...extra,
    '',
    '',
  ];
  const msg = parseMessage(Buffer.from(lines.join('\r\n')));
  assert.ok(msg.kind === 'request');
  return msg;
}

function setup(protocol: TransportProtocol = 'UDP') {
  const clock = new VirtualClock();
  const sender = new FakeSender(clock);
  const dest: SipAddress = { protocol, host: '192.0.2.2', port: 5060 };
  const source: SipAddress = { protocol, host: '192.0.2.1', port: 5060 };
  const seen = { requests: [] as Array<[SipRequest, ServerTransaction | null]>, cancels: [] as SipRequest[], stray: [] as SipResponse[], ignored: [] as string[] };
  const layer = new TransactionLayer({
    sender,
    clock,
    user: {
      onRequest: (req, tx) => seen.requests.push([req, tx]),
      onCancel: (_invite, cancel) => seen.cancels.push(cancel),
      onStrayResponse: (res) => seen.stray.push(res),
    },
    onIgnored: (reason) => seen.ignored.push(reason),
  });
  const client = { responses: [] as SipResponse[], timeouts: 0, errors: [] as Error[] };
  const user = {
    onResponse: (res: SipResponse) => client.responses.push(res),
    onTimeout: () => client.timeouts++,
    onTransportError: (err: Error) => client.errors.push(err),
  };
  const respond = (req: SipRequest, status: number, toTag = 'b1'): SipResponse => {
    const res = createResponse(req, status, { toTag });
    layer.receive({ message: res, source: dest });
    return res;
  };
  return { clock, sender, layer, dest, source, seen, client, user, respond };
}

describe('pure machines', () => {
  const udp = { reliable: false, timers: DEFAULT_TIMERS };
  it('INVITE client: start over UDP sends and arms A and B; a 486 in Completed only re-ACKs', () => {
    const started = inviteClientTransition(inviteClientInitial(udp), { type: 'start' }, udp);
    assert.deepEqual(started.effects, [{ type: 'send-request' }, { type: 'start-timer', timer: 'B', ms: 32000 }, { type: 'start-timer', timer: 'A', ms: 500 }]);
    const completed = inviteClientTransition(started.state, { type: 'response', status: 486 }, udp);
    assert.equal(completed.state.phase, 'completed');
    const again = inviteClientTransition(completed.state, { type: 'response', status: 486 }, udp);
    assert.deepEqual(again.effects, [{ type: 'send-ack' }]);
  });

  it('non-INVITE client: E doubles up to T2; unexpected events are reported, not thrown', () => {
    let state = nonInviteClientInitial(udp);
    const intervals: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = nonInviteClientTransition(state, { type: 'timer', timer: 'E' }, udp);
      state = t.state;
      intervals.push(state.intervalE);
    }
    assert.deepEqual(intervals, [1000, 2000, 4000, 4000, 4000]);
    const odd = nonInviteClientTransition(state, { type: 'timer', timer: 'K' }, udp);
    assert.equal(odd.effects[0]?.type, 'ignored');
  });
});

describe('INVITE client transaction', () => {
  it('retransmits with A doubling over UDP and times out at 64*T1 (408 semantics)', () => {
    const h = setup('UDP');
    h.layer.sendRequest(request('INVITE', 'z9hG4bKc1'), h.dest, h.user);
    h.clock.advance(40_000);
    assert.deepEqual(h.sender.times(isRequest('INVITE')), [0, 500, 1500, 3500, 7500, 15500, 31500]);
    assert.equal(h.client.timeouts, 1);
    assert.equal(h.layer.clientCount, 0);
  });

  it('never retransmits over TCP but still times out', () => {
    const h = setup('TCP');
    h.layer.sendRequest(request('INVITE', 'z9hG4bKc2', 'TCP'), h.dest, h.user);
    h.clock.advance(31_999);
    assert.equal(h.client.timeouts, 0);
    h.clock.advance(1);
    assert.deepEqual(h.sender.times(isRequest('INVITE')), [0]);
    assert.equal(h.client.timeouts, 1);
  });

  it('stops retransmitting on 1xx, ACKs a 486 itself and absorbs its retransmissions until D', () => {
    const h = setup('UDP');
    const invite = request('INVITE', 'z9hG4bKc3');
    h.layer.sendRequest(invite, h.dest, h.user);
    h.clock.advance(600);
    h.respond(invite, 180);
    h.clock.advance(10_000);
    assert.deepEqual(h.sender.times(isRequest('INVITE')), [0, 500]);
    h.respond(invite, 486);
    h.respond(invite, 486);
    assert.deepEqual(h.client.responses.map((r) => r.status), [180, 486]);
    const acks = h.sender.sent.filter((s) => isRequest('ACK')(s.message));
    assert.equal(acks.length, 2);
    const ack = acks[0]?.message;
    assert.ok(ack?.kind === 'request');
    assert.equal(ack.uri, invite.uri);
    assert.deepEqual(ack.cseq(), { seq: 1, method: 'ACK' });
    assert.equal(ack.topVia().params.get('branch'), 'z9hG4bKc3', 'same branch as the INVITE (§17.1.1.3)');
    assert.equal(ack.toTag(), 'b1');
    assert.equal(h.layer.clientCount, 1);
    h.clock.advance(32_000);
    assert.equal(h.layer.clientCount, 0);
  });

  it('ends on 2xx and leaves retransmitted 2xx to the TU', () => {
    const h = setup('UDP');
    const invite = request('INVITE', 'z9hG4bKc4');
    h.layer.sendRequest(invite, h.dest, h.user);
    h.respond(invite, 200);
    assert.equal(h.layer.clientCount, 0);
    h.respond(invite, 200);
    assert.deepEqual(h.client.responses.map((r) => r.status), [200]);
    assert.deepEqual(h.seen.stray.map((r) => r.status), [200]);
    assert.equal(h.sender.times(isRequest('ACK')).length, 0, 'ACK for 2xx belongs to the UA core');
  });

  it('reports a transport failure (503 semantics) and terminates', () => {
    const h = setup('TCP');
    h.sender.failNext = true;
    h.layer.sendRequest(request('INVITE', 'z9hG4bKc5', 'TCP'), h.dest, h.user);
    assert.equal(h.client.errors.length, 1);
    assert.equal(h.layer.clientCount, 0);
  });
});

describe('non-INVITE client transaction', () => {
  it('retransmits with E capped at T2 and times out with F', () => {
    const h = setup('UDP');
    h.layer.sendRequest(request('OPTIONS', 'z9hG4bKn1'), h.dest, h.user);
    h.clock.advance(33_000);
    assert.deepEqual(h.sender.times(isRequest('OPTIONS')), [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    assert.equal(h.client.timeouts, 1);
  });

  it('retransmits every T2 once proceeding', () => {
    const h = setup('UDP');
    const bye = request('BYE', 'z9hG4bKn2');
    h.layer.sendRequest(bye, h.dest, h.user);
    h.clock.advance(600);
    h.respond(bye, 100);
    h.clock.advance(9_000);
    assert.deepEqual(h.sender.times(isRequest('BYE')), [0, 500, 1500, 5500, 9500]);
  });

  it('absorbs retransmitted finals in Completed and ends after T4', () => {
    const h = setup('UDP');
    const bye = request('BYE', 'z9hG4bKn3');
    h.layer.sendRequest(bye, h.dest, h.user);
    h.respond(bye, 200);
    h.respond(bye, 200);
    assert.deepEqual(h.client.responses.map((r) => r.status), [200]);
    h.clock.advance(4_999);
    assert.equal(h.layer.clientCount, 1);
    h.clock.advance(1);
    assert.equal(h.layer.clientCount, 0);
    assert.deepEqual(h.sender.times(isRequest('BYE')), [0]);
  });

  it('over TCP: no retransmissions, done at once on a final response', () => {
    const h = setup('TCP');
    const bye = request('BYE', 'z9hG4bKn4', 'TCP');
    h.layer.sendRequest(bye, h.dest, h.user);
    h.clock.advance(20_000);
    h.respond(bye, 200);
    assert.deepEqual(h.sender.times(isRequest('BYE')), [0]);
    assert.equal(h.layer.clientCount, 0);
  });
});

describe('INVITE server transaction', () => {
  it('sends 100 Trying, absorbs retransmissions, and hands the TU one request', () => {
    const h = setup('UDP');
    const invite = request('INVITE', 'z9hG4bKs1');
    h.layer.receive({ message: invite, source: h.source });
    h.layer.receive({ message: request('INVITE', 'z9hG4bKs1'), source: h.source });
    assert.equal(h.seen.requests.length, 1);
    assert.deepEqual(h.sender.sent.map((s) => (s.message.kind === 'response' ? s.message.status : 0)), [100, 100]);
    const tx = h.seen.requests[0]?.[1];
    assert.ok(tx);
    tx.respond(createResponse(invite, 180, { toTag: 'b1' }));
    h.layer.receive({ message: request('INVITE', 'z9hG4bKs1'), source: h.source });
    assert.deepEqual(h.sender.times(isStatus(180)), [0, 0]);
  });

  it('retransmits a non-2xx final with G up to T2 until the ACK, then absorbs ACKs until I', () => {
    const h = setup('UDP');
    const invite = request('INVITE', 'z9hG4bKs2');
    h.layer.receive({ message: invite, source: h.source });
    const tx = h.seen.requests[0]?.[1];
    assert.ok(tx);
    tx.respond(createResponse(invite, 486, { toTag: 'b1' }));
    h.clock.advance(8_000);
    assert.deepEqual(h.sender.times(isStatus(486)), [0, 500, 1500, 3500, 7500]);
    h.layer.receive({ message: request('ACK', 'z9hG4bKs2'), source: h.source });
    assert.equal(tx.state, 'confirmed');
    h.layer.receive({ message: request('ACK', 'z9hG4bKs2'), source: h.source });
    h.clock.advance(4_000);
    assert.deepEqual(h.sender.times(isStatus(486)), [0, 500, 1500, 3500, 7500]);
    assert.equal(h.seen.requests.length, 1, 'ACKs never reach the TU');
    h.clock.advance(1_000);
    assert.equal(h.layer.serverCount, 0);
  });

  it('gives up at H (64*T1) without an ACK and tells the TU', () => {
    const h = setup('UDP');
    const invite = request('INVITE', 'z9hG4bKs3');
    h.layer.receive({ message: invite, source: h.source });
    const tx = h.seen.requests[0]?.[1];
    assert.ok(tx);
    let timedOut = 0;
    tx.onTimeout = () => timedOut++;
    tx.respond(createResponse(invite, 603, { toTag: 'b1' }));
    h.clock.advance(40_000);
    assert.equal(timedOut, 1);
    assert.deepEqual(h.sender.times(isStatus(603)), [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    assert.equal(h.layer.serverCount, 0);
  });

  it('over TCP: the final response is sent once, H still applies', () => {
    const h = setup('TCP');
    const invite = request('INVITE', 'z9hG4bKs4', 'TCP');
    h.layer.receive({ message: invite, source: { ...h.source, connectionId: 7 } });
    const tx = h.seen.requests[0]?.[1];
    assert.ok(tx);
    assert.equal(tx.destination.connectionId, 7, 'responses reuse the connection (§18.2.2)');
    tx.respond(createResponse(invite, 486, { toTag: 'b1' }));
    h.clock.advance(40_000);
    assert.deepEqual(h.sender.times(isStatus(486)), [0]);
    assert.equal(h.layer.serverCount, 0);
  });

  it('ends on 2xx; the ACK for it goes to the TU', () => {
    const h = setup('UDP');
    const invite = request('INVITE', 'z9hG4bKs5');
    h.layer.receive({ message: invite, source: h.source });
    h.seen.requests[0]?.[1]?.respond(createResponse(invite, 200, { toTag: 'b1' }));
    assert.equal(h.layer.serverCount, 0);
    h.layer.receive({ message: request('ACK', 'z9hG4bKack', 'UDP', []), source: h.source });
    assert.deepEqual(h.seen.requests.map(([r, tx]) => [r.method, tx === null]), [['INVITE', false], ['ACK', true]]);
  });

  it('absorbs an INVITE retransmitted after its 2xx for 64*T1 (RFC 6026); a late CANCEL gets 200', () => {
    const h = setup('UDP');
    const invite = request('INVITE', 'z9hG4bKs8');
    h.layer.receive({ message: invite, source: h.source });
    h.seen.requests[0]?.[1]?.respond(createResponse(invite, 200, { toTag: 'b1' }));
    h.layer.receive({ message: request('INVITE', 'z9hG4bKs8'), source: h.source });
    assert.equal(h.seen.requests.length, 1, 'not a new call');
    h.layer.receive({ message: request('CANCEL', 'z9hG4bKs8'), source: h.source });
    const cancelOk = h.sender.sent.find((s) => s.message.kind === 'response' && s.message.cseq().method === 'CANCEL')?.message;
    assert.ok(cancelOk?.kind === 'response' && cancelOk.status === 200, 'CANCEL after the 2xx still matches');
    h.clock.advance(32_000);
    h.layer.receive({ message: request('INVITE', 'z9hG4bKs8'), source: h.source });
    assert.equal(h.seen.requests.length, 2);
  });

  it('answers CANCEL with 200 and the INVITE with 487, same To tag', () => {
    const h = setup('UDP');
    const invite = request('INVITE', 'z9hG4bKs6');
    h.layer.receive({ message: invite, source: h.source });
    const tx = h.seen.requests[0]?.[1];
    assert.ok(tx);
    tx.toTag = 'b9';
    tx.respond(createResponse(invite, 180, { toTag: 'b9' }));
    h.layer.receive({ message: request('CANCEL', 'z9hG4bKs6'), source: h.source });
    const ok = h.sender.sent.find((s) => s.message.kind === 'response' && s.message.cseq().method === 'CANCEL')?.message;
    const terminated = h.sender.sent.find((s) => isStatus(487)(s.message))?.message;
    assert.ok(ok?.kind === 'response' && ok.status === 200 && ok.toTag() === 'b9');
    assert.ok(terminated?.kind === 'response' && terminated.toTag() === 'b9');
    assert.equal(h.seen.cancels.length, 1);
    assert.equal(tx.state, 'completed');
    h.layer.receive({ message: request('ACK', 'z9hG4bKs6'), source: h.source });
    assert.equal(tx.state, 'confirmed');
    assert.equal(h.seen.requests.length, 1, 'neither CANCEL nor the ACK for 487 reach onRequest');
  });

  it('answers CANCEL for an unknown transaction with 481, and after a final response with 200 only', () => {
    const h = setup('UDP');
    h.layer.receive({ message: request('CANCEL', 'z9hG4bKnone'), source: h.source });
    assert.deepEqual(h.sender.times(isStatus(481)), [0]);
    const invite = request('INVITE', 'z9hG4bKs7');
    h.layer.receive({ message: invite, source: h.source });
    h.seen.requests[0]?.[1]?.respond(createResponse(invite, 486, { toTag: 'b1' }));
    h.layer.receive({ message: request('CANCEL', 'z9hG4bKs7'), source: h.source });
    assert.equal(h.sender.times(isStatus(487)).length, 0);
    assert.equal(h.seen.cancels.length, 0);
  });
});

describe('non-INVITE server transaction', () => {
  it('discards retransmissions while trying, resends the final in Completed, ends after J', () => {
    const h = setup('UDP');
    const options = request('OPTIONS', 'z9hG4bKo1');
    h.layer.receive({ message: options, source: h.source });
    h.layer.receive({ message: request('OPTIONS', 'z9hG4bKo1'), source: h.source });
    assert.equal(h.sender.sent.length, 0);
    const tx = h.seen.requests[0]?.[1];
    assert.ok(tx);
    tx.respond(createResponse(options, 200, { toTag: 'b1' }));
    h.layer.receive({ message: request('OPTIONS', 'z9hG4bKo1'), source: h.source });
    assert.deepEqual(h.sender.times(isStatus(200)), [0, 0]);
    tx.respond(createResponse(options, 500, { toTag: 'b1' }));
    assert.ok(h.seen.ignored.some((r) => r.includes('500')), 'a second final response is reported and dropped');
    h.clock.advance(31_999);
    assert.equal(h.layer.serverCount, 1);
    h.clock.advance(1);
    assert.equal(h.layer.serverCount, 0);
    assert.equal(h.seen.requests.length, 1);
  });

  it('sends responses to received/rport over UDP', () => {
    const h = setup('UDP');
    const options = request('OPTIONS', 'z9hG4bKo2');
    options.headers.set('Via', 'SIP/2.0/UDP 10.0.0.5:5070;branch=z9hG4bKo2;received=198.51.100.7;rport=40000');
    h.layer.receive({ message: options, source: h.source });
    h.seen.requests[0]?.[1]?.respond(createResponse(options, 200, { toTag: 'b1' }));
    assert.deepEqual(h.sender.sent[0]?.to, { protocol: 'UDP', host: '198.51.100.7', port: 40000 });
  });
});
