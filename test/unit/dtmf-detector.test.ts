import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DtmfDetector } from '../../src/media/dsp/dtmf-detector.js';
import type { DtmfDigitEndEvent, DtmfDigitEvent, DtmfDetectorOptions } from '../../src/media/dsp/dtmf-detector.js';
import { GoertzelBank } from '../../src/media/dsp/goertzel.js';
import { goertzelPairKernel } from '../../src/media/dsp/goertzel-kernel.js';
import { DTMF_DIGITS, addDtmf, addSine, dbm0ToAmplitude, dtmfFrequencies, toPcm16 } from '../../src/media/dsp/tone-generator.js';
import type { DtmfDigit, DtmfToneOptions } from '../../src/media/dsp/tone-generator.js';

const MS = 8; // samples per millisecond at 8 kHz
// Every assert.ok here carries a message: without one, a failing assert.ok makes node:assert
// re-read the source to quote the expression, which hung on this transpiled file.

/** Deterministic PRNG (mulberry32), so noisy cases are reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function addWhiteNoise(signal: Float64Array, rms: number, random: () => number): void {
  for (let i = 0; i < signal.length; i += 2) {
    // Box–Muller: two independent normal samples per pair of uniforms.
    const u = Math.max(random(), 1e-12);
    const v = random();
    const r = rms * Math.sqrt(-2 * Math.log(u));
    signal[i] = (signal[i] as number) + r * Math.cos(2 * Math.PI * v);
    if (i + 1 < signal.length) signal[i + 1] = (signal[i + 1] as number) + r * Math.sin(2 * Math.PI * v);
  }
}

interface Segment {
  /** A digit, or null for silence. */
  digit: DtmfDigit | null;
  ms: number;
  tone?: DtmfToneOptions;
}

interface Rendered {
  pcm: Int16Array;
  /** Start sample of each tone segment, in order. */
  starts: number[];
  ends: number[];
}

/** Lays segments end to end after `leadSamples` of silence, with 100 ms of silence after. */
function render(segments: Segment[], leadSamples = 400, noise?: { snrDb: number; seed: number }): Rendered {
  const total = leadSamples + segments.reduce((n, s) => n + Math.round(s.ms * MS), 0) + 100 * MS;
  const signal = new Float64Array(total);
  const starts: number[] = [];
  const ends: number[] = [];
  let pos = leadSamples;
  for (const seg of segments) {
    const length = Math.round(seg.ms * MS);
    if (seg.digit) {
      addDtmf(signal, pos, length, seg.digit, seg.tone);
      starts.push(pos);
      ends.push(pos + length);
    }
    pos += length;
  }
  if (noise) {
    // SNR against the pair's total power, as Q.24 test set-ups specify it.
    const tone = segments.find((s) => s.digit)?.tone ?? {};
    const low = dbm0ToAmplitude(tone.levelDbm0 ?? -10);
    const high = dbm0ToAmplitude((tone.levelDbm0 ?? -10) - (tone.twistDb ?? 0));
    const signalPower = (low * low + high * high) / 2;
    addWhiteNoise(signal, Math.sqrt(signalPower / 10 ** (noise.snrDb / 10)), rng(noise.seed));
  }
  return { pcm: toPcm16(signal), starts, ends };
}

interface Result {
  digits: DtmfDigitEvent[];
  ends: DtmfDigitEndEvent[];
}

function detect(pcm: Int16Array, frameSize = 160, options: DtmfDetectorOptions = {}): Result {
  const digits: DtmfDigitEvent[] = [];
  const ends: DtmfDigitEndEvent[] = [];
  const detector = new DtmfDetector({ ...options, onDigit: (e) => digits.push(e), onDigitEnd: (e) => ends.push(e) });
  for (let i = 0; i < pcm.length; i += frameSize) detector.process(pcm.subarray(i, Math.min(pcm.length, i + frameSize)));
  return { digits, ends };
}

function digitsOf(r: Result): string {
  return r.digits.map((d) => d.digit).join('');
}

/** Random but reproducible starting phases for the two tones. */
function phases(random: () => number): Pick<DtmfToneOptions, 'lowPhaseRad' | 'highPhaseRad'> {
  return { lowPhaseRad: 2 * Math.PI * random(), highPhaseRad: 2 * Math.PI * random() };
}

/** Runs one tone per digit per start offset; returns the failures as readable strings. */
function sweep(
  ms: number,
  tone: DtmfToneOptions,
  expectDetected: boolean,
  offsets: readonly number[] = [0, 37, 80, 119, 159],
  seed = 1,
): string[] {
  const random = rng(seed);
  const failures: string[] = [];
  for (const digit of DTMF_DIGITS) {
    for (const offset of offsets) {
      const { pcm } = render([{ digit, ms, tone: { ...tone, ...phases(random) } }], 400 + offset);
      const got = digitsOf(detect(pcm));
      const ok = expectDetected ? got === digit : got === '';
      if (!ok) failures.push(`${digit}@+${offset}: got "${got}"`);
    }
  }
  return failures;
}

const EVERY_PHASE = Array.from({ length: 160 }, (_, i) => i);

describe('GoertzelBank', () => {
  it('returns the complex DFT of a block, referenced to its first sample', () => {
    const n = 80;
    const x = new Float64Array(n);
    addSine(x, 0, n, 1000, 1000, 0.3);
    addSine(x, 0, n, 1633, 300, 1.1);
    // Five filters: one interleaved group of four plus one on its own.
    const freqs = [1000, 1300, 697, 1633, 941];
    const bank = new GoertzelBank(freqs, 8000, n);
    bank.update(x, 0, 30);
    bank.update(x, 30, n);
    const re = new Float64Array(5);
    const im = new Float64Array(5);
    bank.finish(re, im);
    for (const [k, f] of freqs.entries()) {
      let dr = 0;
      let di = 0;
      for (let m = 0; m < n; m++) {
        dr += (x[m] as number) * Math.cos((2 * Math.PI * f * m) / 8000);
        di -= (x[m] as number) * Math.sin((2 * Math.PI * f * m) / 8000);
      }
      assert.ok(Math.abs((re[k] as number) - dr) < 1e-6 && Math.abs((im[k] as number) - di) < 1e-6, `bin ${f} Hz`);
    }
  });
});

describe('GoertzelPairKernel', () => {
  const freqs = [697, 770, 852, 941, 1209, 1336, 1477, 1633];
  const kernel = goertzelPairKernel(freqs, 8000, 80);

  it('runs here (WebAssembly SIMD on a little-endian host)', () => {
    assert.ok(kernel !== null, 'kernel built');
  });

  it('gives the bank\'s filter states bit for bit, and exact energies, for each of two blocks', () => {
    assert.ok(kernel !== null, 'kernel built');
    const random = rng(7);
    const bank = new GoertzelBank(freqs, 8000, 80);
    const re = new Float64Array(8);
    const im = new Float64Array(8);
    const kernelRe = new Float64Array(8);
    const kernelIm = new Float64Array(8);
    for (let trial = 0; trial < 50; trial++) {
      const frame = new Int16Array(160);
      // Random full-scale samples, then a tone pair, then runs of the extremes.
      for (let i = 0; i < 160; i++) {
        frame[i] = trial % 3 === 0
          ? Math.floor(random() * 65536) - 32768
          : trial % 3 === 1
            ? Math.round(12000 * Math.sin(i * 0.55 + trial) + 9000 * Math.sin(i * 1.05))
            : (random() < 0.5 ? -32768 : 32767);
      }
      kernel.input.set(frame);
      kernel.filter();
      kernel.measureEnergy();
      for (let h = 0; h < 2; h++) {
        bank.update(frame, h * 80, h * 80 + 80);
        let energy = 0;
        for (let i = h * 80; i < h * 80 + 80; i++) energy += (frame[i] as number) ** 2;
        assert.equal(kernel.energy[h], energy, `energy, trial ${trial} block ${h}`);
        bank.output(kernel.s1, kernel.s2, h * 8, kernelRe, kernelIm);
        bank.finish(re, im);
        assert.deepEqual([...kernelRe, ...kernelIm], [...re, ...im], `bins, trial ${trial} block ${h}`);
      }
    }
  });

  it('refuses shapes it cannot run', () => {
    assert.throws(() => goertzelPairKernel(freqs.slice(0, 7), 8000, 80), RangeError);
    assert.throws(() => goertzelPairKernel(freqs, 8000, 81), RangeError);
  });
});

describe('DtmfDetector: digits', () => {
  it('detects every digit once, at its start, with its duration', () => {
    for (const digit of DTMF_DIGITS) {
      const { pcm, starts, ends } = render([{ digit, ms: 100 }]);
      const r = detect(pcm);
      assert.equal(digitsOf(r), digit);
      const [event] = r.digits;
      const [end] = r.ends;
      assert.ok(event && end, `${digit}: one start and one end event`);
      assert.ok(Math.abs(event.startSample - (starts[0] as number)) <= 3 * MS, `${digit} start ${event.startSample}`);
      // Reported promptly: within 40 ms of the tone's start, long before it ends.
      assert.ok(event.detectedAtSample - (starts[0] as number) <= 40 * MS, `${digit} latency`);
      assert.ok(Math.abs(end.endSample - (ends[0] as number)) <= 3 * MS, `${digit} end ${end.endSample}`);
      assert.ok(Math.abs(end.durationMs - 100) <= 5, `${digit} duration ${end.durationMs}`);
    }
  });

  it('reports nothing for silence, DC, a single tone or a non-DTMF pair', () => {
    const silence = new Int16Array(8000);
    assert.equal(digitsOf(detect(silence)), '');
    assert.equal(digitsOf(detect(new Int16Array(8000).fill(3000))), '');
    const single = new Float64Array(8000);
    addSine(single, 0, 8000, 770, dbm0ToAmplitude(-10));
    assert.equal(digitsOf(detect(toPcm16(single))), '');
    // Dial tone (350 + 440 Hz) and a row tone with a tone midway between two columns.
    const dial = new Float64Array(8000);
    addSine(dial, 0, 8000, 350, dbm0ToAmplitude(-13));
    addSine(dial, 0, 8000, 440, dbm0ToAmplitude(-13));
    assert.equal(digitsOf(detect(toPcm16(dial))), '');
    const between = new Float64Array(8000);
    addSine(between, 0, 8000, 852, dbm0ToAmplitude(-10));
    addSine(between, 0, 8000, (1336 + 1477) / 2, dbm0ToAmplitude(-10));
    assert.equal(digitsOf(detect(toPcm16(between))), '');
  });
});

describe('DtmfDetector: duration (detect ≥ 40 ms, reject < 23 ms)', () => {
  for (const ms of [20, 23]) {
    it(`rejects ${ms} ms tones for every digit at every start phase`, () => {
      assert.deepEqual(sweep(ms, {}, false, EVERY_PHASE), []);
    });
  }

  it('30 ms tones may go either way but are never reported twice or as another digit', () => {
    const random = rng(3);
    for (const digit of DTMF_DIGITS) {
      for (const offset of [0, 40, 80, 120]) {
        const got = digitsOf(detect(render([{ digit, ms: 30, tone: phases(random) }], 400 + offset).pcm));
        assert.ok(got === '' || got === digit, `${digit}@+${offset}: "${got}"`);
      }
    }
  });

  for (const ms of [40, 50, 100]) {
    it(`detects ${ms} ms tones for every digit at every start phase`, () => {
      assert.deepEqual(sweep(ms, {}, true, ms === 100 ? [0, 53, 111] : EVERY_PHASE), []);
    });
  }
});

describe('DtmfDetector: frequency deviation (accept ±1.5 %, reject ±3.5 %)', () => {
  const cases: Array<[string, (e: number) => DtmfToneOptions]> = [
    ['low group', (e) => ({ lowFrequencyError: e })],
    ['high group', (e) => ({ highFrequencyError: e })],
    ['both groups', (e) => ({ lowFrequencyError: e, highFrequencyError: e })],
    ['both groups, opposite signs', (e) => ({ lowFrequencyError: e, highFrequencyError: -e })],
  ];
  for (const [name, tone] of cases) {
    for (const sign of [1, -1]) {
      it(`accepts ${sign > 0 ? '+' : '−'}1.5 % on the ${name}`, () => {
        assert.deepEqual(sweep(60, tone(0.015 * sign), true), []);
      });
      it(`rejects ${sign > 0 ? '+' : '−'}3.5 % on the ${name}`, () => {
        assert.deepEqual(sweep(100, tone(0.035 * sign), false), []);
      });
    }
  }
});

describe('DtmfDetector: twist (accept 8 dB normal, 4 dB reverse)', () => {
  it('accepts 8 dB normal twist (high group weaker)', () => {
    assert.deepEqual(sweep(60, { twistDb: 8 }, true), []);
  });
  it('accepts 4 dB reverse twist (high group stronger)', () => {
    assert.deepEqual(sweep(60, { twistDb: -4 }, true), []);
  });
  it('rejects 10 dB normal twist', () => {
    assert.deepEqual(sweep(100, { twistDb: 10 }, false), []);
  });
  it('rejects 6 dB reverse twist', () => {
    assert.deepEqual(sweep(100, { twistDb: -6 }, false), []);
  });
  it('still accepts the twist limits combined with ±1.5 % frequency error', () => {
    for (const twistDb of [8, -4]) {
      for (const e of [0.015, -0.015]) {
        assert.deepEqual(sweep(60, { twistDb, lowFrequencyError: e, highFrequencyError: -e }, true, [0, 80]), [], `twist ${twistDb}, ${e}`);
      }
    }
  });
});

describe('DtmfDetector: levels', () => {
  for (const levelDbm0 of [-3, -10, -25, -30]) {
    it(`accepts ${levelDbm0} dBm0 per tone`, () => {
      assert.deepEqual(sweep(60, { levelDbm0 }, true), []);
    });
  }
  for (const levelDbm0 of [-36, -45]) {
    it(`rejects ${levelDbm0} dBm0 per tone (below the floor)`, () => {
      assert.deepEqual(sweep(100, { levelDbm0 }, false), []);
    });
  }
  it('rejects a pair whose high tone alone is below the floor', () => {
    // Row at −30 dBm0, column at −40 dBm0: within neither the floor nor the twist limit.
    assert.deepEqual(sweep(100, { levelDbm0: -30, twistDb: 10 }, false, [0]), []);
  });
});

describe('DtmfDetector: quiet half-blocks', () => {
  it('reports the same digits, starts and ends whether or not quiet halves are analysed', () => {
    // onAnalysis turns the shortcut off, so the two detectors differ only in it. Weak tones
    // (at and near the floor, both twists) over a quiet line at −50 dBm0, where most halves skip.
    const random = rng(42);
    const signal = new Float64Array(12 * 8000);
    addWhiteNoise(signal, dbm0ToAmplitude(-50) / Math.SQRT2, random);
    const tones: { digit: DtmfDigit; tone: DtmfToneOptions }[] = [
      { digit: '1', tone: { levelDbm0: -30 } }, { digit: '5', tone: { levelDbm0: -22, twistDb: 8 } },
      { digit: '9', tone: { levelDbm0: -28, twistDb: -4 } }, { digit: '#', tone: { levelDbm0: -33 } },
      { digit: '0', tone: { levelDbm0: -10 } }, { digit: 'D', tone: { levelDbm0: -36 } },
    ];
    tones.forEach(({ digit, tone }, k) => addDtmf(signal, 4000 + k * 12_000 + (k * 37) % 160, 60 * MS, digit, { ...tone, ...phases(random) }));
    const pcm = toPcm16(signal);
    const skipping = detect(pcm);
    const analysing = detect(pcm, 160, { onAnalysis: () => undefined });
    assert.equal(digitsOf(skipping), '159#0');
    assert.equal(digitsOf(analysing), digitsOf(skipping));
    for (const [i, event] of skipping.digits.entries()) {
      assert.ok(Math.abs(event.startSample - (analysing.digits[i]?.startSample ?? -1e9)) <= 4, `start of ${event.digit}`);
      assert.equal(event.detectedAtSample, analysing.digits[i]?.detectedAtSample);
      assert.ok(Math.abs((skipping.ends[i]?.endSample ?? 0) - (analysing.ends[i]?.endSample ?? 1e9)) <= 4, `end of ${event.digit}`);
    }
  });
});

describe('DtmfDetector: frame shapes', () => {
  it('measures every window the same whether a frame goes through the SIMD kernel or the JavaScript bank', () => {
    // 160-sample frames on the half-block grid take the kernel; 80-sample frames cannot.
    const random = rng(11);
    const signal = new Float64Array(6 * 8000);
    addWhiteNoise(signal, dbm0ToAmplitude(-35) / Math.SQRT2, random);
    for (let k = 0; k < 8; k++) {
      addDtmf(signal, 2000 + k * 5000 + k * 13, (30 + 10 * k) * MS, DTMF_DIGITS[k] as DtmfDigit, { levelDbm0: -8 - 3 * k, twistDb: k - 4, ...phases(random) });
    }
    // A stretch of speech-like harmonics, so windows also fail at later tests.
    for (let i = 42_000; i < 47_000; i++) signal[i] = (signal[i] as number) + 6000 * Math.sin(i * 0.13) + 3000 * Math.sin(i * 0.39 + 1);
    const pcm = toPcm16(signal);
    const windows = (frameSize: number): unknown[] => {
      const seen: unknown[] = [];
      detect(pcm, frameSize, { onAnalysis: (a) => seen.push({ ...a }) });
      return seen;
    };
    const viaKernel = windows(160);
    assert.equal(viaKernel.length, pcm.length / 80 - 1);
    assert.deepEqual(viaKernel, windows(80));
    // And with quiet halves skipped (no onAnalysis), the same digits at the same samples.
    const quietLine = new Float64Array(signal.length);
    for (let k = 0; k < 8; k++) addDtmf(quietLine, 2000 + k * 5000 + k * 29, 60 * MS, DTMF_DIGITS[k + 8] as DtmfDigit, { levelDbm0: -12 - 2 * k });
    const quietPcm = toPcm16(quietLine);
    const a = detect(quietPcm, 160);
    assert.equal(digitsOf(a), DTMF_DIGITS.slice(8, 16).join(''));
    assert.deepEqual(a, detect(quietPcm, 80));
  });

  it('judges a frame alike when a digit callback feeds another detector in between (they share one kernel)', () => {
    const random = rng(23);
    const signal = new Float64Array(4 * 8000);
    addWhiteNoise(signal, dbm0ToAmplitude(-40) / Math.SQRT2, random);
    // Starts spread over the frame, so digits are confirmed on first halves as well as second.
    for (let k = 0; k < 12; k++) addDtmf(signal, 1000 + k * 2600 + k * 41, 70 * MS, DTMF_DIGITS[k] as DtmfDigit, { levelDbm0: -10, ...phases(random) });
    const pcm = toPcm16(signal);
    const loud = toPcm16(Float64Array.from({ length: 160 }, (_, i) => 20000 * Math.sin(i * 0.9)));
    const other = new DtmfDetector();
    const run = (meddle: boolean): unknown[] => {
      const seen: unknown[] = [];
      const detector = new DtmfDetector({
        onDigit: (e) => {
          seen.push({ ...e });
          if (meddle) other.process(loud);
        },
        onAnalysis: (a) => seen.push({ ...a }),
      });
      for (let i = 0; i < pcm.length; i += 160) detector.process(pcm.subarray(i, i + 160));
      return seen;
    };
    const undisturbed = run(false);
    assert.equal(undisturbed.filter((e) => (e as { startSample?: number }).startSample !== undefined).length, 12);
    assert.deepEqual(run(true), undisturbed);
  });
});

describe('DtmfDetector: noise', () => {
  it('detects every digit at 15 dB SNR (white noise), at several phases and seeds', () => {
    const failures: string[] = [];
    let seed = 100;
    for (const digit of DTMF_DIGITS) {
      for (const offset of [0, 40, 80, 120]) {
        for (const ms of [40, 60]) {
          seed++;
          const { pcm } = render([{ digit, ms, tone: phases(rng(seed)) }], 400 + offset, { snrDb: 15, seed });
          const got = digitsOf(detect(pcm));
          if (got !== digit) failures.push(`${digit}/${ms}ms@+${offset} seed ${seed}: "${got}"`);
        }
      }
    }
    assert.deepEqual(failures, []);
  });

  it('detects at 15 dB SNR combined with the twist limits and −25 dBm0', () => {
    const failures: string[] = [];
    let seed = 500;
    for (const tone of [{ twistDb: 8 }, { twistDb: -4 }, { levelDbm0: -25 }]) {
      for (const digit of DTMF_DIGITS) {
        seed++;
        const { pcm } = render([{ digit, ms: 60, tone: { ...tone, ...phases(rng(seed)) } }], 400 + (seed % 160), { snrDb: 15, seed });
        const got = digitsOf(detect(pcm));
        if (got !== digit) failures.push(`${JSON.stringify(tone)} ${digit} seed ${seed}: "${got}"`);
      }
    }
    assert.deepEqual(failures, []);
  });

  it('reports nothing in 60 s of white noise alone', () => {
    const signal = new Float64Array(60 * 8000);
    addWhiteNoise(signal, 3000, rng(7));
    assert.equal(digitsOf(detect(toPcm16(signal))), '');
  });
});

describe('DtmfDetector: sequences and pauses', () => {
  it('counts repeated digits separated by 40 ms pauses', () => {
    const random = rng(11);
    for (const digit of DTMF_DIGITS) {
      for (const onMs of [40, 50]) {
        const segments: Segment[] = [];
        for (let i = 0; i < 4; i++) {
          if (i > 0) segments.push({ digit: null, ms: 40 });
          segments.push({ digit, ms: onMs, tone: phases(random) });
        }
        const offset = Math.floor(random() * 160);
        const r = detect(render(segments, 400 + offset).pcm);
        assert.equal(digitsOf(r), digit.repeat(4), `${digit} ${onMs}/40 ms @+${offset}`);
      }
    }
  });

  it('decodes a full keypad sequence at 10 digits per second, in order', () => {
    const random = rng(12);
    const segments: Segment[] = [];
    for (const digit of DTMF_DIGITS) {
      segments.push({ digit, ms: 50, tone: phases(random) });
      segments.push({ digit: null, ms: 50 });
    }
    const { pcm, starts } = render(segments);
    const r = detect(pcm);
    assert.equal(digitsOf(r), DTMF_DIGITS.join(''));
    r.digits.forEach((e, i) => assert.ok(Math.abs(e.startSample - (starts[i] as number)) <= 3 * MS, `start of ${e.digit}`));
  });

  it('decodes back-to-back different digits with no pause', () => {
    const { pcm } = render([
      { digit: '1', ms: 60 },
      { digit: '5', ms: 60 },
      { digit: '9', ms: 60 },
    ]);
    assert.equal(digitsOf(detect(pcm)), '159');
  });

  it('bridges a 10 ms dropout inside a tone instead of reporting a second press', () => {
    for (const digit of DTMF_DIGITS) {
      const { pcm } = render([
        { digit, ms: 60 },
        { digit: null, ms: 10 },
        { digit, ms: 60 },
      ]);
      assert.equal(digitsOf(detect(pcm)), digit);
    }
  });
});

describe('DtmfDetector: framing', () => {
  it('gives the same events whatever the frame size, for tones split across frames at every phase', () => {
    const random = rng(21);
    for (let offset = 0; offset < 160; offset += 3) {
      const digit = DTMF_DIGITS[offset % 16] as DtmfDigit;
      const { pcm } = render([
        { digit, ms: 45, tone: phases(random) },
        { digit: null, ms: 40 },
        { digit: '#', ms: 45, tone: phases(random) },
      ], 400 + offset);
      const reference = detect(pcm, 160);
      assert.equal(digitsOf(reference), `${digit}#`, `offset ${offset}`);
      for (const frameSize of [1, 7, 80, 161, 320]) {
        assert.deepEqual(detect(pcm, frameSize), reference, `offset ${offset}, frames of ${frameSize}`);
      }
    }
  });

  it('reset() forgets a digit in progress and restarts the sample count', () => {
    const digits: DtmfDigitEvent[] = [];
    const ends: DtmfDigitEndEvent[] = [];
    const detector = new DtmfDetector({ onDigit: (e) => digits.push(e), onDigitEnd: (e) => ends.push(e) });
    const { pcm } = render([{ digit: '7', ms: 200 }], 0);
    detector.process(pcm.subarray(0, 800));
    assert.equal(detector.activeDigit, '7');
    detector.reset();
    assert.equal(detector.position, 0);
    assert.equal(detector.activeDigit, null);
    detector.process(pcm.subarray(800, 1600));
    assert.deepEqual(digits.map((d) => d.digit), ['7', '7']);
    assert.equal(ends.length, 0);
    assert.ok((digits[1] as DtmfDigitEvent).startSample <= 2 * MS, 'start counted from the reset');
  });
});

describe('tone generator', () => {
  it('maps the keypad to Q.23 frequencies and levels to 16-bit amplitudes', () => {
    assert.deepEqual(dtmfFrequencies('5'), { lowHz: 770, highHz: 1336 });
    assert.deepEqual(dtmfFrequencies('#'), { lowHz: 941, highHz: 1477 });
    assert.deepEqual(dtmfFrequencies('D'), { lowHz: 941, highHz: 1633 });
    assert.ok(Math.abs(dbm0ToAmplitude(3.17) - 32767) < 1e-6, 'full-scale sine is +3.17 dBm0');
    assert.ok(Math.abs(dbm0ToAmplitude(0) - 22748) < 1, `0 dBm0 peak ${dbm0ToAmplitude(0)}`);
  });
});
