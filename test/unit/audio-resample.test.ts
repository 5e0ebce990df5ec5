import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resample, resampledLength, toEngineFormat, toEngineFormatAsync } from '../../src/media/audio/resample.js';

function tone(freq: number, rate: number, seconds: number, amplitude = 0.5): Float32Array {
  const x = new Float32Array(Math.round(rate * seconds));
  const w = (2 * Math.PI * freq) / rate;
  for (let i = 0; i < x.length; i++) x[i] = amplitude * Math.sin(w * i);
  return x;
}

/** Amplitude of the `freq` component (full scale 1.0) over the middle 80% of `x`. */
function toneAmplitude(x: ArrayLike<number>, freq: number, rate: number, fullScale = 1): number {
  const start = Math.floor(x.length * 0.1);
  const end = Math.floor(x.length * 0.9);
  const w = (2 * Math.PI * freq) / rate;
  let re = 0;
  let im = 0;
  for (let i = start; i < end; i++) {
    re += (x[i] as number) * Math.cos(w * i);
    im += (x[i] as number) * Math.sin(w * i);
  }
  return (2 * Math.hypot(re, im)) / (end - start) / fullScale;
}

/** RMS over the middle 80%, as the amplitude of an equivalent sine. */
function sineEquivalent(x: ArrayLike<number>, fullScale = 1): number {
  const start = Math.floor(x.length * 0.1);
  const end = Math.floor(x.length * 0.9);
  let sum = 0;
  for (let i = start; i < end; i++) sum += ((x[i] as number) / fullScale) ** 2;
  return Math.sqrt((2 * sum) / (end - start));
}

const dB = (ratio: number): number => 20 * Math.log10(ratio);

describe('toEngineFormat', () => {
  for (const rate of [44100, 48000, 22050, 16000, 11025, 32000]) {
    it(`${rate} Hz: 3.4 kHz passes within 1 dB, 5 kHz is ≥ 40 dB down`, () => {
      const pass = toEngineFormat([tone(3400, rate, 0.5)], rate);
      assert.ok(Math.abs(pass.length - 4000) <= 1, `${pass.length} samples`);
      const passDb = dB(toneAmplitude(pass, 3400, 8000, 32768) / 0.5);
      assert.ok(Math.abs(passDb) < 1, `3.4 kHz at ${passDb.toFixed(2)} dB`);
      // All remaining energy at 3.4 kHz: nothing else was created.
      assert.ok(Math.abs(dB(sineEquivalent(pass, 32768) / 0.5)) < 1);

      // 5 kHz would alias to 3 kHz; measure everything that came out, wherever it landed.
      const stop = toEngineFormat([tone(5000, rate, 0.5)], rate);
      const stopDb = dB(Math.max(sineEquivalent(stop, 32768), 1e-9) / 0.5);
      assert.ok(stopDb <= -40, `5 kHz at ${stopDb.toFixed(1)} dB`);
    });
  }

  it('achieves much better than the floor at 44.1 kHz (regression guard on the filter design)', () => {
    const pass = toEngineFormat([tone(3400, 44100, 0.5)], 44100);
    assert.ok(Math.abs(dB(toneAmplitude(pass, 3400, 8000, 32768) / 0.5)) < 0.05);
    const stop = toEngineFormat([tone(5000, 44100, 0.5)], 44100);
    assert.ok(dB(Math.max(sineEquivalent(stop, 32768), 1e-9) / 0.5) < -60);
    const edge = toEngineFormat([tone(4400, 44100, 0.5)], 44100);
    assert.ok(dB(Math.max(sineEquivalent(edge, 32768), 1e-9) / 0.5) < -60, '4.4 kHz would fold onto 3.6 kHz');
  });

  it('is bit-exact for audio already in engine format', () => {
    const pcm = Int16Array.from({ length: 999 }, (_, i) => ((i * 104729) % 65536) - 32768);
    const floats = Float32Array.from(pcm, (v) => v / 32768);
    assert.deepEqual(toEngineFormat([floats], 8000), pcm);
  });

  it('averages channels', () => {
    const left = tone(1000, 16000, 0.25, 0.8);
    const right = new Float32Array(left.length); // silent
    const mixed = toEngineFormat([left, right], 16000);
    assert.ok(Math.abs(toneAmplitude(mixed, 1000, 8000, 32768) - 0.4) < 0.005);
    // Opposite-phase channels cancel.
    const inverted = left.map((v) => -v);
    const cancelled = toEngineFormat([left, inverted], 8000);
    assert.ok(cancelled.every((v) => v === 0));
    // Unequal lengths: the shortest wins rather than reading past an end.
    assert.equal(toEngineFormat([new Float32Array(80), new Float32Array(50)], 8000).length, 50);
  });

  it('clips instead of wrapping', () => {
    const loud = Float32Array.from([2, -2, 1, -1, 0.99999]);
    assert.deepEqual(Array.from(toEngineFormat([loud], 8000)), [32767, -32768, 32767, -32768, 32767]);
  });

  it('keeps DC exactly and adds no delay', () => {
    const dc = new Float32Array(44100).fill(0.25);
    const out = toEngineFormat([dc], 44100);
    for (let i = 200; i < out.length - 200; i++) assert.equal(out[i], 8192);
    // An impulse lands at the same time on the output clock.
    const impulse = new Float32Array(44100);
    impulse[22050] = 1;
    const y = resample(impulse, 44100, 8000);
    let peak = 0;
    for (let i = 1; i < y.length; i++) if (Math.abs(y[i] as number) > Math.abs(y[peak] as number)) peak = i;
    assert.equal(peak, 4000);
  });

  it('handles empty and tiny inputs', () => {
    assert.equal(toEngineFormat([], 44100).length, 0);
    assert.equal(toEngineFormat([new Float32Array(0)], 44100).length, 0);
    assert.equal(toEngineFormat([Float32Array.of(0.5)], 44100).length, 1);
    assert.throws(() => toEngineFormat([new Float32Array(1)], 0), RangeError);
    assert.throws(() => toEngineFormat([new Float32Array(1)], 44100.5), RangeError);
  });

  it('the async form gives identical samples and yields to the event loop', async () => {
    const left = tone(440, 44100, 6);
    const right = tone(660, 44100, 6);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const asyncOut = await toEngineFormatAsync([left, right], 44100);
    clearInterval(timer);
    assert.deepEqual(asyncOut, toEngineFormat([left, right], 44100));
    assert.ok(ticks > 0, 'timers ran while converting');
  });
});

describe('resample', () => {
  const pairs: Array<[number, number]> = [
    [16000, 8000],
    [8000, 16000],
    [22050, 16000],
    [16000, 22050],
    [24000, 8000],
    [8000, 44100],
    [44100, 7999], // awkward ratio: exercises rounded filter phases
  ];
  for (const [from, to] of pairs) {
    it(`${from} → ${to} Hz keeps a 1 kHz tone's level and produces the right length`, () => {
      const y = resample(tone(1000, from, 0.5), from, to);
      assert.equal(y.length, resampledLength(Math.round(from * 0.5), from, to));
      assert.ok(Math.abs(y.length - to / 2) <= 1);
      assert.ok(Math.abs(dB(toneAmplitude(y, 1000, to) / 0.5)) < 0.01);
      assert.ok(Math.abs(dB(sineEquivalent(y) / 0.5)) < 0.05, 'no other components');
    });
  }

  it('an awkward rate (rounded filter phases) keeps distortion below −60 dB', () => {
    for (const from of [44101, 96001]) {
      const y = resample(tone(3400, from, 0.5), from, 8000);
      const toneLevel = toneAmplitude(y, 3400, 8000);
      const total = sineEquivalent(y);
      const residual = Math.sqrt(Math.max(total ** 2 - toneLevel ** 2, 1e-20));
      assert.ok(Math.abs(dB(toneLevel / 0.5)) < 0.05);
      assert.ok(dB(residual / toneLevel) < -60, `${from}: residual ${dB(residual / toneLevel).toFixed(1)} dB`);
    }
  });

  it('same rate is a copy', () => {
    const x = tone(100, 8000, 0.01);
    const y = resample(x, 8000, 8000);
    assert.deepEqual(y, x);
    assert.notEqual(y, x);
  });

  it('suppresses upsampling images', () => {
    // 3 kHz at 8 kHz → 16 kHz: the image would be at 5 kHz.
    const y = resample(tone(3000, 8000, 0.5), 8000, 16000);
    assert.ok(dB(toneAmplitude(y, 5000, 16000) / 0.5) < -60);
  });
});
