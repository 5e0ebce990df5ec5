import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SipParseError } from '../../src/endpoints/sip/errors.js';
import type { SipParseErrorCode } from '../../src/endpoints/sip/errors.js';
import { parseMessage } from '../../src/endpoints/sip/parser.js';
import { serializeMessage } from '../../src/endpoints/sip/serializer.js';
import { validateMessage } from '../../src/endpoints/sip/validate.js';
import type { SipMessage } from '../../src/endpoints/sip/message.js';

const DIR = fileURLToPath(new URL('../fixtures/sip/rfc4475/', import.meta.url));
const load = (name: string): Buffer => readFileSync(`${DIR}${name}.dat`);

/** parse + validate: what the transport does before the transaction layer sees a message. */
function accept(data: Buffer): SipMessage {
  const msg = parseMessage(data);
  validateMessage(msg);
  return msg;
}

interface Rejected {
  code: SipParseErrorCode;
  status: number;
}

/**
 * What RFC 4475 asks for each message and what we do. `accept` entries that the RFC calls
 * invalid carry the reason a lenient parser may accept them.
 */
const CASES: ReadonlyArray<{ file: string; section: string; expect: 'accept' | Rejected; why?: string }> = [
  { file: 'wsinv', section: '3.1.1.1', expect: 'accept' },
  { file: 'intmeth', section: '3.1.1.2', expect: 'accept' },
  { file: 'esc01', section: '3.1.1.3', expect: 'accept' },
  { file: 'escnull', section: '3.1.1.4', expect: 'accept' },
  { file: 'esc02', section: '3.1.1.5', expect: 'accept' },
  { file: 'lwsdisp', section: '3.1.1.6', expect: 'accept' },
  { file: 'longreq', section: '3.1.1.7', expect: 'accept' },
  { file: 'dblreq', section: '3.1.1.8', expect: 'accept' },
  { file: 'semiuri', section: '3.1.1.9', expect: 'accept' },
  { file: 'transports', section: '3.1.1.10', expect: 'accept' },
  { file: 'mpart01', section: '3.1.1.11', expect: 'accept' },
  { file: 'unreason', section: '3.1.1.12', expect: 'accept' },
  { file: 'noreason', section: '3.1.1.13', expect: 'accept' },
  { file: 'badinv01', section: '3.1.2.1', expect: { code: 'bad-header', status: 400 } },
  { file: 'clerr', section: '3.1.2.2', expect: { code: 'incomplete', status: 400 } },
  { file: 'ncl', section: '3.1.2.3', expect: { code: 'bad-content-length', status: 400 } },
  { file: 'scalar02', section: '3.1.2.4', expect: { code: 'bad-header', status: 400 } },
  { file: 'scalarlg', section: '3.1.2.5', expect: { code: 'bad-header', status: 400 } },
  { file: 'quotbal', section: '3.1.2.6', expect: { code: 'bad-header', status: 400 } },
  { file: 'ltgtruri', section: '3.1.2.7', expect: { code: 'bad-request-uri', status: 400 } },
  { file: 'lwsruri', section: '3.1.2.8', expect: { code: 'bad-start-line', status: 400 } },
  { file: 'lwsstart', section: '3.1.2.9', expect: { code: 'bad-start-line', status: 400 } },
  { file: 'trws', section: '3.1.2.10', expect: { code: 'bad-start-line', status: 400 } },
  { file: 'escruri', section: '3.1.2.11', expect: { code: 'bad-request-uri', status: 400 } },
  {
    file: 'baddate',
    section: '3.1.2.12',
    expect: 'accept',
    why: 'the RFC allows ignoring a bad Date when the element does not use it; this UA never reads Date',
  },
  { file: 'regbadct', section: '3.1.2.13', expect: { code: 'bad-header', status: 400 } },
  { file: 'badaspec', section: '3.1.2.14', expect: { code: 'bad-header', status: 400 } },
  { file: 'baddn', section: '3.1.2.15', expect: { code: 'bad-header', status: 400 } },
  { file: 'badvers', section: '3.1.2.16', expect: { code: 'bad-version', status: 505 } },
  { file: 'mismatch01', section: '3.1.2.17', expect: { code: 'cseq-mismatch', status: 400 } },
  { file: 'mismatch02', section: '3.1.2.18', expect: { code: 'cseq-mismatch', status: 400 }, why: '400 is one of the two answers the RFC allows' },
  { file: 'bigcode', section: '3.1.2.19', expect: { code: 'bad-status', status: 400 } },
  { file: 'badbranch', section: '3.2.1', expect: 'accept', why: 'syntactically valid; "z9hG4bK" is just an odd branch to the transaction layer' },
  { file: 'insuf', section: '3.3.1', expect: { code: 'missing-header', status: 400 } },
  { file: 'unkscm', section: '3.3.2', expect: 'accept', why: 'well formed; the UA answers 416 (user-agent test)' },
  { file: 'novelsc', section: '3.3.3', expect: 'accept', why: 'well formed; the UA answers 416' },
  { file: 'unksm2', section: '3.3.4', expect: 'accept' },
  { file: 'bext01', section: '3.3.5', expect: 'accept', why: 'well formed; the UA answers 420 with Unsupported' },
  { file: 'invut', section: '3.3.6', expect: 'accept', why: 'well formed; the UA answers 415' },
  { file: 'regaut01', section: '3.3.7', expect: 'accept' },
  { file: 'multi01', section: '3.3.8', expect: { code: 'duplicate-header', status: 400 } },
  { file: 'mcl01', section: '3.3.9', expect: { code: 'bad-content-length', status: 400 } },
  { file: 'bcast', section: '3.3.10', expect: 'accept', why: 'well formed; a UA drops it because no transaction matches' },
  { file: 'zeromf', section: '3.3.11', expect: 'accept', why: 'Max-Forwards 0 only matters to proxies; a UAS may answer it' },
  { file: 'cparam01', section: '3.3.12', expect: 'accept' },
  { file: 'cparam02', section: '3.3.13', expect: 'accept' },
  { file: 'regescrt', section: '3.3.14', expect: 'accept' },
  { file: 'sdp01', section: '3.3.15', expect: 'accept' },
  { file: 'inv2543', section: '3.4.1', expect: 'accept', why: 'RFC 2543 syntax is still parseable; the body runs to the end of the datagram' },
];

const VALID = CASES.filter((c) => c.expect === 'accept').map((c) => c.file);

describe('RFC 4475 torture messages', () => {
  it('has a fixture for every case and a case for every fixture', () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith('.dat')).map((f) => f.slice(0, -4)).sort();
    assert.deepEqual(files, CASES.map((c) => c.file).sort());
  });

  for (const c of CASES) {
    it(`${c.section} ${c.file}: ${c.expect === 'accept' ? 'accepted' : `rejected (${c.expect.code}, ${c.expect.status})`}`, () => {
      const data = load(c.file);
      if (c.expect === 'accept') {
        accept(data);
        return;
      }
      const expected = c.expect;
      assert.throws(() => accept(data), (err: unknown) => {
        assert.ok(err instanceof SipParseError, `not a SipParseError: ${String(err)}`);
        assert.equal(err.code, expected.code, err.message);
        assert.equal(err.status, expected.status);
        return true;
      });
    });
  }

  it('wsinv: folding, LWS, compact forms, leading zeros and unknown headers', () => {
    const msg = accept(load('wsinv'));
    assert.equal(msg.kind, 'request');
    if (msg.kind !== 'request') return;
    assert.equal(msg.method, 'INVITE');
    assert.equal(msg.toTag(), '1918181833n');
    const from = msg.from();
    assert.equal(from.displayName, 'J Rosenberg \\"');
    assert.equal(from.params.get('tag'), '98asjd8');
    assert.equal(msg.maxForwards(), 68);
    assert.deepEqual(msg.cseq(), { seq: 9, method: 'INVITE' });
    const vias = msg.vias();
    assert.deepEqual(vias.map((v) => [v.transport, v.host, v.params.get('branch')]), [
      ['UDP', '192.0.2.2', '390skdjuw'],
      ['TCP', 'spindle.example.com', 'z9hG4bK9ikj8'],
      ['UDP', '192.168.255.111', 'z9hG4bK30239'],
    ]);
    assert.equal(msg.headers.get('subject'), '');
    assert.equal(msg.headers.get('newfangledheader'), 'newfangled value continued newfangled value');
    assert.equal(msg.headers.get('UnknownHeaderWithUnusualValue'), ';;,,;;,;');
    const contacts = msg.contacts();
    assert.ok(contacts !== '*');
    assert.equal(contacts[0]?.displayName, 'Quoted string ""');
    assert.equal(contacts[0]?.params.get('newparam'), 'newvalue');
    assert.equal(contacts[0]?.params.get('secondparam'), null);
    assert.equal(contacts[0]?.params.get('q'), '0.33');
    assert.equal(msg.routes()[0]?.uri.kind, 'sip');
    assert.equal(msg.body.length, 150);
  });

  it('intmeth: unusual token characters, quoted control characters, UTF-8', () => {
    const msg = accept(load('intmeth'));
    assert.ok(msg.kind === 'request');
    assert.equal(msg.method, "!interesting-Method0123456789_*+`.%indeed'~");
    const uri = msg.requestUri();
    assert.ok(uri.kind === 'sip');
    assert.equal(uri.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    assert.equal(uri.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
    assert.equal(msg.to().displayName, 'BEL:\x07 NUL:\x00 DEL:\x7f');
    const from = msg.from();
    assert.equal(from.displayName, "token1~` token2'+_ token3*%!.-");
    assert.equal(from.params.get("fromParam''~+*_!.-%"), 'работающий');
    assert.equal(from.params.get('tag'), "_token~1'+`*%!-.");
    assert.equal(msg.callId(), 'intmeth.word%ZK-!.*_+\'@word`~)(><:\\/"][?}{');
    assert.equal(msg.headers.get("extensionHeader-!.%*+_`'~"), '\ufeff大停電');
  });

  it('esc01, escnull, esc02, semiuri: % escapes only where the grammar has them', () => {
    const esc01 = accept(load('esc01'));
    assert.ok(esc01.kind === 'request');
    const ruri = esc01.requestUri();
    assert.ok(ruri.kind === 'sip' && ruri.user === 'sips:user@example.com');
    const to = esc01.to().uri;
    assert.ok(to.kind === 'sip' && to.user === 'user');
    const contacts = esc01.contacts();
    assert.ok(contacts !== '*');
    const contact = contacts[0]?.uri;
    assert.ok(contact?.kind === 'sip');
    assert.equal(contact.user, 'caller');
    assert.equal(contact.params.get('lr'), null);
    assert.equal(contact.params.get('name'), 'value%41');

    const escnull = accept(load('escnull'));
    const nulls = escnull.contacts();
    assert.ok(nulls !== '*');
    assert.deepEqual(nulls.map((c) => (c.uri.kind === 'sip' ? c.uri.user : null)), ['\x00', '\x00\x00']);

    const esc02 = accept(load('esc02'));
    assert.ok(esc02.kind === 'request' && esc02.method === 'RE%47IST%45R');
    assert.equal(esc02.to().displayName, '%Z%45');
    const aliases = esc02.contacts();
    assert.ok(aliases !== '*' && aliases.length === 2);
    assert.equal(esc02.headers.get('C%6Fntact'), '<sip:alias2@host2.example.com>');

    const semiuri = accept(load('semiuri'));
    assert.ok(semiuri.kind === 'request');
    const user = semiuri.requestUri();
    assert.ok(user.kind === 'sip' && user.user === 'user;par=u@example.net');
    assert.equal(semiuri.headers.list('accept').length, 6);
  });

  it('longreq, dblreq, transports, mpart01, unreason, noreason', () => {
    const longreq = accept(load('longreq'));
    assert.equal(longreq.vias().length, 34);
    assert.equal(longreq.vias()[33]?.params.get('received'), '192.0.2.5');
    const longTo = longreq.to().uri;
    assert.ok(longTo.kind === 'sip' && longTo.port === 6000 && longTo.params.size === 3);

    const dblreq = accept(load('dblreq'));
    assert.ok(dblreq.kind === 'request' && dblreq.method === 'REGISTER');
    assert.equal(dblreq.body.length, 0, 'octets after Content-Length are ignored on a datagram');

    assert.deepEqual(accept(load('transports')).vias().map((v) => v.transport), ['UDP', 'SCTP', 'TLS', 'UNKNOWN', 'TCP']);

    const mpart = accept(load('mpart01'));
    assert.equal(mpart.body.length, 553);
    assert.ok(mpart.body.includes(0));

    const unreason = accept(load('unreason'));
    assert.ok(unreason.kind === 'response');
    assert.equal(unreason.reason, '= 2**3 * 5**2 но сто девяносто девять - простое');

    const noreason = accept(load('noreason'));
    assert.ok(noreason.kind === 'response' && noreason.status === 100 && noreason.reason === '');
  });

  it('a rejected request still exposes its headers so a UAS can answer it', () => {
    const err = captureError(() => parseMessage(load('badvers')));
    assert.equal(err.status, 505);
    assert.equal(err.requestHeaders?.get('call-id'), 'badvers.31417@c.example.com');
  });
});

describe('round trip: parse → serialize → parse', () => {
  for (const file of VALID) {
    it(file, () => {
      const first = accept(load(file));
      const wire = serializeMessage(first);
      const second = accept(wire);
      assert.deepEqual(summary(second), summary(first));
      assert.deepEqual(serializeMessage(second), wire, 'serialising is stable');
      assert.equal(second.headers.get('content-length'), String(first.body.length));
    });
  }
});

/** Everything that makes two messages the same, Content-Length aside (it is recomputed). */
function summary(msg: SipMessage): unknown {
  return {
    start: msg.kind === 'request' ? [msg.method, msg.uri] : [msg.status, msg.reason],
    headers: [...msg.headers].filter((h) => h.key !== 'content-length').map((h) => [h.name, h.value]),
    body: msg.body.toString('hex'),
  };
}

describe('fuzzing: mutated torture messages only ever raise SipParseError', () => {
  it('survives 4000 seeded mutations', () => {
    const corpus = CASES.map((c) => load(c.file));
    const rand = mulberry32(0x5eed);
    const started = Date.now();
    let accepted = 0;
    for (let n = 0; n < 4000; n++) {
      const input = mutate(corpus[Math.floor(rand() * corpus.length)] ?? Buffer.alloc(0), corpus, rand);
      try {
        exercise(input);
        accepted++;
      } catch (err) {
        assert.ok(err instanceof SipParseError, `input ${n} threw ${String(err)}`);
        assert.notEqual(err.code, 'internal', `input ${n}: ${err.message}`);
      }
    }
    assert.ok(accepted > 100, `some mutants stay valid (${accepted})`);
    assert.ok(Date.now() - started < 20_000, 'bounded cost');
  });

  it('stays linear on hostile shapes', () => {
    const base = load('lwsdisp').toString('latin1');
    const hostile = [
      base.replace('Via: SIP/2.0/UDP funky.example.com;branch=z9hG4bKkdjuw', `Via: SIP/2.0/UDP h${';a'.repeat(20_000)}`),
      base.replace('l: 0', `X-Fold: a${'\r\n b'.repeat(7000)}\r\nl: 0`),
      base.replace('l: 0', `${'X: y\r\n'.repeat(300)}l: 0`),
      base.replace('To: sip:user@example.com', `To: "${'\\"'.repeat(12_000)} <sip:a@b>`),
      base.replace('To: sip:user@example.com', `To: ${'<'.repeat(20_000)}`),
      'INVITE sip:a@b SIP/2.0\r\n' + 'Contact: <sip:a@b>,'.repeat(1500) + '\r\n\r\n',
    ];
    for (const text of hostile) {
      const started = Date.now();
      try {
        exercise(Buffer.from(text, 'latin1'));
      } catch (err) {
        assert.ok(err instanceof SipParseError, String(err));
      }
      assert.ok(Date.now() - started < 500, 'fast rejection');
    }
  });
});

/** Parse, validate and read every typed header, as the stack would. */
function exercise(input: Buffer): void {
  const msg = parseMessage(input);
  validateMessage(msg);
  msg.topVia();
  msg.fromTag();
  msg.toTag();
  msg.contactUri();
  msg.contentType();
  if (msg.kind === 'request') msg.requestUri();
  serializeMessage(msg);
}

const INTERESTING = Buffer.from(' \t\r\n:;,"<>@%[]=/\\\x00\xff0123456789');

function mutate(seed: Buffer, corpus: readonly Buffer[], rand: () => number): Buffer {
  let buf = Buffer.from(seed);
  const count = 1 + Math.floor(rand() * 6);
  for (let i = 0; i < count; i++) {
    const at = Math.floor(rand() * (buf.length + 1));
    const op = Math.floor(rand() * 6);
    if (op === 0 && buf.length > 0) buf[Math.min(at, buf.length - 1)] = Math.floor(rand() * 256);
    else if (op === 1) buf = Buffer.concat([buf.subarray(0, at), Buffer.of(INTERESTING[Math.floor(rand() * INTERESTING.length)] ?? 0), buf.subarray(at)]);
    else if (op === 2) buf = Buffer.concat([buf.subarray(0, at), buf.subarray(Math.min(buf.length, at + 1 + Math.floor(rand() * 16)))]);
    else if (op === 3) buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at, at + Math.floor(rand() * 40)), buf.subarray(at)]);
    else if (op === 4) buf = buf.subarray(0, at);
    else {
      const other = corpus[Math.floor(rand() * corpus.length)] ?? Buffer.alloc(0);
      const from = Math.floor(rand() * other.length);
      buf = Buffer.concat([buf.subarray(0, at), other.subarray(from, from + Math.floor(rand() * 80))]);
    }
  }
  return buf;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function captureError(fn: () => unknown): SipParseError {
  try {
    fn();
  } catch (err) {
    if (err instanceof SipParseError) return err;
    throw err;
  }
  throw new Error('expected a SipParseError');
}
