import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PCMA, PCMU, g711Codec } from '../../src/media/dsp/g711.js';

describe('G.711 µ-law (PCMU)', () => {
  it('matches ITU-T G.711 reference values', () => {
    assert.equal(PCMU.payloadType, 0);
    assert.equal(PCMU.encodeSample(0), 0xff);
    assert.equal(PCMU.silenceCode, 0xff);
    assert.equal(PCMU.decodeSample(0xff), 0);
    assert.equal(PCMU.decodeSample(0x7f), 0); // negative zero
    assert.equal(PCMU.decodeSample(0x80), 32124);
    assert.equal(PCMU.decodeSample(0x00), -32124);
    assert.equal(PCMU.decodeSample(0xfe), 8);
    assert.equal(PCMU.decodeSample(0xef), 132); // first step of segment 1
    assert.equal(PCMU.encodeSample(32767), 0x80);
    assert.equal(PCMU.encodeSample(-32768), 0x00);
    assert.equal(PCMU.encodeSample(1000), 0xce);
    assert.equal(PCMU.encodeSample(-1000), 0x4e);
  });

  it('re-encodes every decoded code to itself (except negative zero)', () => {
    for (let code = 0; code < 256; code++) {
      const again = PCMU.encodeSample(PCMU.decodeSample(code));
      assert.equal(again, code === 0x7f ? 0xff : code, `code ${code}`);
    }
  });

  it('keeps round-trip error within half a quantisation step', () => {
    for (let x = -32768; x <= 32767; x++) {
      const err = Math.abs(PCMU.decodeSample(PCMU.encodeSample(x)) - x);
      const ax = Math.abs(x);
      if (ax > 32124) assert.ok(err <= ax - 32124 + 1, `clip ${x}`);
      else if (ax >= 256) assert.ok(err / ax <= 0.051, `x=${x} err=${err}`);
      else assert.ok(err <= 11, `x=${x} err=${err}`);
    }
  });
});

describe('G.711 A-law (PCMA)', () => {
  it('matches ITU-T G.711 reference values', () => {
    assert.equal(PCMA.payloadType, 8);
    assert.equal(PCMA.encodeSample(0), 0xd5);
    assert.equal(PCMA.silenceCode, 0xd5);
    assert.equal(PCMA.encodeSample(-1), 0x55);
    assert.equal(PCMA.decodeSample(0xd5), 8);
    assert.equal(PCMA.decodeSample(0x55), -8);
    assert.equal(PCMA.decodeSample(0xaa), 32256);
    assert.equal(PCMA.decodeSample(0x2a), -32256);
    assert.equal(PCMA.encodeSample(32767), 0xaa);
    assert.equal(PCMA.encodeSample(-32768), 0x2a);
    assert.equal(PCMA.encodeSample(1000), 0xfa);
    assert.equal(PCMA.encodeSample(-1000), 0x7a);
  });

  it('re-encodes every decoded code to itself', () => {
    for (let code = 0; code < 256; code++) assert.equal(PCMA.encodeSample(PCMA.decodeSample(code)), code);
  });

  it('keeps round-trip error within half a quantisation step', () => {
    for (let x = -32768; x <= 32767; x++) {
      const err = Math.abs(PCMA.decodeSample(PCMA.encodeSample(x)) - x);
      const ax = Math.abs(x);
      if (ax > 32256) assert.ok(err <= ax - 32256 + 1, `clip ${x}`);
      else if (ax >= 256) assert.ok(err / ax <= 1 / 32, `x=${x} err=${err}`);
      else assert.ok(err <= 8, `x=${x} err=${err}`);
    }
  });
});

describe('G.711 frame codecs', () => {
  it('encodeInto/decodeInto agree with the per-sample functions and respect offsets', () => {
    for (const codec of [PCMU, PCMA]) {
      const pcm = new Int16Array(160);
      for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(10000 * Math.sin((2 * Math.PI * 440 * i) / 8000));
      const bytes = new Uint8Array(170);
      assert.equal(codec.encodeInto(pcm, bytes, 10), 160);
      for (let i = 0; i < 160; i++) assert.equal(bytes[10 + i], codec.encodeSample(pcm[i] as number));
      const out = new Int16Array(160);
      assert.equal(codec.decodeInto(bytes, out, 10, 160), 160);
      for (let i = 0; i < 160; i++) assert.equal(out[i], codec.decodeSample(bytes[10 + i] as number));
      // Never writes past the output.
      assert.equal(codec.decodeInto(bytes, new Int16Array(5)), 5);
      assert.equal(codec.encodeInto(pcm, new Uint8Array(3)), 3);
    }
  });

  it('carries a tone with better than 35 dB SNR', () => {
    for (const codec of [PCMU, PCMA]) {
      const pcm = new Int16Array(8000);
      for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(10000 * Math.sin((2 * Math.PI * 1004 * i) / 8000));
      const bytes = new Uint8Array(pcm.length);
      const back = new Int16Array(pcm.length);
      codec.encodeInto(pcm, bytes);
      codec.decodeInto(bytes, back);
      let signal = 0;
      let noise = 0;
      for (let i = 0; i < pcm.length; i++) {
        signal += (pcm[i] as number) ** 2;
        noise += ((pcm[i] as number) - (back[i] as number)) ** 2;
      }
      assert.ok(10 * Math.log10(signal / noise) > 35, codec.name);
    }
  });

  it('looks codecs up by SDP name', () => {
    assert.equal(g711Codec('PCMU'), PCMU);
    assert.equal(g711Codec('PCMA'), PCMA);
  });
});
