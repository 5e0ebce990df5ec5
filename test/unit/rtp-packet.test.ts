import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RtpPacket, RtpParseError, parseRtpPacket } from '../../src/endpoints/rtp/rtp-packet.js';

/** Deterministic PRNG (mulberry32) so a failing fuzz case can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hex(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
}

describe('RtpPacket.parse', () => {
  it('reads every header field of a real PCMU packet', () => {
    // V=2, M=1, PT=0, seq 0x1234, ts 0xdeadbeef, SSRC 0x01020304, 4 payload bytes.
    const p = parseRtpPacket(hex('80 80 1234 deadbeef 01020304 fffefdfc'));
    assert.equal(p.version, 2);
    assert.equal(p.padding, false);
    assert.equal(p.extension, false);
    assert.equal(p.marker, true);
    assert.equal(p.payloadType, 0);
    assert.equal(p.sequenceNumber, 0x1234);
    assert.equal(p.timestamp, 0xdeadbeef);
    assert.equal(p.ssrc, 0x01020304);
    assert.equal(p.csrcCount, 0);
    assert.deepEqual([...p.payload], [0xff, 0xfe, 0xfd, 0xfc]);
  });

  it('reads CSRCs, skips a header extension and strips padding', () => {
    // P=1 X=1 CC=2, PT=8; two CSRCs; extension profile 0xbede with 1 word; payload 2 bytes; 3 padding bytes.
    const data = hex('b2 08 0001 00000010 aaaaaaaa 11111111 22222222 bede0001 01020304 abcd 000003');
    const p = parseRtpPacket(data);
    assert.equal(p.padding, true);
    assert.equal(p.extension, true);
    assert.equal(p.payloadType, 8);
    assert.equal(p.csrcCount, 2);
    assert.equal(p.csrcs[0], 0x11111111);
    assert.equal(p.csrcs[1], 0x22222222);
    assert.deepEqual([...p.payload], [0xab, 0xcd]);
    assert.equal(p.payloadOffset, 12 + 8 + 8);
  });

  it('parses into the same object without allocating a new one, payload as a view', () => {
    const p = new RtpPacket();
    const a = hex('80 00 0001 00000000 00000001 11');
    const b = hex('80 08 0002 000000a0 00000002 2222');
    assert.equal(p.parse(a), null);
    assert.equal(p.payloadData, a);
    assert.equal(p.parse(b), null);
    assert.equal(p.sequenceNumber, 2);
    assert.equal(p.payloadLength, 2);
    assert.equal(p.payload.buffer, b.buffer);
  });

  it('honours an explicit length shorter than the buffer', () => {
    const data = hex('80 00 0001 00000000 00000001 1122 ffffffff');
    const p = new RtpPacket();
    assert.equal(p.parse(data, 14), null);
    assert.deepEqual([...p.payload], [0x11, 0x22]);
  });

  it('rejects malformed packets with a typed error', () => {
    const cases: [string, string][] = [
      ['', 'too-short'],
      ['80 00 0001 00000000 000000', 'too-short'],
      ['40 00 0001 00000000 00000001', 'bad-version'],
      ['c0 00 0001 00000000 00000001', 'bad-version'],
      ['83 00 0001 00000000 00000001 11111111', 'truncated-csrc'],
      ['90 00 0001 00000000 00000001 bede', 'truncated-extension'],
      ['90 00 0001 00000000 00000001 bede0002 00000000', 'truncated-extension'],
      ['a0 00 0001 00000000 00000001 1100', 'bad-padding'],
      ['a0 00 0001 00000000 00000001 1105', 'bad-padding'],
    ];
    for (const [bytes, code] of cases) {
      assert.throws(() => parseRtpPacket(hex(bytes)), (e: unknown) => e instanceof RtpParseError && e.code === code, bytes);
      assert.equal(new RtpPacket().parse(hex(bytes)), code, bytes);
    }
    // Padding that consumes the whole payload is legal (an empty payload).
    assert.equal(new RtpPacket().parse(hex('a0 00 0001 00000000 00000001 0002')), null);
  });
});

describe('RtpPacket.serializeInto', () => {
  it('round-trips through parse', () => {
    const p = new RtpPacket();
    p.marker = true;
    p.payloadType = 101;
    p.sequenceNumber = 65535;
    p.timestamp = 0xffffff00;
    p.ssrc = 0xcafebabe;
    p.csrcCount = 2;
    p.csrcs[0] = 7;
    p.csrcs[1] = 0xffffffff;
    p.setPayload(Uint8Array.of(1, 2, 3, 4));
    const buf = new Uint8Array(64);
    const n = p.serializeInto(buf, 5);
    assert.equal(n, p.encodedLength());
    assert.equal(n, 12 + 8 + 4);
    const q = parseRtpPacket(buf.subarray(5, 5 + n));
    assert.equal(q.marker, true);
    assert.equal(q.payloadType, 101);
    assert.equal(q.sequenceNumber, 65535);
    assert.equal(q.timestamp, 0xffffff00);
    assert.equal(q.ssrc, 0xcafebabe);
    assert.deepEqual([...q.csrcs.subarray(0, q.csrcCount)], [7, 0xffffffff]);
    assert.deepEqual([...q.payload], [1, 2, 3, 4]);
  });

  it('refuses a buffer that is too small', () => {
    const p = new RtpPacket().setPayload(new Uint8Array(160));
    assert.throws(() => p.serializeInto(new Uint8Array(100)), RangeError);
  });
});

describe('RtpPacket fuzz', () => {
  it('never throws on random bytes, and whatever parses re-serializes to the same fields', () => {
    const rand = prng(0x5eed);
    const p = new RtpPacket();
    const out = new Uint8Array(2048);
    let parsed = 0;
    for (let iter = 0; iter < 20000; iter++) {
      const len = Math.floor(rand() * 80);
      const data = new Uint8Array(len);
      for (let i = 0; i < len; i++) data[i] = Math.floor(rand() * 256);
      // Half the cases get a valid version so the deeper checks are exercised too.
      if (len > 0 && rand() < 0.5) data[0] = ((data[0] as number) & 0x3f) | 0x80;
      const error = p.parse(data);
      if (error !== null) continue;
      parsed++;
      assert.ok(p.payloadOffset + p.payloadLength <= len);
      const fields = [p.marker, p.payloadType, p.sequenceNumber, p.timestamp, p.ssrc, p.csrcCount, ...p.csrcs.subarray(0, p.csrcCount)];
      const payload = [...p.payload];
      const n = p.serializeInto(out);
      const q = parseRtpPacket(out.subarray(0, n));
      assert.deepEqual([q.marker, q.payloadType, q.sequenceNumber, q.timestamp, q.ssrc, q.csrcCount, ...q.csrcs.subarray(0, q.csrcCount)], fields);
      assert.deepEqual([...q.payload], payload);
    }
    assert.ok(parsed > 1000, `only ${parsed} random packets parsed`);
  });
});
