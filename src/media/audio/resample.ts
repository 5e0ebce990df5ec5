/**
 * Sample-rate conversion and the final step into the engine's format.
 *
 * One polyphase windowed-sinc (Kaiser) filter does both the interpolation and the anti-aliasing,
 * so every supported rate pair (8/11.025/16/22.05/44.1/48 kHz and oddities) goes through the same
 * code. Quality is set for telephony: flat to 85% of the lower Nyquist frequency (3.4 kHz when the
 * target is 8 kHz), and ≥ 70 dB down from 105% of it, so that nothing audible folds back into the
 * voice band.
 */
import { SAMPLE_RATE } from '../frame.js';
import { runCooperatively, runToCompletion, type Job } from './cooperative.js';

const PASSBAND = 0.85;
const STOPBAND = 1.05;
const STOPBAND_ATTENUATION_DB = 72;

// Rate ratios with a huge numerator (e.g. 44101 → 8000) would need one filter phase per output
// position; past this many, the phase is rounded to the nearest one. The timing error that leaves,
// at most 1/(2·MAX_PHASES) of an input sample, is about −70 dB for a 3.4 kHz tone at 44.1 kHz, on a
// par with the stopband, while keeping the table small and quick to build.
const MAX_PHASES = 512;

// Filter tables kept for reuse. Rates come from files, so the set must not grow without bound.
const MAX_CACHED_BANKS = 8;

// Filter rows computed between yields when building a table (each row is `taps` Bessel terms).
const ROWS_PER_SLICE = 64;

interface FilterBank {
  /** The output step in input samples, `down / up`, as an integer quotient and remainder. */
  readonly stepWhole: number;
  readonly stepFraction: number;
  /** Exact denominator of the output position (the reduced upsampling factor). */
  readonly denominator: number;
  readonly phases: number;
  readonly taps: number;
  /** `phases` rows of `taps` coefficients; row p is for an output that falls p/phases past an input sample. */
  readonly coefficients: Float64Array;
}

const banks = new Map<string, FilterBank>();

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** Zeroth-order modified Bessel function of the first kind, by its power series. */
function besselI0(x: number): number {
  const q = (x * x) / 4;
  let term = 1;
  let sum = 1;
  for (let k = 1; k < 64; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

function* filterBank(fromRate: number, toRate: number): Job<FilterBank> {
  const key = `${fromRate}>${toRate}`;
  const cached = banks.get(key);
  if (cached !== undefined) return cached;

  const g = gcd(fromRate, toRate);
  const up = toRate / g;
  const down = fromRate / g;
  const phases = Math.min(up, MAX_PHASES);

  // Work in input samples: the filter cuts at the lower of the two Nyquist frequencies.
  const nyquist = Math.min(fromRate, toRate) / 2 / fromRate; // cycles per input sample
  const cutoff = ((PASSBAND + STOPBAND) / 2) * nyquist;
  const transition = 2 * Math.PI * (STOPBAND - PASSBAND) * nyquist; // radians per input sample
  const a = STOPBAND_ATTENUATION_DB;
  const beta = a > 50 ? 0.1102 * (a - 8.7) : 0.5842 * (a - 21) ** 0.4 + 0.07886 * (a - 21);
  const length = Math.ceil((a - 7.95) / (2.285 * transition)) + 1;
  const half = 2 * Math.ceil(length / 4);
  const taps = 2 * half;
  const i0Beta = besselI0(beta);

  const coefficients = new Float64Array(phases * taps);
  for (let p = 0; p < phases; p++) {
    if (p > 0 && p % ROWS_PER_SLICE === 0) yield;
    const row = p * taps;
    let sum = 0;
    for (let k = 0; k < taps; k++) {
      // Tap k multiplies input sample (floor(position) - half + 1 + k); t is its distance.
      const t = p / phases + half - 1 - k;
      const r = t / half;
      const window = r * r < 1 ? besselI0(beta * Math.sqrt(1 - r * r)) / i0Beta : 0;
      const x = 2 * cutoff * t;
      const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
      const h = 2 * cutoff * sinc * window;
      coefficients[row + k] = h;
      sum += h;
    }
    // Normalising each phase to unit DC gain keeps a constant input constant on every output
    // sample, instead of rippling at the phase-cycle rate.
    for (let k = 0; k < taps; k++) coefficients[row + k] = (coefficients[row + k] as number) / sum;
  }

  const bank: FilterBank = {
    stepWhole: Math.floor(down / up),
    stepFraction: down % up,
    denominator: up,
    phases,
    taps,
    coefficients,
  };
  // Another job may have built the same table while this one yielded; either copy will do.
  if (!banks.has(key) && banks.size >= MAX_CACHED_BANKS) {
    const oldest = banks.keys().next();
    if (oldest.done !== true) banks.delete(oldest.value);
  }
  banks.set(key, bank);
  return bank;
}

function checkRate(rate: number, name: string): void {
  if (!Number.isInteger(rate) || rate < 1) throw new RangeError(`${name} must be a positive integer, got ${rate}`);
}

/** The number of output samples `resample` produces for `inputLength` input samples. */
export function resampledLength(inputLength: number, fromRate: number, toRate: number): number {
  return Math.ceil((inputLength * toRate) / fromRate);
}

/**
 * Converts `input` from `fromRate` to `toRate`. The output is aligned with the input (no added
 * delay) and has `resampledLength` samples.
 */
export function resample(input: Float32Array, fromRate: number, toRate: number): Float32Array {
  return runToCompletion(resampleJob(input, fromRate, toRate));
}

/**
 * Turns decoded audio into engine samples: averages the channels to mono, converts to 8 kHz and
 * quantises to 16 bits with clipping. Full scale is ±1.0 ↔ ±32768, so 16-bit 8 kHz mono input
 * comes out bit-exact.
 */
export function toEngineFormat(channels: readonly Float32Array[], sampleRate: number): Int16Array {
  return runToCompletion(engineFormatJob(channels, sampleRate));
}

/**
 * `toEngineFormat` in slices of a few milliseconds, yielding to the event loop between them: a
 * minute of 44.1 kHz audio takes a couple of hundred milliseconds to convert, which must not stall
 * the 20 ms media clock that shares the thread.
 */
export function toEngineFormatAsync(channels: readonly Float32Array[], sampleRate: number): Promise<Int16Array> {
  return runCooperatively(engineFormatJob(channels, sampleRate));
}

// Multiply-adds per slice: about 2–4 ms of work.
const SLICE_WORK = 2_000_000;

function* resampleJob(input: Float32Array, fromRate: number, toRate: number): Job<Float32Array> {
  checkRate(fromRate, 'fromRate');
  checkRate(toRate, 'toRate');
  if (fromRate === toRate) return input.slice();
  const bank = yield* filterBank(fromRate, toRate);
  const out = new Float32Array(resampledLength(input.length, fromRate, toRate));
  const slice = Math.max(256, Math.floor(SLICE_WORK / bank.taps));
  for (let start = 0; start < out.length; start += slice) {
    if (start > 0) yield;
    run(bank, input, out, start, Math.min(out.length, start + slice));
  }
  return out;
}

function* engineFormatJob(channels: readonly Float32Array[], sampleRate: number): Job<Int16Array> {
  checkRate(sampleRate, 'sampleRate');
  const mono = yield* downmixJob(channels);
  const audio = sampleRate === SAMPLE_RATE ? mono : yield* resampleJob(mono, sampleRate, SAMPLE_RATE);
  const out = new Int16Array(audio.length);
  for (let i = 0; i < audio.length; i++) {
    const v = Math.round((audio[i] as number) * 32768);
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return out;
}

function* downmixJob(channels: readonly Float32Array[]): Job<Float32Array> {
  const first = channels[0];
  if (first === undefined) return new Float32Array(0);
  if (channels.length === 1) return first;
  let length = first.length;
  for (const channel of channels) length = Math.min(length, channel.length);
  const mono = new Float32Array(length);
  const scale = 1 / channels.length;
  const slice = Math.max(4096, Math.floor(SLICE_WORK / channels.length));
  for (let start = 0; start < length; start += slice) {
    if (start > 0) yield;
    const end = Math.min(length, start + slice);
    for (const channel of channels) {
      for (let i = start; i < end; i++) mono[i] = (mono[i] as number) + (channel[i] as number);
    }
    for (let i = start; i < end; i++) mono[i] = (mono[i] as number) * scale;
  }
  return mono;
}

/** Fills out[start, end). */
function run(bank: FilterBank, input: Float32Array, out: Float32Array, start: number, end: number): void {
  const { coefficients: h, taps, phases, denominator, stepWhole, stepFraction } = bank;
  const n = input.length;
  const lead = taps / 2 - 1;
  const exactPhases = phases === denominator;
  // Output o sits at o·down/up input samples; tracked as whole + fraction/up so it never drifts.
  const position = start * (stepWhole * denominator + stepFraction);
  // `| 0` keeps both in V8's small-integer representation; as doubles they would turn every
  // array index below into a slow conversion (a 7× slowdown measured).
  let whole = Math.floor(position / denominator) | 0;
  let fraction = (position - whole * denominator) | 0;

  for (let o = start; o < end; o++) {
    let base = whole - lead;
    let phase = fraction;
    if (!exactPhases) {
      phase = Math.round((fraction * phases) / denominator);
      if (phase === phases) {
        phase = 0;
        base++;
      }
    }
    const row = phase * taps;
    let acc = 0;
    if (base >= 0 && base + taps <= n) {
      // Four independent sums let the multiply-adds overlap instead of waiting on each other;
      // `taps` is always a multiple of four.
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      for (let k = 0, i = base, c = row; k < taps; k += 4, i += 4, c += 4) {
        a0 += (input[i] as number) * (h[c] as number);
        a1 += (input[i + 1] as number) * (h[c + 1] as number);
        a2 += (input[i + 2] as number) * (h[c + 2] as number);
        a3 += (input[i + 3] as number) * (h[c + 3] as number);
      }
      acc = a0 + a1 + a2 + a3;
    } else {
      // Near the ends the filter hangs off the signal; treat what is missing as silence.
      const from = Math.max(0, -base);
      const to = Math.min(taps, n - base);
      for (let k = from; k < to; k++) acc += (input[base + k] as number) * (h[row + k] as number);
    }
    out[o] = acc;

    whole += stepWhole;
    fraction += stepFraction;
    if (fraction >= denominator) {
      fraction -= denominator;
      whole++;
    }
  }
}
