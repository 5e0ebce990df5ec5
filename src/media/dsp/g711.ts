/**
 * ITU-T G.711 µ-law (PCMU, RTP payload type 0) and A-law (PCMA, payload type 8).
 *
 * The arithmetic follows the ITU/Sun reference (g711.c) so that our bytes match every other
 * implementation bit for bit. It runs once at load to fill lookup tables; per-sample work is then
 * one table read, and the *Into functions write into caller-owned arrays so the 20 ms media path
 * allocates nothing.
 */

export type G711Name = 'PCMU' | 'PCMA';

export interface G711Codec {
  readonly name: G711Name;
  /** Static RTP payload type (RFC 3551). */
  readonly payloadType: number;
  /** The code for digital silence, to pad or send when there is no audio. */
  readonly silenceCode: number;
  encodeSample(sample: number): number;
  decodeSample(code: number): number;
  /**
   * Decodes `length` codes of `payload` starting at `payloadOffset` into `out` at `outOffset`.
   * Stops early when `out` is full; returns the number of samples written.
   */
  decodeInto(payload: Uint8Array, out: Int16Array, payloadOffset?: number, length?: number, outOffset?: number): number;
  /** Encodes `count` samples of `pcm` into `out` at `outOffset`; returns the number of bytes written. */
  encodeInto(pcm: Int16Array, out: Uint8Array, outOffset?: number, count?: number): number;
}

const SIGN_BIT = 0x80;
const QUANT_MASK = 0x0f;
const SEG_SHIFT = 4;
const SEG_MASK = 0x70;
const ULAW_BIAS = 0x84;
// 14-bit magnitude after the >>2: the largest value µ-law can represent before the bias.
const ULAW_CLIP = 8159;
const SEG_AEND = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff] as const;
const SEG_UEND = [0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff] as const;

function segment(value: number, ends: readonly number[]): number {
  for (let i = 0; i < ends.length; i++) {
    if (value <= (ends[i] as number)) return i;
  }
  return ends.length;
}

function referenceLinearToUlaw(sample: number): number {
  let pcm = sample >> 2;
  let mask: number;
  if (pcm < 0) {
    pcm = -pcm;
    mask = 0x7f;
  } else {
    mask = 0xff;
  }
  if (pcm > ULAW_CLIP) pcm = ULAW_CLIP;
  pcm += ULAW_BIAS >> 2;
  const seg = segment(pcm, SEG_UEND);
  if (seg >= 8) return 0x7f ^ mask;
  return ((seg << 4) | ((pcm >> (seg + 1)) & QUANT_MASK)) ^ mask;
}

function referenceUlawToLinear(code: number): number {
  const u = ~code & 0xff;
  let t = ((u & QUANT_MASK) << 3) + ULAW_BIAS;
  t <<= (u & SEG_MASK) >> SEG_SHIFT;
  return u & SIGN_BIT ? ULAW_BIAS - t : t - ULAW_BIAS;
}

function referenceLinearToAlaw(sample: number): number {
  let pcm = sample >> 3;
  let mask: number;
  if (pcm >= 0) {
    mask = 0xd5;
  } else {
    mask = 0x55;
    pcm = -pcm - 1;
  }
  const seg = segment(pcm, SEG_AEND);
  if (seg >= 8) return 0x7f ^ mask;
  const mantissa = seg < 2 ? (pcm >> 1) & QUANT_MASK : (pcm >> seg) & QUANT_MASK;
  return ((seg << SEG_SHIFT) | mantissa) ^ mask;
}

function referenceAlawToLinear(code: number): number {
  const a = code ^ 0x55;
  let t = (a & QUANT_MASK) << 4;
  const seg = (a & SEG_MASK) >> SEG_SHIFT;
  if (seg === 0) t += 8;
  else if (seg === 1) t += 0x108;
  else t = (t + 0x108) << (seg - 1);
  return a & SIGN_BIT ? t : -t;
}

// µ-law only looks at the top 14 bits of a sample and A-law at the top 13, so the encode tables
// are indexed by those bits (two's complement) rather than by all 65536 sample values.
const ULAW_INDEX_SHIFT = 2;
const ALAW_INDEX_SHIFT = 3;
const ULAW_INDEX_MASK = 0x3fff;
const ALAW_INDEX_MASK = 0x1fff;

const ulawDecodeTable = new Int16Array(256);
const alawDecodeTable = new Int16Array(256);
const ulawEncodeTable = new Uint8Array(ULAW_INDEX_MASK + 1);
const alawEncodeTable = new Uint8Array(ALAW_INDEX_MASK + 1);

for (let code = 0; code < 256; code++) {
  ulawDecodeTable[code] = referenceUlawToLinear(code);
  alawDecodeTable[code] = referenceAlawToLinear(code);
}
for (let i = 0; i <= ULAW_INDEX_MASK; i++) {
  // Sign-extend the 14-bit index back to a 16-bit sample with the dropped bits zero.
  ulawEncodeTable[i] = referenceLinearToUlaw(((i << 18) >> 18) << ULAW_INDEX_SHIFT);
}
for (let i = 0; i <= ALAW_INDEX_MASK; i++) {
  alawEncodeTable[i] = referenceLinearToAlaw(((i << 19) >> 19) << ALAW_INDEX_SHIFT);
}

function makeCodec(
  name: G711Name,
  payloadType: number,
  decodeTable: Int16Array,
  encodeTable: Uint8Array,
  shift: number,
  mask: number,
): G711Codec {
  return {
    name,
    payloadType,
    silenceCode: encodeTable[0] as number,
    encodeSample: (sample) => encodeTable[(sample >> shift) & mask] as number,
    decodeSample: (code) => decodeTable[code & 0xff] as number,
    decodeInto(payload, out, payloadOffset = 0, length = payload.length - payloadOffset, outOffset = 0) {
      const n = Math.max(0, Math.min(length, payload.length - payloadOffset, out.length - outOffset));
      for (let i = 0; i < n; i++) {
        out[outOffset + i] = decodeTable[payload[payloadOffset + i] as number] as number;
      }
      return n;
    },
    encodeInto(pcm, out, outOffset = 0, count = pcm.length) {
      const n = Math.max(0, Math.min(count, pcm.length, out.length - outOffset));
      for (let i = 0; i < n; i++) {
        out[outOffset + i] = encodeTable[((pcm[i] as number) >> shift) & mask] as number;
      }
      return n;
    },
  };
}

export const PCMU: G711Codec = makeCodec('PCMU', 0, ulawDecodeTable, ulawEncodeTable, ULAW_INDEX_SHIFT, ULAW_INDEX_MASK);
export const PCMA: G711Codec = makeCodec('PCMA', 8, alawDecodeTable, alawEncodeTable, ALAW_INDEX_SHIFT, ALAW_INDEX_MASK);

export function g711Codec(name: G711Name): G711Codec {
  return name === 'PCMU' ? PCMU : PCMA;
}
