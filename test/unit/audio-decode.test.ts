import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeAudio, decodeToPcm, durationMs, frameCount, sniffContainer } from '../../src/media/audio/decode.js';
import { AudioDecodeError } from '../../src/media/audio/errors.js';
import { decodeMp3 } from '../../src/media/audio/mp3.js';
import { looksLikeMpegAudio, readFrameHeader, scanFrames } from '../../src/media/audio/mpeg-frames.js';
import { encodeWav } from '../../src/media/audio/wav.js';

function hasTool(name: string): boolean {
  return spawnSync(name, ['--version'], { stdio: 'ignore' }).status === 0;
}
const haveSox = hasTool('sox');
const haveLame = haveSox && hasTool('lame');

/** Amplitude of the `freq` component (full scale 1.0) over the middle 80% of engine audio. */
function toneAmplitude(x: Int16Array, freq: number, rate = 8000): number {
  const start = Math.floor(x.length * 0.1);
  const end = Math.floor(x.length * 0.9);
  const w = (2 * Math.PI * freq) / rate;
  let re = 0;
  let im = 0;
  for (let i = start; i < end; i++) {
    re += (x[i] as number) * Math.cos(w * i);
    im += (x[i] as number) * Math.sin(w * i);
  }
  return (2 * Math.hypot(re, im)) / (end - start) / 32768;
}

/** RMS over the middle 80% as the amplitude of an equivalent sine. */
function sineEquivalent(x: Int16Array): number {
  const start = Math.floor(x.length * 0.1);
  const end = Math.floor(x.length * 0.9);
  let sum = 0;
  for (let i = start; i < end; i++) sum += ((x[i] as number) / 32768) ** 2;
  return Math.sqrt((2 * sum) / (end - start));
}

/** Frequency from the rate of upward zero crossings over the middle 80%. */
function zeroCrossingHz(x: Int16Array, rate = 8000): number {
  const start = Math.floor(x.length * 0.1);
  const end = Math.floor(x.length * 0.9);
  let first = -1;
  let last = -1;
  let crossings = 0;
  for (let i = start + 1; i < end; i++) {
    if ((x[i - 1] as number) < 0 && (x[i] as number) >= 0) {
      if (first < 0) first = i;
      else crossings++;
      last = i;
    }
  }
  return (crossings * rate) / (last - first);
}

const dB = (ratio: number): number => 20 * Math.log10(ratio);

async function assertRejectsDecode(promise: Promise<unknown>, reason?: AudioDecodeError['reason']): Promise<AudioDecodeError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof AudioDecodeError, `expected AudioDecodeError, got ${String(err)}`);
    if (reason !== undefined) assert.equal(err.reason, reason, err.message);
    return err;
  }
  assert.fail('expected an AudioDecodeError');
}

function seeded(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

let dir = '';
const fixtures = new Map<string, Uint8Array>();
function fixture(name: string): Uint8Array {
  const bytes = fixtures.get(name);
  assert.ok(bytes !== undefined, `fixture ${name} was not generated`);
  return bytes;
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'audio-decode-'));
  if (!haveSox) return;
  const sox = (name: string, args: string[], effects: string[]): void => {
    const file = join(dir, name);
    execFileSync('sox', ['-n', ...args, file, ...effects]);
    fixtures.set(name, new Uint8Array(readFileSync(file))); // a copy: Buffer#slice would alias
  };
  const lame = (from: string, name: string, args: string[]): void => {
    const file = join(dir, name);
    execFileSync('lame', ['--silent', ...args, join(dir, from), file]);
    fixtures.set(name, new Uint8Array(readFileSync(file))); // a copy: Buffer#slice would alias
  };
  sox('stereo-44k.wav', ['-r', '44100', '-c', '2', '-b', '16'], ['synth', '1', 'sine', '1000', 'sine', '2000', 'vol', '0.5']);
  sox('ulaw.wav', ['-r', '8000', '-c', '1', '-e', 'u-law'], ['synth', '1', 'sine', '1000', 'vol', '0.5']);
  sox('alaw.wav', ['-r', '8000', '-c', '1', '-e', 'a-law'], ['synth', '1', 'sine', '1000', 'vol', '0.5']);
  sox('f32-48k.wav', ['-r', '48000', '-c', '1', '-b', '32', '-e', 'floating-point'], ['synth', '1', 'sine', '3000', 'vol', '0.5']);
  sox('u8-22k.wav', ['-r', '22050', '-c', '1', '-b', '8'], ['synth', '1', 'sine', '1000', 'vol', '0.5']);
  sox('s24-16k.wav', ['-r', '16000', '-c', '2', '-b', '24'], ['synth', '1', 'sine', '1000', 'vol', '0.5']);
  if (!haveLame) return;
  sox('src-stereo-44k.wav', ['-r', '44100', '-c', '2', '-b', '16'], ['synth', '3', 'sine', '1000', 'vol', '0.5']);
  sox('src-mono-44k.wav', ['-r', '44100', '-c', '1', '-b', '16'], ['synth', '1', 'sine', '440', 'vol', '0.5']);
  sox('src-mono-8k.wav', ['-r', '8000', '-c', '1', '-b', '16'], ['synth', '2', 'sine', '1000', 'vol', '0.5']);
  sox('src-mono-16k.wav', ['-r', '16000', '-c', '1', '-b', '16'], ['synth', '2', 'sine', '1500', 'vol', '0.5']);
  lame('src-stereo-44k.wav', 'stereo-128k.mp3', ['-b', '128']);
  lame('src-mono-44k.wav', 'mono-64k.mp3', ['-b', '64']);
  lame('src-mono-44k.wav', 'tagged.mp3', ['-b', '64', '--add-id3v2', '--tt', 'Prompt', '--ta', 'Switchboard']);
  lame('src-mono-8k.wav', 'mono-8k.mp3', ['-b', '16']);
  lame('src-mono-16k.wav', 'mono-16k.mp3', ['-b', '32']);
});

after(() => rmSync(dir, { recursive: true, force: true }));

describe('decodeAudio: WAV', { skip: !haveSox && 'sox not installed' }, () => {
  it('44.1 kHz stereo: downmixed, resampled, both tones at half level', async () => {
    const out = await decodeAudio(fixture('stereo-44k.wav'));
    assert.ok(Math.abs(out.length - 8000) <= 160, `${out.length} samples`);
    // Left 1 kHz, right 2 kHz, each 0.5: the mono mix carries each at 0.25.
    assert.ok(Math.abs(dB(toneAmplitude(out, 1000) / 0.25)) < 0.2);
    assert.ok(Math.abs(dB(toneAmplitude(out, 2000) / 0.25)) < 0.2);
  });

  for (const name of ['ulaw.wav', 'alaw.wav', 'u8-22k.wav', 's24-16k.wav']) {
    it(`${name}: 1 s of 1 kHz at −6 dBFS`, async () => {
      const out = await decodeAudio(fixture(name));
      assert.ok(Math.abs(out.length - 8000) <= 160, `${out.length} samples`);
      assert.ok(Math.abs(zeroCrossingHz(out) - 1000) < 2, `${zeroCrossingHz(out)} Hz`);
      assert.ok(Math.abs(dB(toneAmplitude(out, 1000) / 0.5)) < 0.5);
    });
  }

  it('48 kHz float: a 3 kHz tone survives at level', async () => {
    const out = await decodeAudio(fixture('f32-48k.wav'));
    assert.equal(out.length, 8000);
    assert.ok(Math.abs(dB(toneAmplitude(out, 3000) / 0.5)) < 0.1);
  });

  it('the content decides, not the hint', async () => {
    const out = await decodeAudio(fixture('ulaw.wav'), 'mp3');
    assert.equal(out.length, 8000);
    assert.equal(sniffContainer(fixture('ulaw.wav'), 'mp3'), 'wav');
  });
});

describe('decodeAudio: MP3', { skip: !haveLame && 'sox/lame not installed' }, () => {
  it('3 s 44.1 kHz stereo at 128 kbit/s: duration within 50 ms, 1 kHz at level', async () => {
    const bytes = fixture('stereo-128k.mp3');
    assert.equal(sniffContainer(bytes), 'mp3');
    const pcm = await decodeToPcm(bytes);
    assert.equal(pcm.sampleRate, 44100);
    assert.equal(pcm.channels, 2);
    const out = await decodeAudio(bytes);
    assert.ok(Math.abs(durationMs(out) - 3000) <= 50, `${durationMs(out)} ms`);
    assert.ok(Math.abs(zeroCrossingHz(out) - 1000) < 2);
    assert.ok(Math.abs(dB(toneAmplitude(out, 1000) / 0.5)) < 0.5);
    assert.ok(Math.abs(dB(sineEquivalent(out) / 0.5)) < 0.5, 'nothing but the tone');
  });

  it('mono stays mono and keeps its 440 Hz', async () => {
    const pcm = await decodeToPcm(fixture('mono-64k.mp3'));
    assert.equal(pcm.channels, 1);
    assert.equal(pcm.samples.length, 1);
    const out = await decodeAudio(fixture('mono-64k.mp3'));
    assert.ok(Math.abs(durationMs(out) - 1000) <= 50, `${durationMs(out)} ms`);
    assert.ok(Math.abs(zeroCrossingHz(out) - 440) < 2);
    assert.ok(Math.abs(dB(toneAmplitude(out, 440) / 0.5)) < 0.5);
  });

  it('skips an ID3v2 tag', async () => {
    const bytes = fixture('tagged.mp3');
    assert.equal(String.fromCharCode(...bytes.subarray(0, 3)), 'ID3');
    const out = await decodeAudio(bytes);
    assert.ok(Math.abs(durationMs(out) - 1000) <= 50);
  });

  for (const [name, rate, freq] of [['mono-8k.mp3', 8000, 1000], ['mono-16k.mp3', 16000, 1500]] as const) {
    it(`${name}: MPEG-2/2.5 at ${rate} Hz`, async () => {
      const pcm = await decodeToPcm(fixture(name));
      assert.equal(pcm.sampleRate, rate);
      const out = await decodeAudio(fixture(name));
      // Frames this small have no room for LAME's gapless tag, so the encoder delay stays in.
      assert.ok(durationMs(out) >= 1950 && durationMs(out) <= 2250, `${durationMs(out)} ms`);
      assert.ok(Math.abs(zeroCrossingHz(out) - freq) < 3);
      assert.ok(Math.abs(dB(toneAmplitude(out, freq) / 0.5)) < 1);
    });
  }

  it('junk before the first frame needs the hint, then decodes', async () => {
    const mp3 = fixture('mono-64k.mp3');
    const junk = new Uint8Array(777 + mp3.length);
    const random = seeded(7);
    for (let i = 0; i < 777; i++) junk[i] = Math.floor(random() * 256) & 0xfe; // no 0xff: no false syncs
    junk.set(mp3, 777);
    await assertRejectsDecode(decodeAudio(junk), 'corrupt');
    const out = await decodeAudio(junk, 'mp3');
    assert.ok(Math.abs(durationMs(out) - 1000) <= 50);
  });

  it('a truncated file plays what arrived', async () => {
    const mp3 = fixture('stereo-128k.mp3');
    const half = mp3.subarray(0, Math.floor(mp3.length / 2) + 137);
    const out = await decodeAudio(half);
    assert.ok(durationMs(out) > 1300 && durationMs(out) < 1700, `${durationMs(out)} ms`);
    assert.ok(Math.abs(zeroCrossingHz(out) - 1000) < 2);
    await assertRejectsDecode(decodeAudio(mp3.subarray(0, 3)), 'corrupt');
  });

  it('damaged frames in the middle are survived quietly', async () => {
    const mp3 = fixture('stereo-128k.mp3').slice();
    const random = seeded(99);
    const from = Math.floor(mp3.length * 0.4);
    for (let i = from; i < from + 3000; i++) mp3[i] = Math.floor(random() * 256);
    const original = console.error;
    let logged = 0;
    console.error = () => void logged++;
    try {
      const out = await decodeAudio(mp3);
      assert.ok(durationMs(out) > 2500 && durationMs(out) < 3100, `${durationMs(out)} ms`);
    } finally {
      console.error = original;
    }
    assert.equal(logged, 0, 'mpg123 complaints are not logged');
  });

  it('frame scanning finds every frame', () => {
    const scan = scanFrames(fixture('stereo-128k.mp3'));
    assert.ok(scan !== undefined);
    assert.equal(scan.first.sampleRate, 44100);
    assert.equal(scan.first.layer, 3);
    assert.equal(scan.runs.length, 1, JSON.stringify(scan.runs));
    // 3 s plus encoder delay and padding, plus the Info frame: 117–120 frames of 1152.
    assert.ok(scan.frames >= 116 && scan.frames <= 120, `${scan.frames} frames`);
    const header = readFrameHeader(fixture('stereo-128k.mp3'), scan.runs[0]![0]);
    assert.equal(header?.length, 417); // 144·128000/44100, unpadded
  });
});

describe('decodeAudio: not audio', () => {
  it('empty input is "empty"', async () => {
    await assertRejectsDecode(decodeAudio(new Uint8Array(0)), 'empty');
    await assertRejectsDecode(decodeAudio(new Uint8Array(0), 'mp3'), 'empty');
    await assertRejectsDecode(decodeMp3(new Uint8Array(0)), 'empty');
  });

  it('an HTML page is "corrupt" and says what it looked like', async () => {
    const html = new TextEncoder().encode('<!DOCTYPE html><html><body>Not Found</body></html>');
    const err = await assertRejectsDecode(decodeAudio(html), 'corrupt');
    assert.match(err.message, /starts with "<!DOCTYPE html><"/);
    await assertRejectsDecode(decodeAudio(html, 'wav'), 'corrupt');
    await assertRejectsDecode(decodeAudio(html, 'mp3'), 'corrupt');
  });

  it('recognised but unsupported containers say so', async () => {
    const ogg = new TextEncoder().encode('OggS\0\x02\0\0\0\0\0\0\0\0');
    const err = await assertRejectsDecode(decodeAudio(ogg), 'unsupported');
    assert.match(err.message, /Ogg/);
    const flac = new TextEncoder().encode('fLaC\0\0\0\x22');
    await assertRejectsDecode(decodeAudio(flac), 'unsupported');
  });

  it('a WAV with a header and no samples is "empty"', async () => {
    await assertRejectsDecode(decodeAudio(encodeWav(new Int16Array(0))), 'empty');
  });

  it('random bytes full of sync words are not mistaken for MP3', async () => {
    const random = seeded(1234);
    const bytes = new Uint8Array(20000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = random() < 0.05 ? 0xff : Math.floor(random() * 256);
    assert.equal(looksLikeMpegAudio(bytes), false);
    await assertRejectsDecode(decodeAudio(bytes, 'mp3'));
  });
});

describe('durationMs / frameCount', () => {
  it('measure engine audio', () => {
    assert.equal(durationMs(new Int16Array(8000)), 1000);
    assert.equal(durationMs(new Int16Array(80)), 10);
    assert.equal(frameCount(new Int16Array(161)), 2);
    assert.equal(frameCount(new Int16Array(0)), 0);
  });
});

describe('fuzz: decodeAudio only ever rejects with AudioDecodeError', () => {
  it('seeded random, mutated and truncated inputs', { timeout: 30_000 }, async () => {
    const random = seeded(0xc0ffee);
    const seeds: Uint8Array[] = [encodeWav(Int16Array.from({ length: 400 }, (_, i) => Math.round(8000 * Math.sin(i / 3))))];
    if (haveLame) seeds.push(fixture('mono-64k.mp3'), fixture('tagged.mp3'), fixture('mono-8k.mp3'));
    if (haveSox) seeds.push(fixture('ulaw.wav'), fixture('s24-16k.wav'));
    const hints = [undefined, 'wav', 'mp3'] as const;
    const outcomes = { decoded: 0, rejected: 0 };
    const started = Date.now();
    for (let round = 0; round < 400; round++) {
      let bytes: Uint8Array;
      const kind = round % 4;
      if (kind === 0) {
        bytes = new Uint8Array(Math.floor(random() * 4096));
        for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
        if (round % 8 === 0 && bytes.length > 10) bytes.set([0x49, 0x44, 0x33, 4, 0, 0, 0, 0, 0, Math.floor(random() * 128)]);
      } else {
        const source = seeds[Math.floor(random() * seeds.length)] as Uint8Array;
        bytes = source.slice(0, kind === 1 ? Math.floor(random() * source.length) : source.length);
        const flips = kind === 3 ? 200 : 5;
        for (let k = 0; k < flips && bytes.length > 0; k++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      }
      try {
        const out = await decodeAudio(bytes, hints[round % 3]);
        assert.ok(out instanceof Int16Array && out.length > 0);
        outcomes.decoded++;
      } catch (err) {
        assert.ok(err instanceof AudioDecodeError, `round ${round}: ${String(err)}`);
        outcomes.rejected++;
      }
    }
    assert.ok(outcomes.decoded > 50 && outcomes.rejected > 50, JSON.stringify(outcomes));
    assert.ok(Date.now() - started < 25_000);
  });
});
