/**
 * Finds the MPEG audio frames (Layer I/II/III, MPEG-1/2/2.5) in a byte stream.
 *
 * mpg123 will happily "decode" random bytes that happen to contain a frame sync, and logs every
 * bad frame to stderr; handing it only a chain of well-formed frames means garbage is rejected up
 * front with a clear error, ID3/APE tags and junk between frames never reach it, and the stream's
 * parameters (rate, channels) are known before decoding starts.
 */

export interface FrameHeader {
  /** 1 for MPEG-1, 2 for MPEG-2, 2.5 for MPEG-2.5. */
  version: 1 | 2 | 2.5;
  layer: 1 | 2 | 3;
  sampleRate: number;
  channels: 1 | 2;
  /** Whole frame, header included. */
  length: number;
  samplesPerFrame: number;
}

export interface FrameScan {
  /** The stream's parameters, from its first frame. */
  first: FrameHeader;
  /** [start, end) byte ranges of frames; adjacent frames are merged into one range. */
  runs: Array<[number, number]>;
  frames: number;
  samples: number;
}

// kbit/s by bitrate index 1..14, per (version family, layer).
const BITRATES = {
  v1l1: [32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
  v1l2: [32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
  v1l3: [32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  v2l1: [32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
  v2l23: [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
} as const;

const SAMPLE_RATES = { 1: [44100, 48000, 32000], 2: [22050, 24000, 16000], 2.5: [11025, 12000, 8000] } as const;

/** How many consecutive frames must line up before a sync word is believed. */
const CHAIN = 3;

/** Parses the 4-byte header at `at`, or returns undefined if it is not a usable frame header. */
export function readFrameHeader(bytes: Uint8Array, at: number): FrameHeader | undefined {
  if (at + 4 > bytes.length) return undefined;
  const b1 = bytes[at + 1] as number;
  const b2 = bytes[at + 2] as number;
  const b3 = bytes[at + 3] as number;
  if (bytes[at] !== 0xff || (b1 & 0xe0) !== 0xe0) return undefined;
  const versionBits = (b1 >> 3) & 3;
  const layerBits = (b1 >> 1) & 3;
  const bitrateIndex = b2 >> 4;
  const rateIndex = (b2 >> 2) & 3;
  // Reserved version/layer/rate, "bad" bitrate, reserved emphasis. Free-format (index 0) streams
  // have no length in the header, so they cannot be framed this way; they are vanishingly rare.
  if (versionBits === 1 || layerBits === 0 || bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3) {
    return undefined;
  }
  if ((b3 & 3) === 2) return undefined;

  const version = versionBits === 3 ? 1 : versionBits === 2 ? 2 : 2.5;
  const layer = (4 - layerBits) as 1 | 2 | 3;
  const sampleRate = SAMPLE_RATES[version][rateIndex] as number;
  const padding = (b2 >> 1) & 1;
  const channels = (b3 >> 6) === 3 ? 1 : 2;

  let table: readonly number[];
  if (version === 1) table = layer === 1 ? BITRATES.v1l1 : layer === 2 ? BITRATES.v1l2 : BITRATES.v1l3;
  else table = layer === 1 ? BITRATES.v2l1 : BITRATES.v2l23;
  const bitrate = (table[bitrateIndex - 1] as number) * 1000;

  let length: number;
  let samplesPerFrame: number;
  if (layer === 1) {
    length = (Math.floor((12 * bitrate) / sampleRate) + padding) * 4;
    samplesPerFrame = 384;
  } else if (layer === 2 || version === 1) {
    length = Math.floor((144 * bitrate) / sampleRate) + padding;
    samplesPerFrame = 1152;
  } else {
    length = Math.floor((72 * bitrate) / sampleRate) + padding;
    samplesPerFrame = 576;
  }
  return { version, layer, sampleRate, channels, length, samplesPerFrame };
}

function sameStream(a: FrameHeader, b: FrameHeader): boolean {
  return a.version === b.version && a.layer === b.layer && a.sampleRate === b.sampleRate;
}

/**
 * True if `CHAIN` frames of the same stream follow each other from `at` (or the chain runs exactly
 * to the end of the data, for very short files).
 */
function chainAt(bytes: Uint8Array, at: number, like?: FrameHeader): FrameHeader | undefined {
  const first = readFrameHeader(bytes, at);
  if (first === undefined || (like !== undefined && !sameStream(first, like))) return undefined;
  let p = at + first.length;
  for (let i = 1; i < CHAIN; i++) {
    if (p === bytes.length) return first;
    const next = readFrameHeader(bytes, p);
    if (next === undefined || !sameStream(first, next)) return undefined;
    p += next.length;
  }
  return p <= bytes.length ? first : undefined;
}

/** Length of the ID3v2 tags at `at` (tags may be stacked), 0 if there are none. */
export function id3v2Length(bytes: Uint8Array, at = 0): number {
  let p = at;
  while (p + 10 <= bytes.length && bytes[p] === 0x49 && bytes[p + 1] === 0x44 && bytes[p + 2] === 0x33) {
    const s = [bytes[p + 6], bytes[p + 7], bytes[p + 8], bytes[p + 9]] as number[];
    if (s.some((b) => b >= 0x80)) break; // sizes are "syncsafe": 7 bits per byte
    const size = ((s[0] as number) << 21) | ((s[1] as number) << 14) | ((s[2] as number) << 7) | (s[3] as number);
    const footer = ((bytes[p + 5] as number) & 0x10) !== 0 ? 10 : 0;
    p += 10 + size + footer;
  }
  return Math.min(p, bytes.length) - at;
}

/** Whether `bytes` starts like an MP3 file: an ID3v2 tag, or a chain of frames at the first byte. */
export function looksLikeMpegAudio(bytes: Uint8Array): boolean {
  const tag = id3v2Length(bytes);
  if (tag > 0) return true;
  return chainAt(bytes, 0) !== undefined;
}

/**
 * Locates every frame of the first MPEG stream found in `bytes`. Bytes that are not frames
 * (tags, junk, a damaged stretch) are skipped by searching for the next believable chain; a final
 * frame cut short is dropped. Returns undefined when there is no believable frame at all.
 */
export function scanFrames(bytes: Uint8Array): FrameScan | undefined {
  let p = id3v2Length(bytes);
  let first: FrameHeader | undefined;
  const runs: Array<[number, number]> = [];
  let frames = 0;
  let samples = 0;
  let runStart = -1;

  while (p < bytes.length) {
    const header = readFrameHeader(bytes, p);
    const fits = header !== undefined && p + header.length <= bytes.length;
    if (first !== undefined && fits && sameStream(header, first)) {
      if (runStart < 0) runStart = p;
      frames++;
      samples += header.samplesPerFrame;
      p += header.length;
      continue;
    }
    // Lost sync (or not found yet): close the current run and hunt for the next chain.
    if (runStart >= 0) runs.push([runStart, p]);
    runStart = -1;
    let found = -1;
    for (let q = first === undefined ? p : p + 1; q + 4 <= bytes.length; q++) {
      if (bytes[q] !== 0xff) continue;
      const head = chainAt(bytes, q, first);
      if (head !== undefined) {
        first ??= head;
        found = q;
        break;
      }
    }
    if (found < 0) break;
    p = found;
  }
  if (runStart >= 0) runs.push([runStart, p]);
  if (first === undefined || frames === 0) return undefined;
  return { first, runs, frames, samples };
}
