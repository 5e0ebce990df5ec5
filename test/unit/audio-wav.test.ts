import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PCMA, PCMU } from '../../src/media/dsp/g711.js';
import { AudioDecodeError } from '../../src/media/audio/errors.js';
import { encodeWav, isWav, parseWav, parseWavAsync } from '../../src/media/audio/wav.js';

// --- helpers ---------------------------------------------------------------------------------

function chunk(id: string, body: Uint8Array, declaredSize = body.length): Uint8Array {
  const padded = body.length + (body.length & 1);
  const out = new Uint8Array(8 + padded);
  for (let i = 0; i < 4; i++) out[i] = id.charCodeAt(i);
  new DataView(out.buffer).setUint32(4, declaredSize >>> 0, true);
  out.set(body, 8);
  return out;
}

function riff(...chunks: Uint8Array[]): Uint8Array {
  const size = chunks.reduce((n, c) => n + c.length, 4);
  const out = new Uint8Array(8 + size);
  out.set([0x52, 0x49, 0x46, 0x46], 0); // RIFF
  new DataView(out.buffer).setUint32(4, size, true);
  out.set([0x57, 0x41, 0x56, 0x45], 8); // WAVE
  let p = 12;
  for (const c of chunks) {
    out.set(c, p);
    p += c.length;
  }
  return out;
}

function fmt(tag: number, channels: number, rate: number, bits: number): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  const align = channels * Math.ceil(bits / 8);
  v.setUint16(0, tag, true);
  v.setUint16(2, channels, true);
  v.setUint32(4, rate, true);
  v.setUint32(8, rate * align, true);
  v.setUint16(12, align, true);
  v.setUint16(14, bits, true);
  return b;
}

function fmtExtensible(subTag: number, channels: number, rate: number, bits: number, validBits = bits): Uint8Array {
  const b = new Uint8Array(40);
  b.set(fmt(0xfffe, channels, rate, bits), 0);
  const v = new DataView(b.buffer);
  v.setUint16(16, 22, true);
  v.setUint16(18, validBits, true);
  v.setUint32(20, channels === 1 ? 4 : 3, true);
  v.setUint16(24, subTag, true);
  b.set([0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71], 26);
  return b;
}

function int16Bytes(values: number[]): Uint8Array {
  const b = new Uint8Array(values.length * 2);
  const v = new DataView(b.buffer);
  values.forEach((x, i) => v.setInt16(i * 2, x, true));
  return b;
}

function assertDecodeError(fn: () => unknown, reason?: AudioDecodeError['reason']): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof AudioDecodeError, `expected AudioDecodeError, got ${String(err)}`);
    if (reason !== undefined) assert.equal(err.reason, reason, err.message);
    return true;
  });
}

/** Amplitude of the `freq` component (full scale 1.0) over the middle 80% of `x`. */
function toneAmplitude(x: ArrayLike<number>, freq: number, rate: number): number {
  const start = Math.floor(x.length * 0.1);
  const end = Math.floor(x.length * 0.9);
  let re = 0;
  let im = 0;
  const w = (2 * Math.PI * freq) / rate;
  for (let i = start; i < end; i++) {
    re += (x[i] as number) * Math.cos(w * i);
    im += (x[i] as number) * Math.sin(w * i);
  }
  return (2 * Math.hypot(re, im)) / (end - start);
}

// --- hand-built files ------------------------------------------------------------------------

describe('parseWav: structure', () => {
  it('reads 16-bit mono PCM exactly', () => {
    const values = [0, 1, -1, 32767, -32768, 1234];
    const wav = riff(chunk('fmt ', fmt(1, 1, 8000, 16)), chunk('data', int16Bytes(values)));
    const decoded = parseWav(wav);
    assert.equal(decoded.sampleRate, 8000);
    assert.equal(decoded.channels, 1);
    assert.deepEqual(Array.from(decoded.samples[0] as Float32Array, (v) => v * 32768), values);
  });

  it('de-interleaves channels', () => {
    const wav = riff(chunk('fmt ', fmt(1, 2, 16000, 16)), chunk('data', int16Bytes([100, -100, 200, -200, 300, -300])));
    const { channels, samples } = parseWav(wav);
    assert.equal(channels, 2);
    assert.deepEqual(Array.from(samples[0] as Float32Array, (v) => v * 32768), [100, 200, 300]);
    assert.deepEqual(Array.from(samples[1] as Float32Array, (v) => v * 32768), [-100, -200, -300]);
  });

  it('skips unknown chunks, including odd-sized ones followed by a pad byte', () => {
    const odd = chunk('LIST', new Uint8Array([1, 2, 3, 4, 5])); // 5 bytes + 1 pad
    const junk = chunk('junk', new Uint8Array(7).fill(0xff));
    const wav = riff(odd, chunk('fmt ', fmt(1, 1, 8000, 16)), junk, chunk('data', int16Bytes([7, 8, 9])));
    assert.deepEqual(Array.from(parseWav(wav).samples[0] as Float32Array, (v) => v * 32768), [7, 8, 9]);
  });

  it('honours the pad byte after an odd-sized 8-bit data chunk followed by metadata', () => {
    const data = chunk('data', new Uint8Array([128, 255, 0]));
    const wav = riff(data, chunk('fmt ', fmt(1, 1, 8000, 8)), chunk('LIST', new Uint8Array(4)));
    const s = parseWav(wav).samples[0] as Float32Array;
    assert.deepEqual(Array.from(s), [0, 127 / 128, -1]);
  });

  it('accepts fmt after data', () => {
    const wav = riff(chunk('data', int16Bytes([5, 6])), chunk('fmt ', fmt(1, 1, 8000, 16)));
    assert.equal(parseWav(wav).samples[0]?.length, 2);
  });

  it('uses what is there when the data chunk is truncated (and drops a partial frame)', () => {
    const full = riff(chunk('fmt ', fmt(1, 2, 8000, 16)), chunk('data', int16Bytes(Array.from({ length: 200 }, (_, i) => i))));
    const cut = full.subarray(0, full.length - 103); // mid-frame
    const decoded = parseWav(cut);
    const frames = Math.floor((200 * 2 - 103) / 4);
    assert.equal(decoded.samples[0]?.length, frames);
    assert.equal(decoded.samples[1]?.length, frames);
    assert.equal(Math.round((decoded.samples[1] as Float32Array)[frames - 1]! * 32768), frames * 2 - 1);
  });

  it('reads to the end when the data size is the "unknown" marker (streaming writers)', () => {
    const wav = riff(chunk('fmt ', fmt(1, 1, 8000, 16)), chunk('data', int16Bytes([1, 2, 3, 4]), 0xffffffff));
    assert.equal(parseWav(wav).samples[0]?.length, 4);
  });

  it('reads to the end when a streaming writer left the data size at 0', () => {
    const wav = riff(chunk('fmt ', fmt(1, 1, 8000, 16)), chunk('data', int16Bytes([-1, -2, -3]), 0));
    assert.equal(parseWav(wav).samples[0]?.length, 3);
    // A genuinely empty data chunk followed by metadata stays empty.
    const empty = riff(chunk('fmt ', fmt(1, 1, 8000, 16)), chunk('data', new Uint8Array(0)), chunk('LIST', new Uint8Array(8)));
    assert.throws(() => parseWav(empty), AudioDecodeError);
  });

  it('ignores a RIFF size that disagrees with the file', () => {
    const wav = riff(chunk('fmt ', fmt(1, 1, 8000, 16)), chunk('data', int16Bytes([1, 2, 3])));
    new DataView(wav.buffer).setUint32(4, 12, true);
    assert.equal(parseWav(wav).samples[0]?.length, 3);
  });

  it('reads WAVE_FORMAT_EXTENSIBLE PCM and float', () => {
    const pcm = riff(chunk('fmt ', fmtExtensible(1, 1, 8000, 16)), chunk('data', int16Bytes([16384])));
    assert.equal(parseWav(pcm).samples[0]?.[0], 0.5);
    const floatBody = new Uint8Array(8);
    new DataView(floatBody.buffer).setFloat32(0, -0.25, true);
    new DataView(floatBody.buffer).setFloat32(4, Number.NaN, true);
    const flt = riff(chunk('fmt ', fmtExtensible(3, 1, 48000, 32)), chunk('data', floatBody));
    assert.deepEqual(Array.from(parseWav(flt).samples[0] as Float32Array), [-0.25, 0]); // NaN → silence
  });

  it('decodes G.711 with the engine tables', () => {
    const codes = [0x00, 0x7f, 0x80, 0xff, 0x55, 0xd5];
    for (const [tag, codec] of [[7, PCMU], [6, PCMA]] as const) {
      const wav = riff(chunk('fmt ', fmt(tag, 1, 8000, 8)), chunk('data', new Uint8Array(codes)));
      const got = Array.from(parseWav(wav).samples[0] as Float32Array, (v) => v * 32768);
      assert.deepEqual(got, codes.map((c) => codec.decodeSample(c)));
    }
  });

  it('reads 24-bit and 32-bit integer extremes', () => {
    const b24 = new Uint8Array([0xff, 0xff, 0x7f, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00]);
    const s24 = parseWav(riff(chunk('fmt ', fmt(1, 1, 8000, 24)), chunk('data', b24))).samples[0] as Float32Array;
    assert.ok(Math.abs((s24[0] as number) - 1) < 1e-6);
    assert.equal(s24[1], -1);
    assert.equal(s24[2], 0);
    const b32 = new Uint8Array(8);
    new DataView(b32.buffer).setInt32(0, -2147483648, true);
    new DataView(b32.buffer).setInt32(4, 1 << 30, true);
    const s32 = parseWav(riff(chunk('fmt ', fmt(1, 1, 8000, 32)), chunk('data', b32))).samples[0] as Float32Array;
    assert.deepEqual(Array.from(s32), [-1, 0.5]);
  });

  it('reads 64-bit float', () => {
    const body = new Uint8Array(16);
    new DataView(body.buffer).setFloat64(0, 0.125, true);
    new DataView(body.buffer).setFloat64(8, Number.POSITIVE_INFINITY, true);
    const s = parseWav(riff(chunk('fmt ', fmt(3, 1, 8000, 64)), chunk('data', body))).samples[0] as Float32Array;
    assert.deepEqual(Array.from(s), [0.125, 0]);
  });
});

describe('parseWav: rejects what it cannot play', () => {
  const good = riff(chunk('fmt ', fmt(1, 1, 8000, 16)), chunk('data', int16Bytes([1, 2, 3])));

  it('empty input and empty data are "empty"', () => {
    assertDecodeError(() => parseWav(new Uint8Array(0)), 'empty');
    assertDecodeError(() => parseWav(riff(chunk('fmt ', fmt(1, 1, 8000, 16)), chunk('data', new Uint8Array(0)))), 'empty');
    // One byte of a two-byte sample is not a sample.
    assertDecodeError(() => parseWav(riff(chunk('fmt ', fmt(1, 1, 8000, 16)), chunk('data', new Uint8Array(1)))), 'empty');
  });

  it('non-RIFF, non-WAVE and headerless files are "corrupt"', () => {
    assertDecodeError(() => parseWav(new TextEncoder().encode('<html>not audio</html>')), 'corrupt');
    const avi = good.slice();
    avi.set([0x41, 0x56, 0x49, 0x20], 8);
    assertDecodeError(() => parseWav(avi), 'corrupt');
    assertDecodeError(() => parseWav(good.subarray(0, 11)), 'corrupt');
    assertDecodeError(() => parseWav(riff(chunk('data', int16Bytes([1])))), 'corrupt'); // no fmt
    assertDecodeError(() => parseWav(riff(chunk('fmt ', fmt(1, 1, 8000, 16)))), 'corrupt'); // no data
    assertDecodeError(() => parseWav(riff(chunk('fmt ', new Uint8Array(10)), chunk('data', int16Bytes([1])))), 'corrupt');
    assertDecodeError(() => parseWav(riff(chunk('fmt ', fmt(1, 0, 8000, 16)), chunk('data', int16Bytes([1])))), 'corrupt');
    assertDecodeError(() => parseWav(riff(chunk('fmt ', fmt(1, 1, 0, 16)), chunk('data', int16Bytes([1])))), 'corrupt');
  });

  it('formats we do not decode are "unsupported"', () => {
    assertDecodeError(() => parseWav(riff(chunk('fmt ', fmt(0x11, 1, 8000, 4)), chunk('data', new Uint8Array(64)))), 'unsupported'); // IMA ADPCM
    assertDecodeError(() => parseWav(riff(chunk('fmt ', fmt(0x55, 1, 8000, 0)), chunk('data', new Uint8Array(64)))), 'unsupported'); // MP3-in-WAV
    assertDecodeError(() => parseWav(riff(chunk('fmt ', fmt(3, 1, 8000, 16)), chunk('data', new Uint8Array(64)))), 'unsupported');
    const rifx = good.slice();
    rifx.set([0x52, 0x49, 0x46, 0x58], 0);
    assertDecodeError(() => parseWav(rifx), 'unsupported');
    const ext = fmtExtensible(1, 1, 8000, 16);
    ext[30] = 0x42; // not the standard GUID tail
    assertDecodeError(() => parseWav(riff(chunk('fmt ', ext), chunk('data', int16Bytes([1])))), 'unsupported');
  });

  it('every prefix of a valid file either parses or fails with AudioDecodeError', () => {
    const wav = riff(chunk('LIST', new Uint8Array(3)), chunk('fmt ', fmtExtensible(1, 2, 8000, 24)), chunk('data', new Uint8Array(60)));
    for (let n = 0; n <= wav.length; n++) {
      try {
        parseWav(wav.subarray(0, n));
      } catch (err) {
        assert.ok(err instanceof AudioDecodeError, `prefix ${n}: ${String(err)}`);
      }
    }
  });

  it('seeded random bytes (with and without a RIFF header) only ever raise AudioDecodeError', () => {
    let seed = 0x2545f491;
    const random = (): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 2 ** 32;
    };
    let parsed = 0;
    for (let round = 0; round < 3000; round++) {
      const bytes = new Uint8Array(Math.floor(random() * 200));
      for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
      if (round % 2 === 0) bytes.set(good.subarray(0, Math.min(bytes.length, 12 + Math.floor(random() * 24))));
      if (round % 3 === 0) {
        // Mutate a valid file instead: flip a handful of bytes.
        const mutated = good.slice();
        for (let k = 0; k < 3; k++) mutated[Math.floor(random() * mutated.length)] = Math.floor(random() * 256);
        bytes.set(mutated.subarray(0, bytes.length));
      }
      try {
        parseWav(bytes);
        parsed++;
      } catch (err) {
        assert.ok(err instanceof AudioDecodeError, `round ${round}: ${String(err)}`);
      }
    }
    assert.ok(parsed > 0, 'some mutated files should still parse');
  });
});

describe('parseWavAsync', () => {
  it('matches parseWav across slice boundaries on a long multi-channel file', async () => {
    const frames = 700_003; // 2.1 M samples over three channels: several slices
    const interleaved = new Int16Array(frames * 3);
    for (let i = 0; i < interleaved.length; i++) interleaved[i] = ((i * 2654435761) >>> 16) - 32768;
    const wav = encodeWav(interleaved, 48000, 3);
    const sync = parseWav(wav);
    const cooperative = await parseWavAsync(wav);
    assert.deepEqual(cooperative, sync);
    for (const i of [0, 349_525, 349_526, 699_050, 699_051, frames - 1]) {
      for (let c = 0; c < 3; c++) assert.equal((sync.samples[c] as Float32Array)[i]! * 32768, interleaved[i * 3 + c], `frame ${i} channel ${c}`);
    }
  });
});

describe('encodeWav', () => {
  it('round-trips through parseWav bit-exactly', () => {
    const pcm = Int16Array.from({ length: 1001 }, (_, i) => ((i * 7919) % 65536) - 32768);
    const wav = encodeWav(pcm);
    assert.equal(wav.length, 44 + pcm.length * 2);
    assert.ok(isWav(wav));
    const back = parseWav(wav);
    assert.equal(back.sampleRate, 8000);
    assert.deepEqual(Int16Array.from(back.samples[0] as Float32Array, (v) => v * 32768), pcm);
  });

  it('writes interleaved multi-channel audio at other rates', () => {
    const wav = encodeWav(Int16Array.from([1, -1, 2, -2]), 16000, 2);
    const back = parseWav(wav);
    assert.equal(back.sampleRate, 16000);
    assert.equal(back.channels, 2);
    assert.deepEqual(Array.from(back.samples[1] as Float32Array, (v) => v * 32768), [-1, -2]);
    assert.throws(() => encodeWav(Int16Array.from([1, 2, 3]), 8000, 2), RangeError);
  });

  it('is a file sox can read', { skip: !hasTool('sox') && 'sox not installed' }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'audio-wav-'));
    try {
      const file = join(dir, 'out.wav');
      writeFileSync(file, encodeWav(new Int16Array(800)));
      const info = execFileSync('sox', ['--i', file], { encoding: 'utf8' });
      assert.match(info, /Sample Rate\s*:\s*8000/);
      assert.match(info, /Duration\s*:\s*00:00:00\.10 = 800 samples/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// --- files written by sox --------------------------------------------------------------------

function hasTool(name: string): boolean {
  return spawnSync(name, ['--version'], { stdio: 'ignore' }).status === 0;
}

describe('parseWav: files written by sox', { skip: !hasTool('sox') && 'sox not installed' }, () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'audio-wav-sox-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const cases: Array<{ name: string; args: string[]; rate: number; channels: number; tolerance: number }> = [
    { name: 'u8', args: ['-b', '8', '-e', 'unsigned-integer'], rate: 11025, channels: 1, tolerance: 0.01 },
    { name: 's16', args: ['-b', '16'], rate: 44100, channels: 2, tolerance: 0.001 },
    { name: 's24', args: ['-b', '24'], rate: 48000, channels: 1, tolerance: 0.001 },
    { name: 's32', args: ['-b', '32'], rate: 22050, channels: 2, tolerance: 0.001 },
    { name: 'f32', args: ['-b', '32', '-e', 'floating-point'], rate: 16000, channels: 1, tolerance: 0.001 },
    { name: 'f64', args: ['-b', '64', '-e', 'floating-point'], rate: 32000, channels: 3, tolerance: 0.001 },
    { name: 'ulaw', args: ['-e', 'u-law'], rate: 8000, channels: 1, tolerance: 0.01 },
    { name: 'alaw', args: ['-e', 'a-law'], rate: 8000, channels: 2, tolerance: 0.01 },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.rate} Hz × ${c.channels}`, () => {
      const file = join(dir, `${c.name}.wav`);
      execFileSync('sox', ['-n', '-r', String(c.rate), '-c', String(c.channels), ...c.args, file, 'synth', '0.25', 'sine', '1000', 'vol', '0.5']);
      const decoded = parseWav(readFileSync(file));
      assert.equal(decoded.sampleRate, c.rate);
      assert.equal(decoded.channels, c.channels);
      assert.equal(decoded.samples.length, c.channels);
      for (const channel of decoded.samples) {
        assert.ok(Math.abs(channel.length - c.rate / 4) <= 1, `${channel.length} samples`);
        const amplitude = toneAmplitude(channel, 1000, c.rate);
        assert.ok(Math.abs(amplitude - 0.5) < c.tolerance * 5, `${c.name} amplitude ${amplitude}`);
      }
    });
  }
});
