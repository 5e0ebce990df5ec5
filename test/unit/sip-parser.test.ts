import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SipParseError } from '../../src/endpoints/sip/errors.js';
import { parseAuthHeader, formatAuthHeader } from '../../src/endpoints/sip/headers/auth.js';
import { SipHeaders } from '../../src/endpoints/sip/headers/header-list.js';
import { formatNameAddr, parseNameAddr } from '../../src/endpoints/sip/headers/name-addr.js';
import { formatVia, parseVia, sentByKey, viaBranch, viaRport } from '../../src/endpoints/sip/headers/via.js';
import { createRequest, createResponse, SipRequest } from '../../src/endpoints/sip/message.js';
import { parseMessage } from '../../src/endpoints/sip/parser.js';
import { serializeMessage } from '../../src/endpoints/sip/serializer.js';
import { validateMessage } from '../../src/endpoints/sip/validate.js';

const crlf = (lines: string[]): Buffer => Buffer.from(lines.join('\r\n'), 'utf8');

const INVITE = [
  'INVITE sip:bob@biloxi.example.com SIP/2.0',
  'v: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds, SIP/2.0/TCP proxy.example.com:5070;branch=z9hG4bK1',
  'Via: SIP/2.0/UDP 10.0.0.1;rport;branch=z9hG4bK2',
  'Max-Forwards: 70',
  't: Bob <sip:bob@biloxi.example.com>',
  'f: "Alice Liddell" <sip:alice@atlanta.example.com>;tag=1928301774',
  'i: a84b4c76e66710@pc33.atlanta.example.com',
  'CSeq: 314159 INVITE',
  'm: <sip:alice@pc33.atlanta.example.com>;expires=60, "Other" <sip:other@example.com>;q=0.5',
  'Record-Route: <sip:p2.example.com;lr>, <sip:p1.example.com;lr>',
  'k: timer, 100rel',
  'k: replaces',
  'Subject: lunch',
  '  at noon',
  'c: application/sdp; charset=utf-8',
  'l: 4',
  '',
  'v=0\r\n',
];

describe('message parsing', () => {
  it('reads a request with compact forms, lists, folding and a body', () => {
    const msg = parseMessage(crlf(INVITE));
    validateMessage(msg);
    assert.ok(msg.kind === 'request');
    assert.equal(msg.method, 'INVITE');
    assert.equal(msg.uri, 'sip:bob@biloxi.example.com');
    assert.equal(msg.callId(), 'a84b4c76e66710@pc33.atlanta.example.com');
    assert.deepEqual(msg.cseq(), { seq: 314159, method: 'INVITE' });
    assert.equal(msg.maxForwards(), 70);
    assert.equal(msg.fromTag(), '1928301774');
    assert.equal(msg.from().displayName, 'Alice Liddell');
    assert.equal(msg.toTag(), null);
    assert.equal(msg.to().displayName, 'Bob');
    assert.deepEqual(msg.vias().map((v) => [v.transport, v.host, v.port, viaBranch(v)]), [
      ['UDP', 'pc33.atlanta.example.com', null, 'z9hG4bK776asdhds'],
      ['TCP', 'proxy.example.com', 5070, 'z9hG4bK1'],
      ['UDP', '10.0.0.1', null, 'z9hG4bK2'],
    ]);
    assert.deepEqual(msg.headers.list('supported'), ['timer', '100rel', 'replaces']);
    assert.equal(msg.headers.get('SUBJECT'), 'lunch at noon');
    assert.equal(msg.contentType(), 'application/sdp');
    assert.equal(msg.body.toString(), 'v=0\r');
    const contacts = msg.contacts();
    assert.ok(contacts !== '*');
    assert.equal(contacts.length, 2);
    assert.equal(contacts[0]?.params.get('expires'), '60');
    assert.equal(contacts[1]?.displayName, 'Other');
    assert.deepEqual(msg.recordRoutes().map((r) => formatNameAddr(r)), ['<sip:p2.example.com;lr>', '<sip:p1.example.com;lr>']);
    assert.deepEqual([...msg.headers].map((h) => h.name).slice(0, 6), ['Via', 'Via', 'Max-Forwards', 'To', 'From', 'Call-ID']);
  });

  it('reads a response, with or without a reason phrase', () => {
    const res = parseMessage(crlf(['SIP/2.0 180 Ringing', 'Via: SIP/2.0/UDP h;branch=z9hG4bKx', 'Content-Length: 0', '', '']));
    assert.ok(res.kind === 'response' && res.status === 180 && res.reason === 'Ringing');
    const bare = parseMessage(crlf(['SIP/2.0 200', 'Content-Length: 0', '', '']));
    assert.ok(bare.kind === 'response' && bare.status === 200 && bare.reason === '');
  });

  it('skips CRLFs before the start line and takes the rest of a datagram without Content-Length', () => {
    const msg = parseMessage(Buffer.from('\r\n\r\nOPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n\r\nhello'));
    assert.equal(msg.body.toString(), 'hello');
    const stream = parseMessage(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n\r\nhello'), { framing: 'stream' });
    assert.equal(stream.body.length, 0, 'on a stream, no Content-Length means no body');
  });

  it('accepts bare LF line endings', () => {
    const msg = parseMessage(Buffer.from('OPTIONS sip:a@b SIP/2.0\nCall-ID: x\nl: 2\n\nok'));
    assert.equal(msg.callId(), 'x');
    assert.equal(msg.body.toString(), 'ok');
  });

  it('rejects what it cannot frame or read, with the status to answer', () => {
    const cases: Array<[string, string, number]> = [
      ['', 'empty', 400],
      ['\r\n\r\n', 'empty', 400],
      ['OPTIONS sip:a@b SIP/2.0\r\nVia: x', 'incomplete', 400],
      ['OPTIONS sip:a@b SIP/2.0\r\n bad: fold\r\n\r\n', 'bad-header', 400],
      ['OPTIONS sip:a@b SIP/2.0\r\nno colon here\r\n\r\n', 'bad-header', 400],
      ['OPTIONS sip:a@b SIP/2.0\r\nBad Name: x\r\n\r\n', 'bad-header', 400],
      ['OPTIONS sip:a@b SIP/2.0\r\nX: a\rb\r\n\r\n', 'bad-header', 400],
      ['OPTIONS sip:a@b SIP/3.0\r\n\r\n', 'bad-version', 505],
      ['OPTIONS sip:a@b HTTP/1.1\r\n\r\n', 'bad-start-line', 400],
      ['SIP/2.0 99 Low\r\n\r\n', 'bad-status', 400],
      ['SIP/2.0 2000 OK\r\n\r\n', 'bad-status', 400],
      ['OPTIONS sip:a@b SIP/2.0\r\nContent-Length: five\r\n\r\n', 'bad-content-length', 400],
      ['OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 99999999\r\n\r\n', 'too-large', 513],
      ['OPTIONS sip:a@b SIP/2.0\r\n' + 'X: y\r\n'.repeat(300) + '\r\n', 'too-large', 513],
    ];
    for (const [text, code, status] of cases) {
      assert.throws(() => parseMessage(Buffer.from(text)), (err: unknown) => err instanceof SipParseError && err.code === code && err.status === status, JSON.stringify(text.slice(0, 50)));
    }
    assert.throws(() => parseMessage(Buffer.alloc(70_000, 0x41)), (err: unknown) => err instanceof SipParseError && err.code === 'too-large');
  });
});

describe('typed headers', () => {
  it('Via: branch, received, rport, sent-by, IPv6', () => {
    const via = parseVia('SIP/2.0/udp [2001:db8::9]:5080;received=2001:db8::1;rport=6000;branch=z9hG4bKabc');
    assert.equal(via.transport, 'UDP');
    assert.equal(via.host, '[2001:db8::9]');
    assert.equal(via.port, 5080);
    assert.equal(via.params.get('received'), '2001:db8::1');
    assert.equal(viaRport(via), 6000);
    assert.equal(viaBranch(via), 'z9hG4bKabc');
    assert.equal(sentByKey(via), '[2001:db8::9]:5080');
    const plain = parseVia('SIP/2.0/TCP host.example.com;rport;branch=z9hG4bK1');
    assert.equal(plain.params.get('rport'), null);
    assert.equal(viaRport(plain), null);
    plain.params.set('rport', '5062').set('received', '192.0.2.7');
    assert.equal(formatVia(plain), 'SIP/2.0/TCP host.example.com;rport=5062;branch=z9hG4bK1;received=192.0.2.7');
    for (const bad of ['SIP/2.0 host', 'SIP/2.0/UDP', 'SIP/2.0/UDPhost', 'SIP/2.0/UDP host:99999', 'SIP/2.0/UDP host;', 'SIP/2.0/UDP host;branch=']) {
      assert.throws(() => parseVia(bad), SipParseError, bad);
    }
  });

  it('From/To/Contact: name-addr and addr-spec forms, tags, params', () => {
    const addr = parseNameAddr('sip:carol@chicago.example.com;tag=abc;x', 'To');
    assert.equal(addr.displayName, null);
    assert.equal(addr.params.get('tag'), 'abc');
    assert.ok(addr.uri.kind === 'sip' && addr.uri.params.size === 0, 'params after an addr-spec belong to the header');
    const named = parseNameAddr('"Carol \\"C\\"" <sip:carol@chicago.example.com;transport=tcp>;tag=9', 'From');
    assert.equal(named.displayName, 'Carol "C"');
    assert.equal(formatNameAddr(named), '"Carol \\"C\\"" <sip:carol@chicago.example.com;transport=tcp>;tag=9');
    const star = parseMessage(Buffer.from('REGISTER sip:r SIP/2.0\r\nContact: *\r\n\r\n'));
    assert.equal(star.contacts(), '*');
    assert.throws(() => parseMessage(Buffer.from('REGISTER sip:r SIP/2.0\r\nContact: *, <sip:a@b>\r\n\r\n')).contacts(), SipParseError);
    assert.throws(() => parseNameAddr('<sip:a@b', 'To'), SipParseError);
    assert.throws(() => parseNameAddr('', 'To'), SipParseError);
  });

  it('Authorization and WWW-Authenticate parameters', () => {
    const challenge = parseAuthHeader('Digest realm="atlanta.example.com", qop="auth,auth-int", nonce="ea9c8e88df84f1cec4341ae6cbe5a359", opaque="", stale=FALSE, algorithm=MD5', 'WWW-Authenticate');
    assert.equal(challenge.scheme, 'Digest');
    assert.equal(challenge.params.get('realm'), 'atlanta.example.com');
    assert.equal(challenge.params.get('qop'), 'auth,auth-int');
    assert.equal(challenge.params.get('opaque'), '');
    assert.equal(challenge.params.get('stale'), 'FALSE');
    assert.equal(formatAuthHeader({ scheme: 'Digest', params: new Map([['username', 'bob'], ['nc', '00000001']]) }, new Set(['nc'])), 'Digest username="bob", nc=00000001');
    assert.throws(() => parseAuthHeader('Digest realm', 'Authorization'), SipParseError);
    assert.throws(() => parseAuthHeader('Digest realm="a" nonce="b"', 'Authorization'), SipParseError);
  });

  it('validation demands the mandatory headers once each and a matching CSeq', () => {
    const base = ['OPTIONS sip:a@b SIP/2.0', 'Via: SIP/2.0/UDP h;branch=z9hG4bK1', 'From: <sip:x@y>;tag=1', 'To: <sip:a@b>', 'Call-ID: c', 'CSeq: 1 OPTIONS'];
    validateMessage(parseMessage(crlf([...base, '', ''])));
    const broken: Array<[string[], string]> = [
      [base.filter((l) => !l.startsWith('Call-ID')), 'missing-header'],
      [[...base, 'To: <sip:z@b>'], 'duplicate-header'],
      [base.map((l) => (l.startsWith('CSeq') ? 'CSeq: 1 INVITE' : l)), 'cseq-mismatch'],
      [base.map((l) => (l.startsWith('Call-ID') ? 'Call-ID: a b' : l)), 'bad-header'],
      [[...base, 'Max-Forwards: 256'], 'bad-header'],
    ];
    for (const [lines, code] of broken) {
      assert.throws(() => validateMessage(parseMessage(crlf([...lines, '', '']))), (err: unknown) => err instanceof SipParseError && err.code === code, code);
    }
  });
});

describe('serializer and builders', () => {
  it('writes Content-Length from the body bytes, replacing a stale one', () => {
    const req = createRequest({ method: 'MESSAGE', uri: 'sip:a@b', headers: [['Content-Length', '999'], ['Call-ID', 'x']], body: 'héllo', contentType: 'text/plain' });
    const wire = serializeMessage(req).toString('utf8');
    assert.equal(wire, 'MESSAGE sip:a@b SIP/2.0\r\nCall-ID: x\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nhéllo');
    const empty = serializeMessage(new SipRequest('OPTIONS', 'sip:a@b')).toString();
    assert.equal(empty, 'OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 0\r\n\r\n');
  });

  it('round-trips a message through the wire', () => {
    const msg = parseMessage(crlf(INVITE));
    const again = parseMessage(serializeMessage(msg));
    assert.deepEqual([...again.headers].filter((h) => h.key !== 'content-length'), [...msg.headers].filter((h) => h.key !== 'content-length'));
    assert.deepEqual(again.body, msg.body);
  });

  it('createResponse copies Via, From, To, Call-ID, CSeq and adds the To tag', () => {
    const req = parseMessage(crlf(INVITE));
    assert.ok(req.kind === 'request');
    const ringing = createResponse(req, 180, { toTag: 'xyz' });
    assert.equal(ringing.reason, 'Ringing');
    assert.deepEqual(ringing.headers.getAll('via'), req.headers.getAll('via'));
    assert.equal(ringing.toTag(), 'xyz');
    assert.equal(ringing.callId(), req.callId());
    assert.deepEqual(ringing.cseq(), req.cseq());
    assert.equal(createResponse(req, 100, { toTag: 'xyz' }).toTag(), null, '100 Trying carries no tag');
  });

  it('SipHeaders keeps order, replaces in place and refuses CR/LF injection', () => {
    const h = new SipHeaders().append('Via', 'a').append('To', 't').append('v', 'b');
    h.set('via', 'c');
    assert.deepEqual([...h].map((f) => `${f.name}:${f.value}`), ['Via:c', 'To:t']);
    h.replaceList('Route', ['<sip:r1;lr>', '<sip:r2;lr>']);
    assert.deepEqual(h.getAll('route'), ['<sip:r1;lr>', '<sip:r2;lr>']);
    h.delete('ROUTE');
    assert.equal(h.count('route'), 0);
    assert.throws(() => h.append('X', 'a\r\nInjected: yes'));
    assert.throws(() => h.append('Bad:Name', 'x'));
  });
});
