import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { VirtualClock } from '../../src/util/clock.js';
import { createResponse } from '../../src/endpoints/sip/message.js';
import type { SipMessage } from '../../src/endpoints/sip/message.js';
import { serializeMessage } from '../../src/endpoints/sip/serializer.js';
import type { CallEndInfo } from '../../src/endpoints/sip/ua-core.js';
import { agent, ANSWER, isAck, next, OFFER, RawPeer } from '../fixtures/sip/harness.js';

/** The user agent as a foreign implementation sees it: raw datagrams in, responses out. */
describe('answers to raw requests', () => {
  const ua = agent('raw');
  let peer: RawPeer;
  before(async () => {
    await ua.start();
    peer = await RawPeer.open();
  });
  after(async () => {
    peer.close();
    await ua.stop();
  });

  const request = (method: string, extra: string[] = [], uri = 'sip:ua@127.0.0.1', cseqMethod = method): string =>
    [
      `${method} ${uri} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK${Math.random().toString(36).slice(2)};rport`,
      'From: <sip:probe@127.0.0.1>;tag=p1',
      'To: <sip:ua@127.0.0.1>',
      `Call-ID: ${Math.random().toString(36).slice(2)}`,
      `CSeq: 1 ${cseqMethod}`,
      'Max-Forwards: 70',
      ...extra,
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');

  /** Sends a request and waits for the final response carrying the same Call-ID. */
  const ask = async (text: string): Promise<SipMessage> => {
    const callId = /Call-ID: (\S+)/.exec(text)?.[1];
    peer.send(text, ua.port('UDP') ?? 0);
    return peer.nextMatching((m) => m.kind === 'response' && m.status >= 200 && m.callId() === callId);
  };

  it('OPTIONS outside a dialog: 200 with Allow and Accept', async () => {
    const res = await ask(request('OPTIONS'));
    assert.ok(res.kind === 'response');
    assert.equal(res.status, 200, res.reason);
    assert.equal(res.headers.get('allow'), 'INVITE, ACK, BYE, CANCEL, OPTIONS, INFO');
    assert.equal(res.headers.get('accept'), 'application/sdp');
    assert.ok(res.toTag());
    const via = res.topVia();
    assert.equal(via.params.get('received'), '127.0.0.1');
    assert.equal(via.params.get('rport'), String(peer.port), 'rport filled in (RFC 3581)');
  });

  it('unknown methods get 501, known but unsupported ones 405, both with Allow', async () => {
    const unknown = await ask(request('FROBNICATE'));
    assert.ok(unknown.kind === 'response' && unknown.status === 501 && unknown.headers.has('allow'));
    const known = await ask(request('SUBSCRIBE'));
    assert.ok(known.kind === 'response' && known.status === 405 && known.headers.has('allow'));
  });

  it('BYE for an unknown dialog gets 481', async () => {
    const res = await ask(request('BYE', [], 'sip:ua@127.0.0.1').replace('To: <sip:ua@127.0.0.1>', 'To: <sip:ua@127.0.0.1>;tag=gone'));
    assert.ok(res.kind === 'response' && res.status === 481);
  });

  it('RFC 4475 application-layer cases: 416, 420, 415, 400, 505', async () => {
    const unkscm = await ask(request('OPTIONS', [], 'nobodyKnowsThisScheme:totallyopaquecontent'));
    assert.ok(unkscm.kind === 'response' && unkscm.status === 416);
    const bext = await ask(request('OPTIONS', ['Require: nothingSupportsThis, nothingSupportsThisEither']));
    assert.ok(bext.kind === 'response' && bext.status === 420);
    assert.equal(bext.headers.get('unsupported'), 'nothingSupportsThis, nothingSupportsThisEither');
    const invut = await ask(request('INVITE', ['Content-Type: application/unknownformat']).replace('Content-Length: 0\r\n\r\n', 'Content-Length: 7\r\n\r\n<audio>'));
    assert.ok(invut.kind === 'response' && invut.status === 415);
    const mismatch = await ask(request('OPTIONS', [], undefined, 'INVITE'));
    assert.ok(mismatch.kind === 'response' && mismatch.status === 400);
    const badvers = await ask(request('OPTIONS').replace('SIP/2.0\r\n', 'SIP/7.0\r\n'));
    assert.ok(badvers.kind === 'response' && badvers.status === 505);
  });

  it('torture messages arriving as datagrams never break the UA', async () => {
    const dir = fileURLToPath(new URL('../fixtures/sip/rfc4475/', import.meta.url));
    for (const name of ['badinv01', 'clerr', 'ncl', 'quotbal', 'ltgtruri', 'mcl01', 'bigcode', 'insuf', 'scalarlg', 'bcast', 'mpart01']) {
      peer.send(readFileSync(`${dir}${name}.dat`), ua.port('UDP') ?? 0);
    }
    const res = await ask(request('OPTIONS'));
    assert.ok(res.kind === 'response' && res.status === 200);
  });

  it('as caller, ACKs every retransmission of the 2xx (§13.2.2.4)', async () => {
    const call = ua.invite({ to: `sip:callee@127.0.0.1:${peer.port}`, from: 'sip:ua@127.0.0.1', offer: OFFER });
    const invite = await peer.nextMatching((m) => m.kind === 'request' && m.method === 'INVITE');
    assert.ok(invite.kind === 'request');
    const ok = createResponse(invite, 200, { toTag: 'callee', headers: [['Contact', `<sip:callee@127.0.0.1:${peer.port}>`]], body: ANSWER.body, contentType: 'application/sdp' });
    const answered = next(call, 'answered');
    peer.send(serializeMessage(ok), ua.port('UDP') ?? 0);
    await answered;
    peer.send(serializeMessage(ok), ua.port('UDP') ?? 0);
    const acks = [await peer.nextMatching(isAck), await peer.nextMatching(isAck)];
    for (const ack of acks) {
      assert.ok(ack.kind === 'request');
      assert.equal(ack.uri, `sip:callee@127.0.0.1:${peer.port}`);
      assert.deepEqual(ack.cseq(), { seq: invite.cseq().seq, method: 'ACK' });
      assert.notEqual(ack.topVia().params.get('branch'), invite.topVia().params.get('branch'), 'ACK for 2xx has its own branch');
    }
    call.bye();
    await peer.nextMatching((m) => m.kind === 'request' && m.method === 'BYE');
  });

  it('retransmits its 2xx until ACKed, and BYEs after 64*T1 without one (virtual time)', async () => {
    const clock = new VirtualClock();
    const uas = agent('uas-vt', { clock });
    await uas.start();
    const ended = new Promise<CallEndInfo>((resolve) => uas.on('invite', (call) => {
      call.on('ended', resolve);
      call.accept(ANSWER);
    }));
    const invite = request('INVITE', ['Contact: <sip:probe@127.0.0.1:' + peer.port + '>']);
    peer.send(invite, uas.port('UDP') ?? 0);
    const first = await peer.nextMatching((m) => m.kind === 'response' && m.status === 200);
    assert.ok(first.kind === 'response');
    for (let i = 0; i < 3; i++) {
      clock.advance(4000);
      await peer.nextMatching((m) => m.kind === 'response' && m.status === 200);
    }
    clock.advance(32_000);
    const bye = await peer.nextMatching((m) => m.kind === 'request' && m.method === 'BYE');
    assert.ok(bye.kind === 'request');
    assert.deepEqual(await ended, { by: 'local', reason: 'ack-timeout' });
    await uas.stop();
  });
});
