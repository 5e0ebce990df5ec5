/**
 * Voice activity detector: speech from the synthetic speech corpus (test/helpers/speech-audio.ts;
 * skipped when no synthesiser is installed) against silence, white and pink noise at several
 * levels, mains hum and buzz, and tones.
 *
 * "Voiced" frames are labelled offline, independently of the detector: frames of the clean
 * corpus above −45 dBov whose normalised autocorrelation peaks at ≥ 0.6 at a pitch lag
 * (2.5–20 ms). That is the speech a recording must not lose.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VoiceActivityDetector } from '../../src/media/dsp/vad.js';
import { DTMF_DIGITS, addDtmf, addSine, toPcm16 } from '../../src/media/dsp/tone-generator.js';
import { loadSpeechCorpus, type SpeechCorpus } from '../helpers/speech-audio.js';

const RATE = 8000;
const FRAME = 160;

/** Deterministic Gaussian noise. */
function gaussian(seed: number): () => number {
  let s = seed >>> 0;
  const uniform = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 1) / 4294967297;
  };
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** RMS in 16-bit units of a level in dBov (0 dBov = full-scale square wave). */
const rmsOf = (dbov: number): number => 32768 * 10 ** (dbov / 20);

function whiteNoise(samples: number, dbov: number, seed = 1): Float64Array {
  const g = gaussian(seed);
  const out = new Float64Array(samples);
  const rms = rmsOf(dbov);
  for (let i = 0; i < samples; i++) out[i] = rms * g();
  return out;
}

/** 1/f noise (a sum of three one-pole low-passed noises approximates −3 dB/octave over the band). */
function pinkNoise(samples: number, dbov: number, seed = 2): Float64Array {
  const g = gaussian(seed);
  const out = new Float64Array(samples);
  let b0 = 0;
  let b1 = 0;
  let b2 = 0;
  let energy = 0;
  for (let i = 0; i < samples; i++) {
    const w = g();
    b0 = 0.99765 * b0 + w * 0.099046;
    b1 = 0.963 * b1 + w * 0.2965164;
    b2 = 0.57 * b2 + w * 1.0526913;
    const v = b0 + b1 + b2 + w * 0.1848;
    out[i] = v;
    energy += v * v;
  }
  const gain = rmsOf(dbov) / Math.sqrt(energy / samples);
  for (let i = 0; i < samples; i++) out[i] = (out[i] as number) * gain;
  return out;
}

/** Mains hum: `f0` and its harmonics with the given relative amplitudes, scaled to `dbov`. */
function hum(samples: number, f0: number, harmonics: readonly number[], dbov: number): Float64Array {
  const out = new Float64Array(samples);
  harmonics.forEach((a, h) => addSine(out, 0, samples, f0 * (h + 1), a, h * 0.7));
  let energy = 0;
  for (const v of out) energy += v * v;
  const gain = rmsOf(dbov) / Math.sqrt(energy / samples);
  for (let i = 0; i < samples; i++) out[i] = (out[i] as number) * gain;
  return out;
}

/** Per-frame decisions. */
function decide(pcm: Int16Array): Uint8Array {
  const vad = new VoiceActivityDetector();
  const frames = Math.floor(pcm.length / FRAME);
  const out = new Uint8Array(frames);
  for (let f = 0; f < frames; f++) out[f] = vad.process(pcm, f * FRAME) ? 1 : 0;
  return out;
}

const share = (d: Uint8Array): number => d.reduce((a, v) => a + v, 0) / d.length;

/** Offline voiced-frame labels for clean speech (see the file comment). */
function voicedFrames(pcm: Int16Array): Uint8Array {
  const frames = Math.floor(pcm.length / FRAME);
  const voiced = new Uint8Array(frames);
  for (let f = 1; f < frames; f++) {
    const at = f * FRAME;
    let energy = 0;
    for (let i = 0; i < FRAME; i++) energy += (pcm[at + i] as number) ** 2;
    if (10 * Math.log10(energy / FRAME / 32768 ** 2 + 1e-12) < -45) continue;
    let best = 0;
    for (let lag = 20; lag <= 160; lag++) {
      let xy = 0;
      let yy = 0;
      for (let i = 0; i < FRAME; i++) {
        const y = pcm[at + i - lag] as number;
        xy += (pcm[at + i] as number) * y;
        yy += y * y;
      }
      const r = xy / Math.sqrt(energy * yy + 1);
      if (r > best) best = r;
    }
    if (best >= 0.6) voiced[f] = 1;
  }
  return voiced;
}

function detectedShare(decisions: Uint8Array, labels: Uint8Array): number {
  let n = 0;
  let hit = 0;
  for (let f = 0; f < labels.length; f++) {
    if (!labels[f]) continue;
    n++;
    hit += decisions[f] as number;
  }
  return hit / n;
}

/** Active-speech level of clean speech, dBov (frames above −45 dBov). */
function activeLevel(pcm: Int16Array): number {
  let energy = 0;
  let n = 0;
  for (let at = 0; at + FRAME <= pcm.length; at += FRAME) {
    let e = 0;
    for (let i = 0; i < FRAME; i++) e += (pcm[at + i] as number) ** 2;
    if (10 * Math.log10(e / FRAME / 32768 ** 2 + 1e-12) < -45) continue;
    energy += e;
    n += FRAME;
  }
  return 10 * Math.log10(energy / n / 32768 ** 2);
}

function withNoise(speech: Int16Array, noise: Float64Array): Int16Array {
  for (let i = 0; i < speech.length; i++) noise[i] = (noise[i] as number) + (speech[i] as number);
  return toPcm16(noise);
}

describe('VoiceActivityDetector: speech', () => {
  let corpus: SpeechCorpus | null = null;
  let skip = '';
  let speech: Int16Array = new Int16Array(0);
  let voiced: Uint8Array = new Uint8Array(0);

  before(async () => {
    const loaded = await loadSpeechCorpus();
    if ('skip' in loaded) {
      skip = loaded.skip;
      return;
    }
    corpus = loaded;
    speech = loaded.samples.subarray(0, 30 * RATE);
    voiced = voicedFrames(speech);
  });

  it('marks ≥ 90 % of voiced frames of clean speech as speech', (t) => {
    if (corpus === null) return t.skip(skip);
    const detected = detectedShare(decide(speech), voiced);
    t.diagnostic(`${voiced.reduce((a, v) => a + v, 0)} voiced frames in 30 s, ${(detected * 100).toFixed(1)} % detected`);
    assert.ok(detected >= 0.9, `only ${(detected * 100).toFixed(1)} % of voiced frames detected`);
  });

  it('still finds speech in white and pink noise at 15 dB SNR', (t) => {
    if (corpus === null) return t.skip(skip);
    const noiseDb = activeLevel(speech) - 15;
    for (const [name, noise] of [
      ['white', whiteNoise(speech.length, noiseDb, 7)],
      ['pink', pinkNoise(speech.length, noiseDb, 8)],
    ] as const) {
      const detected = detectedShare(decide(withNoise(speech, noise)), voiced);
      t.diagnostic(`${name} noise at 15 dB SNR: ${(detected * 100).toFixed(1)} % of voiced frames detected`);
      assert.ok(detected >= 0.9, `${name}: only ${(detected * 100).toFixed(1)} % detected`);
    }
  });

  it('confirms speech onsets within 60 ms, from silence and from noise', (t) => {
    if (corpus === null) return t.skip(skip);
    // Utterances as the corpus has them (separated by runs of digital silence), each placed after
    // a second of background. Onset is measured from the utterance's first frame within 25 dB of
    // its loudest, i.e. where the voice is plainly there, to the frame the detector says so.
    const utterances: Array<[number, number]> = [];
    let start = -1;
    let quiet = 0;
    for (let i = 0; i < speech.length; i++) {
      if (Math.abs(speech[i] as number) > 8) {
        if (start < 0) start = i;
        quiet = 0;
      } else if (start >= 0 && ++quiet >= 1200) {
        utterances.push([start, i - quiet + 1]);
        start = -1;
        quiet = 0;
      }
    }
    assert.ok(utterances.length >= 5, 'the corpus should split into utterances');
    for (const background of ['silence', 'noise']) {
      const latencies: number[] = [];
      for (const [from, to] of utterances) {
        const lead = RATE;
        const signal = background === 'noise' ? whiteNoise(lead + to - from, -55, from) : new Float64Array(lead + to - from);
        for (let i = from; i < to; i++) signal[lead + i - from] = (signal[lead + i - from] as number) + (speech[i] as number);
        const pcm = toPcm16(signal);
        const levels: number[] = [];
        for (let at = lead; at + FRAME <= pcm.length; at += FRAME) {
          let e = 0;
          for (let i = 0; i < FRAME; i++) e += (pcm[at + i] as number) ** 2;
          levels.push(10 * Math.log10(e / FRAME + 1));
        }
        const loudest = Math.max(...levels);
        const onsetFrame = lead / FRAME + levels.findIndex((l) => l >= loudest - 25);
        const confirmed = decide(pcm).indexOf(1);
        // Never before the utterance (nothing in the lead-in is speech)...
        assert.ok(confirmed >= lead / FRAME, `speech declared ${(lead / FRAME - confirmed) * 20} ms before the utterance`);
        // ...and at most 60 ms after the voice is plainly there; it may be earlier, when the
        // detector already catches the quieter start of the word.
        latencies.push((confirmed - onsetFrame + 1) * 20);
      }
      const worst = Math.max(...latencies);
      t.diagnostic(`${background}: ${latencies.length} onsets, latency ${Math.min(...latencies)}…${worst} ms (to frame end)`);
      assert.ok(worst <= 60, `an onset took ${worst} ms`);
    }
  });

  it('does not hold speech long after it ends (hangover ≤ 300 ms)', (t) => {
    if (corpus === null) return t.skip(skip);
    const signal = new Int16Array(speech.length + 3 * RATE);
    signal.set(speech);
    const decisions = decide(signal);
    const lastVoiced = voiced.lastIndexOf(1);
    const lastSpeech = decisions.lastIndexOf(1);
    t.diagnostic(`speech declared until ${(lastSpeech - lastVoiced) * 20} ms after the last voiced frame`);
    assert.ok(lastSpeech - lastVoiced <= 25, 'speech held more than 500 ms after the last voiced frame');
    assert.equal(decisions.subarray(decisions.length - 100).indexOf(1), -1);
  });
});

describe('VoiceActivityDetector: not speech', () => {
  // Long enough that 2 % is a dozen frames, and that a slowly drifting estimate would show.
  const tenSeconds = 8 * RATE;

  it('digital silence', () => {
    assert.equal(share(decide(new Int16Array(tenSeconds))), 0);
  });

  for (const level of [-70, -55, -45, -35, -25, -15]) {
    it(`white noise at ${level} dBov (≤ 2 %)`, () => {
      const s = share(decide(toPcm16(whiteNoise(tenSeconds, level, 100 - level))));
      assert.ok(s <= 0.02, `${(s * 100).toFixed(1)} % of frames called speech`);
    });
    it(`pink noise at ${level} dBov (≤ 2 %)`, () => {
      const s = share(decide(toPcm16(pinkNoise(tenSeconds, level, 200 - level))));
      assert.ok(s <= 0.02, `${(s * 100).toFixed(1)} % of frames called speech`);
    });
  }

  const hums: Array<[string, number, number[]]> = [
    ['50 Hz hum, odd harmonics', 50, [1, 0, 0.5, 0, 0.3, 0, 0.2, 0, 0.1]],
    ['60 Hz hum', 60, [1, 0.3, 0.5, 0.2, 0.3, 0.1, 0.2]],
    ['120 Hz rectifier hum', 120, [1, 0.5, 0.3, 0.2]],
    ['60 Hz buzz, 40 harmonics', 60, Array.from({ length: 40 }, (_, i) => 1 / (i + 1))],
  ];
  for (const [name, f0, harmonics] of hums) {
    for (const level of [-40, -20]) {
      it(`${name} at ${level} dBov (≤ 2 %)`, () => {
        const s = share(decide(toPcm16(hum(tenSeconds, f0, harmonics, level))));
        assert.ok(s <= 0.02, `${(s * 100).toFixed(1)} % of frames called speech`);
      });
    }
  }

  it('hum under white noise (≤ 2 %)', () => {
    const signal = hum(tenSeconds, 50, [1, 0.2, 0.5, 0.1, 0.3], -30);
    const noise = whiteNoise(tenSeconds, -45, 5);
    for (let i = 0; i < tenSeconds; i++) signal[i] = (signal[i] as number) + (noise[i] as number);
    const s = share(decide(toPcm16(signal)));
    assert.ok(s <= 0.02, `${(s * 100).toFixed(1)} % of frames called speech`);
  });
});

describe('VoiceActivityDetector: tones', () => {
  /** Speech frames while `build` plays its tone(s) over `backgroundDb` noise (or digital silence). */
  function speechDuringTone(build: (x: Float64Array) => void, backgroundDb: number | null): number {
    const n = 4 * RATE;
    const x = backgroundDb === null ? new Float64Array(n) : whiteNoise(n, backgroundDb, 9);
    build(x);
    return decide(toPcm16(x)).reduce((a, v) => a + v, 0);
  }

  for (const background of [null, -60, -40]) {
    const bg = background === null ? 'digital silence' : `${background} dBov noise`;
    it(`a steady tone is at most 60 ms of "speech", at its start (over ${bg})`, () => {
      const cases: Array<[string, (x: Float64Array) => void]> = [
        ['1 kHz beep, 2 s', (x) => addSine(x, 0.5 * RATE + 37, 2 * RATE, 1000, 7000)],
        ['440 Hz, 2 s', (x) => addSine(x, 0.5 * RATE + 11, 2 * RATE, 440, 7000)],
        ['3 kHz, 2 s', (x) => addSine(x, 0.5 * RATE + 5, 2 * RATE, 3000, 7000)],
        ['dial tone 350 + 440', (x) => {
          addSine(x, 0.5 * RATE, 2 * RATE, 350, 4000);
          addSine(x, 0.5 * RATE, 2 * RATE, 440, 4000);
        }],
        ['ringback 440 + 480', (x) => {
          addSine(x, 0.5 * RATE, 2 * RATE, 440, 4000);
          addSine(x, 0.5 * RATE, 2 * RATE, 480, 4000);
        }],
        ...DTMF_DIGITS.map((d): [string, (x: Float64Array) => void] => [`DTMF ${d}, 2 s`, (x) => addDtmf(x, 0.5 * RATE + 50, 2 * RATE, d)]),
      ];
      for (const [name, build] of cases) {
        const frames = speechDuringTone(build, background);
        assert.ok(frames <= 3, `${name}: ${frames} frames of speech`);
      }
    });
  }

  it('a string of DTMF digits is not talk', () => {
    const x = whiteNoise(6 * RATE, -60, 3);
    DTMF_DIGITS.forEach((d, i) => addDtmf(x, 0.5 * RATE + i * 2400, 800, d));
    const decisions = decide(toPcm16(x));
    // Each 100 ms digit may start a ≤ 60 ms blip; most start nothing.
    assert.ok(share(decisions) <= 0.08, `${(share(decisions) * 100).toFixed(1)} % of frames called speech`);
  });
});

describe('VoiceActivityDetector: behaviour', () => {
  it('reports talkspurts through its callbacks, with frame indices', () => {
    const starts: number[] = [];
    const ends: number[] = [];
    const vad = new VoiceActivityDetector({ onSpeechStart: (f) => starts.push(f), onSpeechEnd: (f) => ends.push(f) });
    // Bursts of noise-modulated "voice" (a harmonic-rich, level-varying signal) between silences.
    const x = new Float64Array(4 * RATE);
    for (const [from, to] of [[0.5, 1.3], [2.2, 2.9]] as const) {
      const a = from * RATE;
      const b = to * RATE;
      for (let h = 1; h <= 12; h++) addSine(x, a, b - a, 130 * h, 4000 / h);
      for (let i = a; i < b; i++) x[i] = (x[i] as number) * (0.6 + 0.4 * Math.sin((2 * Math.PI * 4 * (i - a)) / RATE));
    }
    const pcm = toPcm16(x);
    for (let f = 0; f < pcm.length / FRAME; f++) vad.process(pcm, f * FRAME);
    assert.equal(starts.length, 2);
    assert.equal(ends.length, 2);
    assert.ok(Math.abs((starts[0] as number) - 25) <= 1, `first start at frame ${starts[0]}`);
    assert.ok(Math.abs((ends[0] as number) - 64) <= 2, `first end at frame ${ends[0]}`);
    assert.ok(Math.abs((starts[1] as number) - 110) <= 1, `second start at frame ${starts[1]}`);
  });

  it('reads one channel of interleaved stereo in place (stride 2)', () => {
    const mono = toPcm16(whiteNoise(RATE, -30, 4));
    for (let i = 3200; i < 4800; i++) mono[i] = Math.round(8000 * Math.sin(i / 3) * Math.sin(i / 97));
    const stereo = new Int16Array(mono.length * 2);
    for (let i = 0; i < mono.length; i++) stereo[2 * i + 1] = mono[i] as number;
    const a = new VoiceActivityDetector();
    const b = new VoiceActivityDetector();
    for (let f = 0; f < mono.length / FRAME; f++) {
      assert.equal(b.process(stereo, f * FRAME * 2 + 1, 2), a.process(mono, f * FRAME));
    }
  });

  it('rejects a frame that would run past the array', () => {
    assert.throws(() => new VoiceActivityDetector().process(new Int16Array(100)), RangeError);
  });

  it('does not allocate per frame', () => {
    const pcm = toPcm16(whiteNoise(RATE, -30, 6));
    for (let i = 2000; i < 6000; i++) pcm[i] = Math.round(6000 * Math.sin(i / 4) * Math.sin(i / 300));
    const vad = new VoiceActivityDetector();
    const run = (frames: number): void => {
      for (let f = 0; f < frames; f++) vad.process(pcm, (f % 50) * FRAME);
    };
    run(20_000); // warm up: let the JIT settle
    const before = process.memoryUsage().heapUsed;
    run(50_000);
    const perFrame = (process.memoryUsage().heapUsed - before) / 50_000;
    // A single boxed double per frame would be 16 bytes; a scratch array, hundreds.
    assert.ok(perFrame < 4, `${perFrame.toFixed(1)} bytes allocated per frame`);
  });
});
