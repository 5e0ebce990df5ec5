/**
 * A bank of Goertzel filters: the DFT of one block of samples at a handful of arbitrary
 * frequencies, at one multiply and two adds per sample per frequency, with no buffering.
 *
 * Unlike the usual power-only form, `finish` yields the complex DFT value, referenced to the
 * first sample of the block. Callers need the phase to join consecutive blocks into a longer
 * window and to measure a tone's frequency offset from the phase advance between blocks.
 */
export class GoertzelBank {
  readonly size: number;
  readonly blockSize: number;
  private readonly coef: Float64Array;
  private readonly cosW: Float64Array;
  private readonly sinW: Float64Array;
  /** e^{-jω(N-1)}: moves the filter's output from "last sample" to "first sample" reference. */
  private readonly rotRe: Float64Array;
  private readonly rotIm: Float64Array;
  private readonly s1: Float64Array;
  private readonly s2: Float64Array;

  constructor(frequenciesHz: readonly number[], sampleRate: number, blockSize: number) {
    if (!(blockSize > 0) || !Number.isInteger(blockSize)) throw new RangeError('blockSize must be a positive integer');
    this.size = frequenciesHz.length;
    this.blockSize = blockSize;
    this.coef = new Float64Array(this.size);
    this.cosW = new Float64Array(this.size);
    this.sinW = new Float64Array(this.size);
    this.rotRe = new Float64Array(this.size);
    this.rotIm = new Float64Array(this.size);
    this.s1 = new Float64Array(this.size);
    this.s2 = new Float64Array(this.size);
    frequenciesHz.forEach((f, k) => {
      const w = (2 * Math.PI * f) / sampleRate;
      this.coef[k] = 2 * Math.cos(w);
      this.cosW[k] = Math.cos(w);
      this.sinW[k] = Math.sin(w);
      this.rotRe[k] = Math.cos(w * (blockSize - 1));
      this.rotIm[k] = -Math.sin(w * (blockSize - 1));
    });
  }

  /** Feeds samples[start, end). The caller keeps count: a block is exactly `blockSize` samples. */
  update(samples: ArrayLike<number>, start: number, end: number): void {
    const { coef, s1, s2 } = this;
    let k = 0;
    // Each recursion is a serial chain (every step needs the previous one), so one filter at a
    // time leaves the CPU waiting on latency; four interleaved chains run ~3× faster, and more
    // would spill registers.
    for (; k + 4 <= this.size; k += 4) {
      const c0 = coef[k] as number;
      const c1 = coef[k + 1] as number;
      const c2 = coef[k + 2] as number;
      const c3 = coef[k + 3] as number;
      let a0 = s1[k] as number;
      let b0 = s2[k] as number;
      let a1 = s1[k + 1] as number;
      let b1 = s2[k + 1] as number;
      let a2 = s1[k + 2] as number;
      let b2 = s2[k + 2] as number;
      let a3 = s1[k + 3] as number;
      let b3 = s2[k + 3] as number;
      for (let i = start; i < end; i++) {
        const x = samples[i] as number;
        const y0 = x + c0 * a0 - b0;
        b0 = a0;
        a0 = y0;
        const y1 = x + c1 * a1 - b1;
        b1 = a1;
        a1 = y1;
        const y2 = x + c2 * a2 - b2;
        b2 = a2;
        a2 = y2;
        const y3 = x + c3 * a3 - b3;
        b3 = a3;
        a3 = y3;
      }
      s1[k] = a0;
      s2[k] = b0;
      s1[k + 1] = a1;
      s2[k + 1] = b1;
      s1[k + 2] = a2;
      s2[k + 2] = b2;
      s1[k + 3] = a3;
      s2[k + 3] = b3;
    }
    for (; k < this.size; k++) {
      const c = coef[k] as number;
      let a = s1[k] as number;
      let b = s2[k] as number;
      for (let i = start; i < end; i++) {
        const y = (samples[i] as number) + c * a - b;
        b = a;
        a = y;
      }
      s1[k] = a;
      s2[k] = b;
    }
  }

  /**
   * Writes X_k = Σ_{m<N} x[m]·e^{-jω_k m} for the block just fed into re/im[offset + k] and
   * clears the filters for the next block.
   */
  finish(re: Float64Array, im: Float64Array, offset = 0): void {
    this.output(this.s1, this.s2, 0, re, im, offset);
    this.reset();
  }

  /**
   * `finish` for filter states computed elsewhere (GoertzelPairKernel): filter k's s1 and s2
   * at s1/s2[from + k].
   */
  output(s1: Float64Array, s2: Float64Array, from: number, re: Float64Array, im: Float64Array, offset = 0): void {
    const { cosW, sinW, rotRe, rotIm } = this;
    for (let k = 0; k < this.size; k++) {
      const a = s1[from + k] as number;
      const b = s2[from + k] as number;
      // y = s[N-1] − e^{-jω}·s[N-2] is the DFT referenced to the last sample.
      const yRe = a - (cosW[k] as number) * b;
      const yIm = (sinW[k] as number) * b;
      const rr = rotRe[k] as number;
      const ri = rotIm[k] as number;
      re[offset + k] = yRe * rr - yIm * ri;
      im[offset + k] = yRe * ri + yIm * rr;
    }
  }

  reset(): void {
    this.s1.fill(0);
    this.s2.fill(0);
  }
}
