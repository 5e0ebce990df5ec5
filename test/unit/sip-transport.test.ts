import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { SipParseError } from '../../src/endpoints/sip/errors.js';
import { SipStreamFramer } from '../../src/endpoints/sip/framing.js';
import { createResponse } from '../../src/endpoints/sip/message.js';
import type { SipRequest } from '../../src/endpoints/sip/message.js';
import { parseMessage } from '../../src/endpoints/sip/parser.js';
import { SipTransport, stampVia } from '../../src/endpoints/sip/transport.js';
import type { InboundMessage } from '../../src/endpoints/sip/transport.js';

const LIMITS = { maxHeaderBytes: 4096, maxBodyBytes: 8192, maxHeaders: 64 };

const message = (body = '', callId = 'c1'): string =>
  `MESSAGE sip:a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bK${callId}\r\nFrom: <sip:b@127.0.0.1>;tag=1\r\n` +
  `To: <sip:a@127.0.0.1>\r\nCall-ID: ${callId}\r\nCSeq: 1 MESSAGE\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

describe('TCP stream framing', () => {
  it('cuts messages by Content-Length, however the bytes arrive', () => {
    const wire = Buffer.from('\r\n\r\n' + message('hello\r\n\r\nworld', 'a') + '\r\n\r\n' + message('', 'b') + message('x', 'c'));
    const whole = new SipStreamFramer(LIMITS).push(wire);
    assert.deepEqual(whole.map((m) => parseMessage(m, { framing: 'stream' }).callId()), ['a', 'b', 'c']);
    assert.equal(parseMessage(whole[0] ?? Buffer.alloc(0), { framing: 'stream' }).body.toString(), 'hello\r\n\r\nworld');

    const framer = new SipStreamFramer(LIMITS);
    const oneByOne: Buffer[] = [];
    for (const byte of wire) oneByOne.push(...framer.push(Buffer.of(byte)));
    assert.deepEqual(oneByOne, whole);
    assert.equal(framer.buffered, 0);
  });

  it('takes a missing Content-Length as zero', () => {
    const out = new SipStreamFramer(LIMITS).push(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\nOPTIONS sip:a@b SIP/2.0\r\nCall-ID: y\r\n\r\n'));
    assert.equal(out.length, 2);
  });

  it('fails the stream on oversized heads or bodies and on bad lengths', () => {
    const cases: Array<[string, string]> = [
      ['X'.repeat(5000), 'too-large'],
      ['OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 9000\r\n\r\n', 'too-large'],
      ['OPTIONS sip:a@b SIP/2.0\r\nContent-Length: -1\r\n\r\n', 'bad-content-length'],
      ['OPTIONS sip:a@b SIP/2.0\r\nl: 1\r\nContent-Length: 2\r\n\r\n', 'bad-content-length'],
    ];
    for (const [text, code] of cases) {
      assert.throws(() => new SipStreamFramer(LIMITS).push(Buffer.from(text)), (err: unknown) => err instanceof SipParseError && err.code === code, code);
    }
  });

  it('stays linear when a large message trickles in', () => {
    const big = Buffer.from(message('b'.repeat(8000)));
    const framer = new SipStreamFramer(LIMITS);
    const started = Date.now();
    let out: Buffer[] = [];
    for (let i = 0; i < big.length; i += 3) out = out.concat(framer.push(big.subarray(i, i + 3)));
    assert.equal(out.length, 1);
    assert.ok(Date.now() - started < 1000, 'fast');
  });
});

describe('Via stamping (§18.2.1, RFC 3581)', () => {
  const req = (via: string): SipRequest => {
    const m = parseMessage(Buffer.from(`OPTIONS sip:a@b SIP/2.0\r\nVia: ${via}\r\nCall-ID: x\r\n\r\n`));
    assert.ok(m.kind === 'request');
    return m;
  };

  it('adds received when the source differs from sent-by, and fills rport when asked', () => {
    const natted = req('SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK1;rport, SIP/2.0/UDP proxy:5070;branch=z9hG4bK0');
    stampVia(natted, { protocol: 'UDP', host: '198.51.100.4', port: 40123 });
    assert.deepEqual(natted.headers.getAll('via'), [
      'SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK1;rport=40123;received=198.51.100.4',
      'SIP/2.0/UDP proxy:5070;branch=z9hG4bK0',
    ]);
    const same = req('SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK2');
    stampVia(same, { protocol: 'UDP', host: '192.0.2.1', port: 5060 });
    assert.equal(same.headers.get('via'), 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK2', 'untouched');
    const rportSameHost = req('SIP/2.0/UDP 192.0.2.1:5060;rport;branch=z9hG4bK3');
    stampVia(rportSameHost, { protocol: 'UDP', host: '192.0.2.1', port: 5060 });
    assert.equal(rportSameHost.topVia().params.get('received'), '192.0.2.1', 'RFC 3581: received always with rport');
  });
});

describe('SipTransport', () => {
  const inbound: InboundMessage[] = [];
  const rejected: SipParseError[] = [];
  const transport = new SipTransport(
    { host: '127.0.0.1', udpPort: 0, tcpPort: 0 },
    { onMessage: (m) => inbound.push(m), onRejected: (err) => rejected.push(err) },
  );
  before(() => transport.start());
  after(() => transport.stop());

  async function until(check: () => boolean): Promise<void> {
    const deadline = Date.now() + 3000;
    while (!check()) {
      if (Date.now() > deadline) throw new Error('timed out');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  it('answers over the connection a TCP request came in on, ignoring keep-alive CRLFs', async () => {
    const socket = net.connect(transport.port('TCP') ?? 0, '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (chunk) => received.push(chunk));
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('\r\n\r\n');
    socket.write(message('', 'tcp-1'));
    await until(() => inbound.some((m) => m.message.callId() === 'tcp-1'));
    const got = inbound.find((m) => m.message.callId() === 'tcp-1');
    assert.ok(got?.message.kind === 'request' && got.source.protocol === 'TCP' && got.source.connectionId !== undefined);
    assert.equal(got.message.topVia().params.get('received'), undefined, 'sent-by already matches');
    // Via says port 5999, where nobody listens: the open connection is used instead (§18.2.2).
    transport.send(createResponse(got.message, 200, { toTag: 't' }), { protocol: 'TCP', host: '127.0.0.1', port: 5999, connectionId: got.source.connectionId });
    await until(() => Buffer.concat(received).includes('SIP/2.0 200 OK'));
    socket.destroy();
  });

  it('closes a TCP connection whose framing breaks', async () => {
    const socket = net.connect(transport.port('TCP') ?? 0, '127.0.0.1');
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.write('OPTIONS sip:a@b SIP/2.0\r\nContent-Length: lots\r\n\r\n');
    await closed;
    assert.ok(rejected.some((e) => e.code === 'bad-content-length'));
  });

  it('reports a failed outbound connection to the sender', async () => {
    const spare = net.createServer();
    await new Promise<void>((resolve) => spare.listen(0, '127.0.0.1', resolve));
    const address = spare.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    await new Promise((resolve) => spare.close(resolve));
    const errors: Error[] = [];
    const req = parseMessage(Buffer.from(message('', 'dead')));
    transport.send(req, { protocol: 'TCP', host: '127.0.0.1', port }, (err) => errors.push(err));
    await until(() => errors.length === 1);
  });

  it('ignores CRLF keep-alives over UDP and answers a malformed request statelessly with 400', async () => {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const replies: Buffer[] = [];
    socket.on('message', (data) => replies.push(data));
    const port = transport.port('UDP') ?? 0;
    const before = rejected.length;
    socket.send(Buffer.from('\r\n\r\n'), port, '127.0.0.1');
    const broken = `OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${socket.address().port};branch=z9hG4bKu\r\nFrom: <sip:b@c>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: u1\r\nCSeq: 1 INVITE\r\n\r\n`;
    socket.send(Buffer.from(broken), port, '127.0.0.1');
    await until(() => replies.length === 1);
    const res = parseMessage(replies[0] ?? Buffer.alloc(0));
    assert.ok(res.kind === 'response' && res.status === 400 && res.toTag() !== null);
    assert.equal(rejected.length, before + 1, 'the keep-alive was not a rejection');
    socket.close();
  });
});
