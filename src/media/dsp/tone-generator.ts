/**
 * The DTMF tone plan (ITU-T Q.23), the level reference shared by the DTMF generator and
 * detector, and a small sine synthesiser. The synthesiser renders into Float64Array so callers
 * can mix tones and noise before a single saturating conversion to 16-bit PCM.
 */

export const SAMPLE_RATE_HZ = 8000;

/** Low group: one frequency per keypad row. */
export const DTMF_LOW_GROUP_HZ: readonly number[] = [697, 770, 852, 941];
/** High group: one frequency per keypad column. */
export const DTMF_HIGH_GROUP_HZ: readonly number[] = [1209, 1336, 1477, 1633];

export type DtmfDigit =
  | '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9' | '*' | '#' | 'A' | 'B' | 'C' | 'D';

/** Keys in row-major order: key index = row * 4 + column. */
export const DTMF_KEYS: readonly DtmfDigit[] = [
  '1', '2', '3', 'A',
  '4', '5', '6', 'B',
  '7', '8', '9', 'C',
  '*', '0', '#', 'D',
];

export const DTMF_DIGITS: readonly DtmfDigit[] = [
  '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#', 'A', 'B', 'C', 'D',
];

export function isDtmfDigit(value: string): value is DtmfDigit {
  return (DTMF_KEYS as readonly string[]).includes(value);
}

export function dtmfFrequencies(digit: DtmfDigit): { lowHz: number; highHz: number } {
  const key = DTMF_KEYS.indexOf(digit);
  const lowHz = DTMF_LOW_GROUP_HZ[key >> 2];
  const highHz = DTMF_HIGH_GROUP_HZ[key & 3];
  if (lowHz === undefined || highHz === undefined) throw new Error(`not a DTMF digit: ${digit}`);
  return { lowHz, highHz };
}

/**
 * Level reference. G.711 µ-law puts the codec's full-scale sine at +3.17 dBm0 (its "theoretical
 * load capacity"); we map that full scale onto the 16-bit range, so a sine of peak amplitude
 * 32767 is +3.17 dBm0 and 0 dBm0 is a sine of peak ≈ 22 748. (A-law's +3.14 dBm0 differs by
 * 0.03 dB, which no threshold here cares about.)
 */
export const FULL_SCALE_SINE_DBM0 = 3.17;
const FULL_SCALE = 32767;

/** Peak amplitude, in 16-bit PCM units, of a sine at `dbm0`. */
export function dbm0ToAmplitude(dbm0: number): number {
  return FULL_SCALE * 10 ** ((dbm0 - FULL_SCALE_SINE_DBM0) / 20);
}

/** Level in dBm0 of a sine of peak amplitude `amplitude` (16-bit PCM units). */
export function amplitudeToDbm0(amplitude: number): number {
  return 20 * Math.log10(amplitude / FULL_SCALE) + FULL_SCALE_SINE_DBM0;
}

/** Adds `amplitude * sin(2π f n / rate + phase)` to out[offset, offset + length). */
export function addSine(
  out: Float64Array,
  offset: number,
  length: number,
  frequencyHz: number,
  amplitude: number,
  phaseRad = 0,
  sampleRate = SAMPLE_RATE_HZ,
): void {
  const w = (2 * Math.PI * frequencyHz) / sampleRate;
  const end = Math.min(out.length, offset + length);
  for (let n = Math.max(0, offset); n < end; n++) {
    // Computing each sample directly (rather than by recursion) keeps long tones free of
    // accumulated amplitude drift, which would otherwise skew level-sensitive tests.
    out[n] = (out[n] ?? 0) + amplitude * Math.sin(w * (n - offset) + phaseRad);
  }
}

export interface DtmfToneOptions {
  /** Level of the low-group (row) tone in dBm0. Default −10. */
  levelDbm0?: number;
  /**
   * Low-group level minus high-group level, in dB: positive is "normal" twist (high group
   * weaker), negative is "reverse" twist (high group stronger). Default 0.
   */
  twistDb?: number;
  /** Relative frequency error applied to the low-group tone, e.g. 0.015 for +1.5 %. */
  lowFrequencyError?: number;
  /** Relative frequency error applied to the high-group tone. */
  highFrequencyError?: number;
  lowPhaseRad?: number;
  highPhaseRad?: number;
  sampleRate?: number;
}

/** Adds one DTMF tone pair for `digit` to out[offset, offset + length). */
export function addDtmf(
  out: Float64Array,
  offset: number,
  length: number,
  digit: DtmfDigit,
  options: DtmfToneOptions = {},
): void {
  const { lowHz, highHz } = dtmfFrequencies(digit);
  const level = options.levelDbm0 ?? -10;
  const twist = options.twistDb ?? 0;
  const rate = options.sampleRate ?? SAMPLE_RATE_HZ;
  addSine(out, offset, length, lowHz * (1 + (options.lowFrequencyError ?? 0)), dbm0ToAmplitude(level), options.lowPhaseRad ?? 0, rate);
  addSine(out, offset, length, highHz * (1 + (options.highFrequencyError ?? 0)), dbm0ToAmplitude(level - twist), options.highPhaseRad ?? 0, rate);
}

/** Rounds to 16-bit PCM, saturating as a real codec path would rather than wrapping. */
export function toPcm16(signal: Float64Array): Int16Array {
  const out = new Int16Array(signal.length);
  for (let i = 0; i < signal.length; i++) {
    const v = Math.round(signal[i] ?? 0);
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return out;
}
