/**
 * In-band DTMF detection for one call leg: 16-bit PCM at 8 kHz in, each digit reported once.
 *
 * Targets (ITU-T Q.24 and the usual Bell/AT&T receiver figures):
 *  - duration: tones of ≥ 40 ms are detected, tones of < 23 ms never are (in between may go
 *    either way); pauses of ≥ 40 ms always separate two presses of the same key, and dropouts of
 *    up to ~13 ms inside a tone are bridged rather than reported as a second press;
 *  - frequency: ±1.5 % accepted, ±3.5 % rejected, per group;
 *  - twist: up to 8 dB normal and 4 dB reverse accepted (see TWIST below);
 *  - levels: −30 … −3 dBm0 per tone accepted (−3 dBm0 per tone is the loudest pair that fits
 *    16-bit PCM unclipped), below −36 dBm0 per tone rejected; 0 dBm0 = sine of peak 22 748
 *    (see `dbm0ToAmplitude`);
 *  - noise: reliable at 15 dB SNR (white noise over the whole band).
 *
 * ANALYSIS. The stream is cut into 10 ms half-blocks (80 samples, aligned to the stream, so a
 * 20 ms frame is exactly two of them and the result does not depend on how audio is framed). For
 * each half-block a Goertzel bank yields the complex DFT at the eight DTMF frequencies; every
 * 10 ms the last two half-blocks form one 20 ms analysis window. Why this shape:
 *  - Selectivity: joining the two halves coherently gives a 160-sample (50 Hz resolution) DFT,
 *    enough to separate adjacent rows (73–89 Hz apart) with > 12 dB to spare at ±1.5 %.
 *  - Frequency: amplitude alone cannot tell 1.5 % from 3.5 % at 697 Hz (10 Hz vs 24 Hz is well
 *    inside the main lobe of any block short enough for the timing limits), so the offset is
 *    *measured*: the phase a tone advances between the two halves, less the bin's own advance,
 *    is 2π·Δf·80/8000, unambiguous to ±50 Hz. Each half's two tones are first separated (a 2×2
 *    solve that removes each tone's leakage into the other's bin, see `prepareKernels`), which
 *    makes the offset good to ~0.1 % and the per-tone levels to ~0.2 dB whatever the twist and
 *    offset, so the twist, level and stability tests can sit close to the Q.24 limits.
 *  - Timing: a window only counts when the pair's level agrees within 2 dB between its two
 *    halves (each tone alone within 4 dB), which a half only reaches when the tone covers
 *    ≳ 80 % of it. A digit needs two consecutive such windows, i.e. three stable halves (the
 *    middle one full): ≥ 80 + 2·64 samples ≈ 26 ms of tone (27 ms in practice, as the residual
 *    test below also fails partly covered halves), so < 23 ms is rejected with margin. Any tone
 *    of ≥ 40 ms (320 samples) contains three whole aligned halves wherever it starts, so it is
 *    always detected. A digit ends after four consecutive failing windows, which a 40 ms pause
 *    always produces (it contains three whole halves) and a dropout under ~13 ms never does.
 *  - Why not the classic single 102–106-sample block: it cannot tell a block the tone fills
 *    from one it partly fills (level is the only clue, and levels vary by 30 dB), so two
 *    confirming blocks accept ~20 ms tones and three miss some 40 ms ones; it also straddles
 *    the 20 ms frames. A plain 160-sample block is coarser still. Two 80-sample halves per
 *    frame give a decision every 10 ms, a within-window stability test, 50 Hz selectivity over
 *    the joined window, and the phase pair that measures frequency.
 *
 * TALK-OFF. Each window must pass, for its strongest row and column:
 *  - level (both tones above the floor) and twist;
 *  - relative peak: each winner beats the rest of its group by ≥ 8 dB (160-sample bins);
 *  - frequency: measured offsets within ±2.5 %, and within 1.2 % of the previous window's when
 *    confirming (a generator's frequency holds still; speech harmonics wander);
 *  - stability (above);
 *  - energy: the two tones carry ≥ 80 % of the window's energy (estimated from the bins, a cheap
 *    pre-filter), then, for windows that could start a digit, the exact version: the fitted
 *    tones are rebuilt sample by sample and subtracted, and the residual must be ≤ 7 % of the
 *    window's energy, with neither tone's second harmonic above −12 dB. The residual is the
 *    harmonic check in its general form (any partial or noise outside the two tones counts
 *    against it), and it is what separates tones from tone-like speech: white noise at 15 dB SNR
 *    leaves ~3 %, the most tone-like windows of the talk-off corpus leave ≥ 11 %.
 *
 * REPORTING. Each digit is reported once, as soon as it is confirmed (≤ 40 ms after it began),
 * with its estimated start in samples. Reporting at the start rather than at the end matters
 * because the engine de-duplicates against RFC 4733 events, which the far end also sends at
 * the start of a press; an end report (with duration) follows separately.
 *
 * COST. Per sample: eight Goertzel recursions and a square; in a half-block too quiet to matter
 * (below about −41 dBm0, see `quietHalf`), only the square. A 20 ms frame on the half-block grid
 * (the media path's case) runs both halves through a WebAssembly SIMD kernel
 * (goertzel-kernel.ts, bit-identical to GoertzelBank): ~0.9 µs a frame of speech, against ~2 µs
 * in JavaScript. Per 10 ms: a few dozen flops for silence or plain speech, a few hundred plus ~20
 * transcendental calls when a window's strongest bins look like a tone pair, and a 160-sample
 * pass when a window could start a digit. No allocation in `process` except the event objects
 * handed to the callbacks.
 */
import { GoertzelBank } from './goertzel.js';
import { goertzelPairKernel, type GoertzelPairKernel } from './goertzel-kernel.js';
import {
  DTMF_HIGH_GROUP_HZ,
  DTMF_KEYS,
  DTMF_LOW_GROUP_HZ,
  SAMPLE_RATE_HZ,
  amplitudeToDbm0,
  dbm0ToAmplitude,
} from './tone-generator.js';
import type { DtmfDigit } from './tone-generator.js';

export type { DtmfDigit } from './tone-generator.js';

/** Samples per half-block (10 ms at 8 kHz). */
export const DTMF_HALF_BLOCK = 80;
/** Consecutive passing windows that confirm a digit. */
const HITS_TO_START = 2;
/** Consecutive failing windows that end a digit. */
const MISSES_TO_END = 4;
/** Half-blocks kept: the start estimate looks three halves back, the end estimate one ahead. */
const RING = 8;
/** Half-blocks of samples kept (see `samples`). */
const SAMPLE_HALVES = 3;
const BINS = 8;

export interface DtmfDigitEvent {
  digit: DtmfDigit;
  /** Estimated first sample of the tone, counted from construction or the last `reset()`. */
  startSample: number;
  /** Sample position at which the digit was confirmed (end of the deciding half-block). */
  detectedAtSample: number;
}

export interface DtmfDigitEndEvent {
  digit: DtmfDigit;
  startSample: number;
  /** Estimated sample just past the tone. */
  endSample: number;
  durationMs: number;
}

/**
 * Measurements of one 20 ms window, for tuning and diagnostics. The same object is reused for
 * every window: copy what you need to keep.
 */
export interface DtmfWindowAnalysis {
  /** Sample position at the end of the window. */
  endSample: number;
  /** The digit this window passed for, or null. */
  digit: DtmfDigit | null;
  /** Strongest row/column (0-3), whether or not the window passed. */
  row: number;
  col: number;
  /** Winner's power over the next strongest in its group, dB. */
  rowPeakDb: number;
  colPeakDb: number;
  /** Measured frequency offsets as a fraction of the nominal frequency. */
  rowOffset: number;
  colOffset: number;
  rowLevelDbm0: number;
  colLevelDbm0: number;
  /** Row level minus column level, dB: positive = normal twist. */
  twistDb: number;
  /** Level change of the pair (amplitude sum) between the window's two halves, dB. */
  instabilityDb: number;
  /** Largest level change of either tone on its own between the two halves, dB. */
  toneInstabilityDb: number;
  /** Level-corrected power of the two tones over the window's total power. */
  toneEnergyRatio: number;
  /** Share of the window's energy left after subtracting the fitted tones. */
  residualRatio: number;
  /** Strongest second harmonic of either tone relative to that tone, dB. */
  secondHarmonicDb: number;
}

export interface DtmfDetectorOptions {
  onDigit?: (event: DtmfDigitEvent) => void;
  onDigitEnd?: (event: DtmfDigitEndEvent) => void;
  /** Called after every window with its measurements (reused object). */
  onAnalysis?: (analysis: Readonly<DtmfWindowAnalysis>) => void;
  /** Per-tone level floor, dBm0. Default −33: between −30 (accepted) and −36 (rejected). */
  minLevelDbm0?: number;
  /**
   * Largest accepted normal twist (high group weaker than low group), dB. Default 9: Q.24's
   * 8 dB with a 1 dB guard for measurement error; 10 dB is rejected.
   */
  maxNormalTwistDb?: number;
  /** Largest accepted reverse twist (high group stronger), dB. Default 5 (4 dB + guard). */
  maxReverseTwistDb?: number;
  /**
   * Largest accepted frequency error, fraction. Default 0.025, midway between 1.5 % and 3.5 %.
   * The measurement wraps at ±50 Hz, so values above 0.03 cannot be honoured for 1633 Hz.
   */
  maxFrequencyError?: number;
  /**
   * Largest change of either measured frequency offset between the two windows that confirm a
   * digit, as a fraction. Default 0.012: real tones stay within 0.9 % even at 10 dB SNR.
   */
  maxFrequencyDrift?: number;
  /** Relative peak test, dB. Default 8. */
  minPeakRatioDb?: number;
  /**
   * Tone-energy ratio, estimated from the bins: the two tones' power over the window's. Default
   * 0.8. A cheap pre-filter (the estimate is good to ±5 %); `maxResidualRatio` is the exact test.
   */
  minToneEnergyRatio?: number;
  /**
   * Largest share of a window's energy left once the two fitted tones are subtracted. Default
   * 0.07: white noise at 15 dB SNR leaves ~0.03, so this accepts down to ~12 dB SNR, while the
   * most tone-like speech in the talk-off corpus leaves ≥ 0.11.
   */
  maxResidualRatio?: number;
  /**
   * Largest second harmonic of either tone, relative to that tone, dB. Default −12: real
   * generators are far cleaner, and noise at 15 dB SNR reaches −18 dB only on the weak tone at
   * 8 dB twist.
   */
  maxSecondHarmonicDb?: number;
  /**
   * Largest level change of the pair (amplitude sum) between the halves of a window, dB.
   * Default 2. This is what bounds the shortest detectable tone (see ANALYSIS).
   */
  maxInstabilityDb?: number;
  /**
   * Largest level change of either tone alone between the halves, dB. Default 4: looser than
   * the pair's, because at 8 dB twist and 15 dB SNR the weak tone alone fluctuates by ~3 dB.
   */
  maxToneInstabilityDb?: number;
}

const ALL_FREQUENCIES = [...DTMF_LOW_GROUP_HZ, ...DTMF_HIGH_GROUP_HZ];
/** The filters over a frame's two halves at once, shared by every detector on this thread. */
const pairKernel = goertzelPairKernel(ALL_FREQUENCIES, SAMPLE_RATE_HZ, DTMF_HALF_BLOCK);
/** The kernel's two input halves, as views made once. */
const kernelHalves = pairKernel && [pairKernel.input.subarray(0, DTMF_HALF_BLOCK), pairKernel.input.subarray(DTMF_HALF_BLOCK)];
/** Filter states of a half that was too quiet to analyse: the bank at rest. */
const AT_REST = new Float64Array(BINS);

/*
 * TWIST. Twist is the level difference between the two tones of a pair. We follow the Bell
 * System convention used by the 8 dB / 4 dB figures (and by spandsp's dtmf.c, whose test
 * accepts `col_energy * normal_twist > row_energy` and `col_energy < row_energy * reverse_twist`):
 * "normal" twist is the high-group (column) tone arriving *weaker* than the low-group (row) tone,
 * the usual case because cable loss grows with frequency; "reverse" twist is the high-group
 * tone arriving stronger. Some chip datasheets instead quote a signed 20·log(high/low), under
 * which our normal twist is negative.
 */

/** Writes G(δ) = Σ_{m<H} e^{jδm} = e^{jδ(H−1)/2}·sin(δH/2)/sin(δ/2) to out[i], out[i + 1]. */
function kernel(delta: number, out: Float64Array, i: number): void {
  const den = Math.sin(delta / 2);
  const mag = Math.abs(den) < 1e-12 ? DTMF_HALF_BLOCK : Math.sin((delta * DTMF_HALF_BLOCK) / 2) / den;
  const phase = (delta * (DTMF_HALF_BLOCK - 1)) / 2;
  out[i] = mag * Math.cos(phase);
  out[i + 1] = mag * Math.sin(phase);
}

/** |z| of the complex number stored at v[i], v[i + 1]. */
function magnitude(v: Float64Array, i: number): number {
  const x = v[i] as number;
  const y = v[i + 1] as number;
  return Math.sqrt(x * x + y * y);
}

export class DtmfDetector {
  private readonly bank = new GoertzelBank(ALL_FREQUENCIES, SAMPLE_RATE_HZ, DTMF_HALF_BLOCK);
  private readonly onDigit: ((event: DtmfDigitEvent) => void) | undefined;
  private readonly onDigitEnd: ((event: DtmfDigitEndEvent) => void) | undefined;
  private readonly onAnalysis: ((analysis: Readonly<DtmfWindowAnalysis>) => void) | undefined;

  // Thresholds, precomputed in the linear domain.
  private readonly minAmplitude: number;
  private readonly maxNormalTwist: number;
  private readonly maxReverseTwist: number;
  private readonly peakRatio: number;
  private readonly minRatio: number;
  private readonly maxInstability: number;
  private readonly maxResidual: number;
  private readonly maxHarmonic: number;
  private readonly maxToneInstability: number;
  private readonly maxOffset: number;
  private readonly maxDrift: number;
  /**
   * Energy (sum of squares) below which a half-block is not analysed. A window passes only if
   * each tone in each half reaches m = 2·floor/(1 + tone instability) (the level floor on the
   * mean of the halves, the instability bound between them), and a tone of amplitude a in a
   * half of energy E is measured at most 2·√(E/H) (Cauchy–Schwarz), times 1.25 for the
   * two-tone separation: so a half with E < H·m²/8 cannot pass. Callers listening to silence
   * or a quiet line (most of an IVR call) then cost a copy and a square per sample. Off when
   * `onAnalysis` wants every window's true measurements.
   */
  private readonly quietHalf: number;
  /** Per bin: e^{-jωH}, the bin's own phase advance over one half-block. */
  private readonly advRe = new Float64Array(BINS);
  private readonly advIm = new Float64Array(BINS);
  /** Per bin: nominal frequency, rad/sample. */
  private readonly omega = new Float64Array(BINS);
  // Scratch for the two-tone separation.
  private readonly kernels = new Float64Array(8);
  private readonly inverse = new Float64Array(8);
  /** Separated tones: row then column (re, im) for the first half, then the same for the second. */
  private readonly tones = new Float64Array(8);

  /**
   * The last half-blocks' samples, half i at offset (i mod 3)·80: `verify` reads the last two,
   * and a whole frame puts both its halves in before the first is judged.
   */
  private readonly samples = new Int16Array(SAMPLE_HALVES * DTMF_HALF_BLOCK);
  // Half-block ring.
  private readonly re = new Float64Array(RING * BINS);
  private readonly im = new Float64Array(RING * BINS);
  private readonly energy = new Float64Array(RING);
  private halfFill = 0;
  private halfEnergy = 0;
  /** Completed half-blocks since reset; half i covers samples [80i, 80i + 80). */
  private halves = 0;

  // Digit state machine.
  private current = -1;
  private currentStart = 0;
  private misses = 0;
  /** Half index ending the last window that passed for the current digit. */
  private lastHitHalf = 0;
  private candidate = -1;
  private candidateHits = 0;
  private candidateLastHalf = -1;
  private candidateRowOffset = 0;
  private candidateColOffset = 0;
  /** Results of the last `verify`. */
  private residual = 1;
  private harmonic = 1;
  /** Measured frequency offsets (fractions) of the last evaluated window. */
  private rowOffset = 0;
  private colOffset = 0;

  private readonly analysis: DtmfWindowAnalysis = {
    endSample: 0, digit: null, row: 0, col: 0, rowPeakDb: 0, colPeakDb: 0, rowOffset: 0, colOffset: 0,
    rowLevelDbm0: 0, colLevelDbm0: 0, twistDb: 0, instabilityDb: 0, toneInstabilityDb: 0,
    toneEnergyRatio: 0, residualRatio: Number.NaN, secondHarmonicDb: Number.NaN,
  };

  constructor(options: DtmfDetectorOptions = {}) {
    this.onDigit = options.onDigit;
    this.onDigitEnd = options.onDigitEnd;
    this.onAnalysis = options.onAnalysis;
    this.minAmplitude = dbm0ToAmplitude(options.minLevelDbm0 ?? -33);
    this.maxNormalTwist = 10 ** ((options.maxNormalTwistDb ?? 9) / 20);
    this.maxReverseTwist = 10 ** ((options.maxReverseTwistDb ?? 5) / 20);
    this.peakRatio = 10 ** ((options.minPeakRatioDb ?? 8) / 10);
    this.minRatio = options.minToneEnergyRatio ?? 0.8;
    this.maxInstability = 10 ** ((options.maxInstabilityDb ?? 2) / 20);
    this.maxResidual = options.maxResidualRatio ?? 0.07;
    this.maxHarmonic = 10 ** ((options.maxSecondHarmonicDb ?? -12) / 20);
    this.maxToneInstability = 10 ** ((options.maxToneInstabilityDb ?? 4) / 20);
    this.maxOffset = options.maxFrequencyError ?? 0.025;
    this.maxDrift = options.maxFrequencyDrift ?? 0.012;
    const weakest = (2 * this.minAmplitude) / (1 + this.maxToneInstability);
    this.quietHalf = this.onAnalysis ? 0 : (DTMF_HALF_BLOCK * weakest * weakest) / 8;
    ALL_FREQUENCIES.forEach((f, k) => {
      const w = (2 * Math.PI * f) / SAMPLE_RATE_HZ;
      this.omega[k] = w;
      this.advRe[k] = Math.cos(w * DTMF_HALF_BLOCK);
      this.advIm[k] = -Math.sin(w * DTMF_HALF_BLOCK);
    });
  }

  /** Samples consumed since construction or the last reset. */
  get position(): number {
    return this.halves * DTMF_HALF_BLOCK + this.halfFill;
  }

  /** The digit whose tone is currently present, if any. */
  get activeDigit(): DtmfDigit | null {
    return this.current >= 0 ? (DTMF_KEYS[this.current] ?? null) : null;
  }

  /** Feeds one frame (any length; normally 160 samples). */
  process(frame: Int16Array): void {
    if (pairKernel !== null && kernelHalves !== null && this.halfFill === 0 && frame.length === 2 * DTMF_HALF_BLOCK) {
      this.processAlignedFrame(frame, pairKernel, kernelHalves);
      return;
    }
    let i = 0;
    const n = frame.length;
    while (i < n) {
      const take = Math.min(DTMF_HALF_BLOCK - this.halfFill, n - i);
      let e = this.halfEnergy;
      const ring = this.samples;
      const at = (this.halves % SAMPLE_HALVES) * DTMF_HALF_BLOCK + this.halfFill - i;
      for (let j = i; j < i + take; j++) {
        const s = frame[j] as number;
        e += s * s;
        ring[at + j] = s;
      }
      // A whole half too quiet to hold tones that could pass keeps the bank at rest: its bins
      // stay zero, which every test treats as it would the true, tiny ones (see `quietHalf`).
      const wholeQuietHalf = take === DTMF_HALF_BLOCK && e < this.quietHalf;
      if (!wholeQuietHalf) this.bank.update(frame, i, i + take);
      this.halfEnergy = e;
      this.halfFill += take;
      i += take;
      if (this.halfFill === DTMF_HALF_BLOCK) {
        this.bank.finish(this.re, this.im, this.slot() * BINS);
        this.completeHalf();
      }
    }
  }

  /**
   * The usual case, a 20 ms frame on the half-block grid: both halves through the SIMD kernel.
   * Everything is taken out of the kernel, which every detector on the thread shares, before the
   * first half is judged: judging can call back into code that feeds another detector.
   */
  private processAlignedFrame(frame: Int16Array, kernel: GoertzelPairKernel, halves: readonly Int16Array[]): void {
    kernel.input.set(frame);
    kernel.measureEnergy();
    const energyA = kernel.energy[0] as number;
    const energyB = kernel.energy[1] as number;
    const quietA = energyA < this.quietHalf;
    const quietB = energyB < this.quietHalf;
    if (!quietA || !quietB) kernel.filter();
    for (let h = 0; h < 2; h++) {
      const half = this.halves + h;
      this.samples.set(halves[h] as Int16Array, (half % SAMPLE_HALVES) * DTMF_HALF_BLOCK);
      // The same states the JavaScript path would have: the bank's own for a loud half, at rest for a quiet one.
      const quiet = h === 0 ? quietA : quietB;
      this.bank.output(quiet ? AT_REST : kernel.s1, quiet ? AT_REST : kernel.s2, quiet ? 0 : h * BINS, this.re, this.im, (half % RING) * BINS);
    }
    this.halfEnergy = energyA;
    this.completeHalf();
    this.halfEnergy = energyB;
    this.completeHalf();
  }

  /** Forgets all audio and any digit in progress (no end event) and restarts sample counting. */
  reset(): void {
    this.bank.reset();
    this.re.fill(0);
    this.im.fill(0);
    this.energy.fill(0);
    this.halfFill = 0;
    this.halfEnergy = 0;
    this.halves = 0;
    this.current = -1;
    this.misses = 0;
    this.candidate = -1;
    this.candidateHits = 0;
    this.candidateLastHalf = -1;
  }

  /** Ring slot of the half being filled. */
  private slot(): number {
    return this.halves % RING;
  }

  /** Closes the half whose bins are already in the ring: judges the window it ends. */
  private completeHalf(): void {
    const slot = this.slot();
    this.energy[slot] = this.halfEnergy;
    this.halfEnergy = 0;
    this.halfFill = 0;
    const index = this.halves;
    this.halves++;
    if (index >= 1) this.onWindow(index, this.evaluate((index - 1) % RING, slot, index));
  }

  /** Judges the window made of the halves in ring slots a (earlier) and b; returns a key or −1. */
  private evaluate(a: number, b: number, index: number): number {
    const { re, im } = this;
    const ab = a * BINS;
    const bb = b * BINS;
    const totalPower = ((this.energy[a] as number) + (this.energy[b] as number)) / (2 * DTMF_HALF_BLOCK);
    // Silence (or anything too quiet to hold two tones above the floor) skips the analysis.
    if (totalPower < this.minAmplitude * this.minAmplitude && !this.onAnalysis) return -1;

    let row = 0;
    let rowBest = -1;
    let rowNext = 0;
    let col = 4;
    let colBest = -1;
    let colNext = 0;
    for (let k = 0; k < BINS; k++) {
      // Coherent 160-sample DFT: first half plus the second half rotated back by one half.
      const bRe = re[bb + k] as number;
      const bIm = im[bb + k] as number;
      const cr = this.advRe[k] as number;
      const ci = this.advIm[k] as number;
      const fRe = (re[ab + k] as number) + bRe * cr - bIm * ci;
      const fIm = (im[ab + k] as number) + bRe * ci + bIm * cr;
      const p = fRe * fRe + fIm * fIm;
      if (k < 4) {
        if (p > rowBest) {
          rowNext = rowBest < 0 ? 0 : rowBest;
          rowBest = p;
          row = k;
        } else if (p > rowNext) rowNext = p;
      } else if (p > colBest) {
        colNext = colBest < 0 ? 0 : colBest;
        colBest = p;
        col = k;
      } else if (p > colNext) colNext = p;
    }

    const ok = rowBest >= rowNext * this.peakRatio && colBest >= colNext * this.peakRatio;
    if (!ok && !this.onAnalysis) return -1;

    // Separate the two tones in each half (see `separate`), first at the frequencies implied by
    // the raw phase advance, then again at the frequencies the separated phases imply.
    let rowDelta = this.advanceError(
      re[ab + row] as number, im[ab + row] as number, re[bb + row] as number, im[bb + row] as number, row,
    ) / DTMF_HALF_BLOCK;
    let colDelta = this.advanceError(
      re[ab + col] as number, im[ab + col] as number, re[bb + col] as number, im[bb + col] as number, col,
    ) / DTMF_HALF_BLOCK;
    const t = this.tones;
    for (let round = 0; round < 2; round++) {
      this.prepareKernels(row, col, rowDelta, colDelta);
      this.separate(ab, row, col, 0);
      this.separate(bb, row, col, 4);
      rowDelta = this.advanceError(t[0] as number, t[1] as number, t[4] as number, t[5] as number, row) / DTMF_HALF_BLOCK;
      colDelta = this.advanceError(t[2] as number, t[3] as number, t[6] as number, t[7] as number, col) / DTMF_HALF_BLOCK;
    }
    const rowOffset = rowDelta / (this.omega[row] as number);
    const colOffset = colDelta / (this.omega[col] as number);
    this.rowOffset = rowOffset;
    this.colOffset = colOffset;
    // Peak amplitudes of each tone in each half.
    const rowA = 2 * magnitude(t, 0);
    const colA = 2 * magnitude(t, 2);
    const rowB = 2 * magnitude(t, 4);
    const colB = 2 * magnitude(t, 6);
    const rowAmp = (rowA + rowB) / 2;
    const colAmp = (colA + colB) / 2;
    const tonePower = (rowAmp * rowAmp + colAmp * colAmp) / 2;
    const pairA = rowA + colA;
    const pairB = rowB + colB;
    const s = this.maxInstability;
    const st = this.maxToneInstability;

    const pass =
      rowAmp >= this.minAmplitude &&
      colAmp >= this.minAmplitude &&
      rowAmp <= colAmp * this.maxNormalTwist &&
      colAmp <= rowAmp * this.maxReverseTwist &&
      ok &&
      Math.abs(rowOffset) <= this.maxOffset &&
      Math.abs(colOffset) <= this.maxOffset &&
      pairA <= pairB * s && pairB <= pairA * s &&
      rowA <= rowB * st && rowB <= rowA * st &&
      colA <= colB * st && colB <= colA * st &&
      tonePower >= this.minRatio * totalPower;
    // The fine checks run only where they decide something: a window that could start a digit.
    const run = (pass && row * 4 + (col - 4) !== this.current) || this.onAnalysis !== undefined;
    if (run) this.verify(index, row, col, rowDelta, colDelta, rowAmp, colAmp);
    const confirmed =
      pass &&
      (row * 4 + (col - 4) === this.current ||
        (this.residual <= this.maxResidual && this.harmonic <= this.maxHarmonic));
    const key = confirmed ? row * 4 + (col - 4) : -1;

    if (this.onAnalysis) {
      const out = this.analysis;
      const db = (x: number, y: number): number => 10 * Math.log10(Math.max(x, 1e-30) / Math.max(y, 1e-30));
      out.endSample = (index + 1) * DTMF_HALF_BLOCK;
      out.digit = key >= 0 ? (DTMF_KEYS[key] ?? null) : null;
      out.row = row;
      out.col = col - 4;
      out.rowPeakDb = db(rowBest, rowNext);
      out.colPeakDb = db(colBest, colNext);
      out.rowOffset = rowOffset;
      out.colOffset = colOffset;
      out.rowLevelDbm0 = amplitudeToDbm0(Math.max(rowAmp, 1e-9));
      out.colLevelDbm0 = amplitudeToDbm0(Math.max(colAmp, 1e-9));
      out.twistDb = out.rowLevelDbm0 - out.colLevelDbm0;
      out.instabilityDb = Math.abs(db(pairA * pairA, pairB * pairB));
      out.toneInstabilityDb = Math.max(Math.abs(db(rowA * rowA, rowB * rowB)), Math.abs(db(colA * colA, colB * colB)));
      out.toneEnergyRatio = totalPower > 0 ? tonePower / totalPower : 0;
      out.residualRatio = this.residual;
      out.secondHarmonicDb = 20 * Math.log10(Math.max(this.harmonic, 1e-9));
      this.onAnalysis(out);
    }
    return key;
  }

  /**
   * The fine checks, over the window's samples: rebuilds the two fitted tones, subtracts them,
   * and measures what is left (`residual`, as a share of the window's energy) and the second
   * harmonic of each tone (`harmonic`, amplitude relative to that tone). The bin-based energy
   * ratio has to allow ±5 % for estimation error; the residual does not, so it can be strict.
   * Second harmonics are weighed separately because speech that mimics a tone pair usually does
   * so with two harmonics of one voice, whose neighbours (2f among them) are present too, while
   * a DTMF generator's distortion is far below −20 dB.
   */
  private verify(index: number, row: number, col: number, rowDelta: number, colDelta: number, rowAmp: number, colAmp: number): void {
    const w1 = (this.omega[row] as number) + rowDelta;
    const w2 = (this.omega[col] as number) + colDelta;
    const c1 = Math.cos(w1);
    const s1 = Math.sin(w1);
    const c2 = Math.cos(w2);
    const s2 = Math.sin(w2);
    const g1 = 2 * Math.cos(2 * w1);
    const g2 = 2 * Math.cos(2 * w2);
    const ring = this.samples;
    const t = this.tones;
    let residual = 0;
    let total = 0;
    let p1 = 0;
    let q1 = 0;
    let p2 = 0;
    let q2 = 0;
    for (let h = 0; h < 2; h++) {
      const off = ((index - 1 + h) % SAMPLE_HALVES) * DTMF_HALF_BLOCK;
      // Each half has its own fitted phasors (a/2), referenced to its first sample.
      let zr = t[4 * h] as number;
      let zi = t[4 * h + 1] as number;
      let yr = t[4 * h + 2] as number;
      let yi = t[4 * h + 3] as number;
      for (let m = 0; m < DTMF_HALF_BLOCK; m++) {
        const x = ring[off + m] as number;
        const r = x - 2 * (zr + yr);
        residual += r * r;
        total += x * x;
        const nz = zr * c1 - zi * s1;
        zi = zr * s1 + zi * c1;
        zr = nz;
        const ny = yr * c2 - yi * s2;
        yi = yr * s2 + yi * c2;
        yr = ny;
        // Harmonics are sought in the residual: in the raw signal the other group's tone leaks
        // into them (2·697 Hz is only 58 Hz from 1336 Hz).
        const a = r + g1 * p1 - q1;
        q1 = p1;
        p1 = a;
        const b = r + g2 * p2 - q2;
        q2 = p2;
        p2 = b;
      }
    }
    this.residual = total > 0 ? residual / total : 1;
    const n = 2 * DTMF_HALF_BLOCK;
    // Goertzel power |X|² = p² + q² − g·p·q; a tone of peak A gives |X| = A·n/2.
    const h1 = (2 * Math.sqrt(Math.max(0, p1 * p1 + q1 * q1 - g1 * p1 * q1))) / n;
    const h2 = (2 * Math.sqrt(Math.max(0, p2 * p2 + q2 * q2 - g2 * p2 * q2))) / n;
    this.harmonic = Math.max(h1 / Math.max(rowAmp, 1e-9), h2 / Math.max(colAmp, 1e-9));
  }

  /**
   * Phase a tone advanced from (aRe, aIm) in one half to (bRe, bIm) in the next, beyond bin k's
   * own advance: 2π·Δf·H/fs, in (−π, π].
   */
  private advanceError(aRe: number, aIm: number, bRe: number, bIm: number, k: number): number {
    // X_b·conj(X_a)·e^{-jωH}
    const pRe = bRe * aRe + bIm * aIm;
    const pIm = bIm * aRe - bRe * aIm;
    const cr = this.advRe[k] as number;
    const ci = this.advIm[k] as number;
    return Math.atan2(pRe * ci + pIm * cr, pRe * cr - pIm * ci);
  }

  /**
   * Prepares `separate` for a row tone at ω_row + rowDelta and a column tone at ω_col + colDelta
   * (rad/sample). Bin j of a half then reads X_j = Σ_i (a_i/2)·G(ω_i − ω_j), G(δ) = Σ_{m<H} e^{jδm},
   * where a_i is tone i's complex amplitude at the half's start; inverting that 2×2 system
   * removes each tone's leakage into the other's bin. Without it, at 8 dB twist the row tone's
   * sidelobe moves the column bin by up to ±2 dB from one half to the next, which would swamp
   * the stability and twist tests. (Each tone's mirror image at −ω is left in: ≤ 0.3 dB.)
   */
  private prepareKernels(row: number, col: number, rowDelta: number, colDelta: number): void {
    const wr = this.omega[row] as number;
    const wc = this.omega[col] as number;
    const g = this.kernels;
    kernel(rowDelta, g, 0); // row tone → row bin
    kernel(wc + colDelta - wr, g, 2); // column tone → row bin
    kernel(wr + rowDelta - wc, g, 4); // row tone → column bin
    kernel(colDelta, g, 6); // column tone → column bin
    const g11r = g[0] as number;
    const g11i = g[1] as number;
    const g12r = g[2] as number;
    const g12i = g[3] as number;
    const g21r = g[4] as number;
    const g21i = g[5] as number;
    const g22r = g[6] as number;
    const g22i = g[7] as number;
    const detRe = g11r * g22r - g11i * g22i - (g12r * g21r - g12i * g21i);
    const detIm = g11r * g22i + g11i * g22r - (g12r * g21i + g12i * g21r);
    const m = detRe * detRe + detIm * detIm;
    // 1/det, then the adjugate scaled by it.
    const dr = detRe / m;
    const di = -detIm / m;
    const inv = this.inverse;
    inv[0] = g22r * dr - g22i * di;
    inv[1] = g22r * di + g22i * dr;
    inv[2] = -(g12r * dr - g12i * di);
    inv[3] = -(g12r * di + g12i * dr);
    inv[4] = -(g21r * dr - g21i * di);
    inv[5] = -(g21r * di + g21i * dr);
    inv[6] = g11r * dr - g11i * di;
    inv[7] = g11r * di + g11i * dr;
  }

  /** Writes the two tones' half-amplitudes (a/2) in the half at ring offset `base` to tones[out..out+3]. */
  private separate(base: number, row: number, col: number, out: number): void {
    const xr = this.re[base + row] as number;
    const xi = this.im[base + row] as number;
    const yr = this.re[base + col] as number;
    const yi = this.im[base + col] as number;
    const inv = this.inverse;
    const a = inv[0] as number;
    const b = inv[1] as number;
    const c = inv[2] as number;
    const d = inv[3] as number;
    const e = inv[4] as number;
    const f = inv[5] as number;
    const g = inv[6] as number;
    const h = inv[7] as number;
    const t = this.tones;
    t[out] = a * xr - b * xi + (c * yr - d * yi);
    t[out + 1] = a * xi + b * xr + (c * yi + d * yr);
    t[out + 2] = e * xr - f * xi + (g * yr - h * yi);
    t[out + 3] = e * xi + f * xr + (g * yi + h * yr);
  }

  /** Sum of the digit's two bin magnitudes in half `index` (0 outside the ring). */
  private pairMagnitude(index: number, key: number): number {
    if (index < 0 || index >= this.halves || index < this.halves - RING) return 0;
    const base = (index % RING) * BINS;
    const r = base + (key >> 2);
    const c = base + 4 + (key & 3);
    return (
      Math.sqrt((this.re[r] as number) ** 2 + (this.im[r] as number) ** 2) +
      Math.sqrt((this.re[c] as number) ** 2 + (this.im[c] as number) ** 2)
    );
  }

  /** Fraction (0–1) of half `index` that the tone covers, judged against a full half `ref`. */
  private coverage(index: number, ref: number, key: number): number {
    const full = this.pairMagnitude(ref, key);
    if (full <= 0) return 0;
    return Math.min(1, this.pairMagnitude(index, key) / full);
  }

  private onWindow(index: number, key: number): void {
    if (key >= 0 && key === this.current) {
      this.misses = 0;
      this.lastHitHalf = index;
      this.candidate = -1;
      this.candidateHits = 0;
      return;
    }
    if (this.current >= 0) {
      this.misses++;
      if (this.misses >= MISSES_TO_END) this.endDigit();
    }
    if (key < 0) {
      this.candidate = -1;
      this.candidateHits = 0;
      return;
    }
    // A generator's frequencies hold still; speech harmonics that stray into both bins wander.
    if (
      key === this.candidate &&
      this.candidateLastHalf === index - 1 &&
      Math.abs(this.rowOffset - this.candidateRowOffset) <= this.maxDrift &&
      Math.abs(this.colOffset - this.candidateColOffset) <= this.maxDrift
    ) {
      this.candidateHits++;
    } else {
      this.candidate = key;
      this.candidateHits = 1;
    }
    this.candidateLastHalf = index;
    this.candidateRowOffset = this.rowOffset;
    this.candidateColOffset = this.colOffset;
    if (this.candidateHits >= HITS_TO_START) {
      if (this.current >= 0) this.endDigit();
      this.startDigit(key, index);
    }
  }

  private startDigit(key: number, index: number): void {
    // Windows (index−2, index−1) and (index−1, index) passed; half index−1 is surely full.
    const first = index - 2;
    const lead = this.coverage(first, index - 1, key);
    const before = this.coverage(first - 1, index - 1, key);
    // Either the tone began inside the first half (lead < 1, nothing before) or inside the
    // half before it (lead ≈ 1, `before` is its share); the sum handles both.
    const start = Math.max(0, Math.round((first + 1 - lead - before) * DTMF_HALF_BLOCK));
    this.current = key;
    this.currentStart = start;
    this.misses = 0;
    this.lastHitHalf = index;
    this.candidate = -1;
    this.candidateHits = 0;
    const digit = DTMF_KEYS[key];
    if (digit !== undefined) {
      this.onDigit?.({ digit, startSample: start, detectedAtSample: (index + 1) * DTMF_HALF_BLOCK });
    }
  }

  private endDigit(): void {
    const key = this.current;
    const last = this.lastHitHalf;
    // Mirror of the start estimate: the tone ends inside the last passing half or the next one.
    const tail = this.coverage(last, last - 1, key);
    const after = this.coverage(last + 1, last - 1, key);
    const end = Math.max(this.currentStart, Math.round((last + tail + after) * DTMF_HALF_BLOCK));
    this.current = -1;
    this.misses = 0;
    const digit = DTMF_KEYS[key];
    if (digit !== undefined) {
      this.onDigitEnd?.({
        digit,
        startSample: this.currentStart,
        endSample: end,
        durationMs: ((end - this.currentStart) * 1000) / SAMPLE_RATE_HZ,
      });
    }
  }
}
