import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { VirtualClock } from '../../src/util/clock.js';
import type { SipMessage } from '../../src/endpoints/sip/message.js';
import { parseMessage } from '../../src/endpoints/sip/parser.js';
import type { TransportProtocol } from '../../src/endpoints/sip/transport.js';
import { SipUserAgent } from '../../src/endpoints/sip/user-agent.js';
import type { SipUserAgentOptions } from '../../src/endpoints/sip/user-agent.js';
import type { SipIncomingCall } from '../../src/endpoints/sip/incoming-call.js';
import type { TypedEmitter } from '../../src/endpoints/sip/emitter.js';
import type { EventMap } from '../../src/endpoints/sip/emitter.js';
import type { CallEndInfo, SessionBody } from '../../src/endpoints/sip/ua-core.js';

const OFFER: SessionBody = { contentType: 'application/sdp', body: 'v=0\r\no=alice 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n' };
const ANSWER: SessionBody = { contentType: 'application/sdp', body: 'v=0\r\no=bob 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40002 RTP/AVP 0\r\n' };

interface Traced {
  ua: string;
  dir: 'in' | 'out';
  line: string;
  protocol: TransportProtocol;
}

const trace: Traced[] = [];

function agent(name: string, extra: SipUserAgentOptions = {}): SipUserAgent {
  return new SipUserAgent({
    host: '127.0.0.1',
    udpPort: 0,
    tcpPort: 0,
    userAgent: `test-${name}`,
    trace: (dir, message, peer) => trace.push({ ua: name, dir, line: startLine(message), protocol: peer.protocol }),
    ...extra,
  });
}

function startLine(m: SipMessage): string {
  return m.kind === 'request' ? `${m.method}` : `${m.status} ${m.cseq().method}`;
}

/** What `ua` sent, in order, as "INVITE" / "180 INVITE" lines. */
function sentBy(ua: string, from = 0): string[] {
  return trace.slice(from).filter((t) => t.ua === ua && t.dir === 'out').map((t) => t.line);
}

async function waitFor(check: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The first argument of the next `event`. */
function next<E extends EventMap, K extends keyof E>(emitter: TypedEmitter<E>, event: K): Promise<E[K][0]> {
  return new Promise((resolve) => emitter.once(event, (...args: E[K]) => resolve(args[0])));
}

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

/** A bare UDP socket speaking SIP text, for probing the UA like a foreign implementation would. */
class RawPeer {
  private readonly inbox: SipMessage[] = [];
  private constructor(private readonly socket: dgram.Socket) {
    socket.on('message', (data) => this.inbox.push(parseMessage(data)));
  }

  static async open(): Promise<RawPeer> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new RawPeer(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(data: string | Buffer, port: number): void {
    this.socket.send(typeof data === 'string' ? Buffer.from(data) : data, port, '127.0.0.1');
  }

  async nextMatching(match: (m: SipMessage) => boolean): Promise<SipMessage> {
    let found: SipMessage | undefined;
    await waitFor(() => {
      const at = this.inbox.findIndex(match);
      if (at >= 0) found = this.inbox.splice(at, 1)[0];
      return found !== undefined;
    });
    if (!found) throw new Error('unreachable');
    return found;
  }

  close(): void {
    this.socket.close();
  }
}
