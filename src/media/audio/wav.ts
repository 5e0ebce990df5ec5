/**
 * RIFF/WAVE reading and writing.
 *
 * The reader is deliberately forgiving about the things real-world WAVs get wrong (a RIFF size
 * that disagrees with the file, a data chunk cut short by an interrupted download or a streaming
 * writer that never patched its sizes, chunks we have never heard of) and strict about the things
 * that would make us play noise (an impossible format, no data at all).
 */
import { PCMA, PCMU, type G711Codec } from '../dsp/g711.js';
import { runCooperatively, runToCompletion, type Job } from './cooperative.js';
import { AudioDecodeError } from './errors.js';
import type { DecodedAudio } from './types.js';
import { littleEndianHost } from '../../util/endian.js';

const FORMAT_PCM = 0x0001;
const FORMAT_IEEE_FLOAT = 0x0003;
const FORMAT_ALAW = 0x0006;
const FORMAT_MULAW = 0x0007;
const FORMAT_EXTENSIBLE = 0xfffe;

// Every KSDATAFORMAT_SUBTYPE_* GUID for a classic format tag is that tag followed by these bytes.
const SUBFORMAT_GUID_TAIL = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];

// Bounds that no genuine file exceeds; beyond them the header is garbage, not an exotic format.
const MAX_CHANNELS = 64;
const MAX_SAMPLE_RATE = 1_536_000;
const MIN_SAMPLE_RATE = 1000;

// RF64 files set the 32-bit sizes to this and carry the real ones in a ds64 chunk; streaming
// writers use the same value to mean "unknown, read to the end".
const SIZE_UNKNOWN = 0xffffffff;

interface WavFormat {
  tag: number;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
}

export function isWav(bytes: Uint8Array): boolean {
  return bytes.length >= 12 && isRiffHeader(bytes) && fourcc(bytes, 8) === 'WAVE';
}

function isRiffHeader(bytes: Uint8Array): boolean {
  const id = fourcc(bytes, 0);
  return id === 'RIFF' || id === 'RF64';
}

function fourcc(bytes: Uint8Array, offset: number): string {
  return String.fromCharCode(
    bytes[offset] as number,
    bytes[offset + 1] as number,
    bytes[offset + 2] as number,
    bytes[offset + 3] as number,
  );
}

export function parseWav(bytes: Uint8Array): DecodedAudio {
  return runToCompletion(wavJob(bytes));
}

/** `parseWav` in slices, yielding to the event loop between them (for long files). */
export function parseWavAsync(bytes: Uint8Array): Promise<DecodedAudio> {
  return runCooperatively(wavJob(bytes));
}

function* wavJob(bytes: Uint8Array): Job<DecodedAudio> {
  if (bytes.length === 0) throw new AudioDecodeError('empty', 'WAV file is empty');
  if (bytes.length < 12 || !isRiffHeader(bytes)) {
    if (bytes.length >= 4 && fourcc(bytes, 0) === 'RIFX') {
      throw new AudioDecodeError('unsupported', 'big-endian (RIFX) WAV is not supported');
    }
    throw new AudioDecodeError('corrupt', 'not a RIFF file');
  }
  if (fourcc(bytes, 8) !== 'WAVE') throw new AudioDecodeError('corrupt', 'RIFF file is not WAVE');

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let format: WavFormat | undefined;
  let dataOffset = -1;
  let dataLength = 0;
  let ds64DataSize: number | undefined;

  let offset = 12;
  while (offset + 8 <= bytes.length) {
    const id = fourcc(bytes, offset);
    const declared = view.getUint32(offset + 4, true);
    const body = offset + 8;
    const available = bytes.length - body;

    if (id === 'ds64' && declared >= 24 && available >= 24) {
      // Only the data size matters to us; a 64-bit value above 2^53 is not a file we can hold anyway.
      ds64DataSize = view.getUint32(body + 16, true) + view.getUint32(body + 20, true) * 2 ** 32;
    } else if (id === 'fmt ') {
      if (declared < 16 || available < 16) throw new AudioDecodeError('corrupt', 'WAV fmt chunk is too short');
      format = readFormat(view, body, Math.min(declared, available));
    } else if (id === 'data') {
      let size = declared;
      if (declared === SIZE_UNKNOWN) size = ds64DataSize ?? available;
      // Some streaming writers leave the size at 0; if what follows is not another chunk, it is
      // the audio.
      if (declared === 0 && available > 0 && !looksLikeChunkId(bytes, body)) size = available;
      dataOffset = body;
      dataLength = Math.min(size, available);
      // Anything after a data chunk is metadata we do not use; once we have both chunks, stop
      // rather than trust sizes that truncated or streamed files often get wrong.
      if (format !== undefined || size > available) break;
      offset = body + size + (size & 1);
      continue;
    }

    if (declared > available) break;
    // Chunks are word-aligned: an odd-sized chunk is followed by one pad byte.
    offset = body + declared + (declared & 1);
  }

  if (format === undefined) throw new AudioDecodeError('corrupt', 'WAV has no fmt chunk');
  if (dataOffset < 0) throw new AudioDecodeError('corrupt', 'WAV has no data chunk');
  return yield* decodeSamples(bytes, view, format, dataOffset, dataLength);
}

function looksLikeChunkId(bytes: Uint8Array, at: number): boolean {
  if (at + 8 > bytes.length) return false;
  for (let i = at; i < at + 4; i++) {
    const c = bytes[i] as number;
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

function readFormat(view: DataView, at: number, length: number): WavFormat {
  let tag = view.getUint16(at, true);
  const channels = view.getUint16(at + 2, true);
  const sampleRate = view.getUint32(at + 4, true);
  const bitsPerSample = view.getUint16(at + 14, true);

  if (tag === FORMAT_EXTENSIBLE) {
    // cbSize(2) validBits(2) channelMask(4) then the 16-byte sub-format GUID.
    if (length < 40) throw new AudioDecodeError('corrupt', 'WAVE_FORMAT_EXTENSIBLE fmt chunk is too short');
    const guid = at + 24;
    for (let i = 0; i < SUBFORMAT_GUID_TAIL.length; i++) {
      if (view.getUint8(guid + 2 + i) !== SUBFORMAT_GUID_TAIL[i]) {
        throw new AudioDecodeError('unsupported', 'WAV sub-format is not a standard format GUID');
      }
    }
    tag = view.getUint16(guid, true);
  }

  if (channels < 1 || channels > MAX_CHANNELS) {
    throw new AudioDecodeError('corrupt', `WAV declares ${channels} channels`);
  }
  if (sampleRate < MIN_SAMPLE_RATE || sampleRate > MAX_SAMPLE_RATE) {
    throw new AudioDecodeError('corrupt', `WAV declares a sample rate of ${sampleRate} Hz`);
  }
  switch (tag) {
    case FORMAT_PCM:
      if (bitsPerSample < 1 || bitsPerSample > 32) {
        throw new AudioDecodeError('unsupported', `${bitsPerSample}-bit integer PCM WAV is not supported`);
      }
      break;
    case FORMAT_IEEE_FLOAT:
      if (bitsPerSample !== 32 && bitsPerSample !== 64) {
        throw new AudioDecodeError('unsupported', `${bitsPerSample}-bit float WAV is not supported`);
      }
      break;
    case FORMAT_ALAW:
    case FORMAT_MULAW:
      if (bitsPerSample !== 8) {
        throw new AudioDecodeError('unsupported', `${bitsPerSample}-bit G.711 WAV is not supported`);
      }
      break;
    default:
      throw new AudioDecodeError('unsupported', `WAV format tag 0x${tag.toString(16).padStart(4, '0')} is not supported`);
  }
  return { tag, channels, sampleRate, bitsPerSample };
}

// Samples converted per slice: a few milliseconds of work.
const SLICE_SAMPLES = 1 << 20;

function* decodeSamples(
  bytes: Uint8Array,
  view: DataView,
  format: WavFormat,
  dataOffset: number,
  dataLength: number,
): Job<DecodedAudio> {
  const { channels } = format;
  // Samples narrower than their container (12-bit in 16, 20-bit in 24) are stored left-justified,
  // so reading the whole container as a signed integer already gives the right scale.
  const width = Math.ceil(format.bitsPerSample / 8);
  const stride = width * channels;
  // A trailing partial frame is the signature of a truncated download: drop it, keep the rest.
  const frames = Math.floor(dataLength / stride);
  if (frames === 0) throw new AudioDecodeError('empty', 'WAV data chunk holds no samples');

  const samples: Float32Array[] = [];
  for (let c = 0; c < channels; c++) samples.push(new Float32Array(frames));
  const framesPerSlice = Math.max(1, Math.floor(SLICE_SAMPLES / channels));
  for (let first = 0; first < frames; first += framesPerSlice) {
    if (first > 0) yield;
    const last = Math.min(frames, first + framesPerSlice);
    for (let c = 0; c < channels; c++) {
      convert(bytes, view, format, samples[c] as Float32Array, dataOffset + first * stride + c * width, stride, first, last);
    }
  }
  return { sampleRate: format.sampleRate, channels, samples };
}

/** Converts out[first, last) of one channel, whose sample `first` starts at byte `p`. */
function convert(
  bytes: Uint8Array,
  view: DataView,
  format: WavFormat,
  out: Float32Array,
  p: number,
  stride: number,
  first: number,
  last: number,
): void {
  const { tag } = format;
  const width = Math.ceil(format.bitsPerSample / 8);
  if (tag === FORMAT_IEEE_FLOAT) {
    if (width === 4) readFloat32(view, p, stride, out, first, last);
    else readFloat64(view, p, stride, out, first, last);
  } else if (tag === FORMAT_MULAW || tag === FORMAT_ALAW) {
    const table = g711Table(tag === FORMAT_MULAW ? PCMU : PCMA);
    for (let i = first; i < last; i++, p += stride) out[i] = table[bytes[p] as number] as number;
  } else if (width === 1) {
    // 8-bit WAV is the one unsigned PCM width: 128 is silence.
    for (let i = first; i < last; i++, p += stride) out[i] = ((bytes[p] as number) - 128) / 128;
  } else if (width === 2) {
    for (let i = first; i < last; i++, p += stride) {
      out[i] = ((((bytes[p + 1] as number) << 24) | ((bytes[p] as number) << 16)) >> 16) / 32768;
    }
  } else if (width === 3) {
    for (let i = first; i < last; i++, p += stride) {
      const v = ((bytes[p + 2] as number) << 24) | ((bytes[p + 1] as number) << 16) | ((bytes[p] as number) << 8);
      out[i] = (v >> 8) / 8388608;
    }
  } else {
    for (let i = first; i < last; i++, p += stride) out[i] = view.getInt32(p, true) / 2147483648;
  }
}

// Float files may carry NaN or ±Infinity (a crashed synthesiser, a bad edit); either would smear
// through the resampling filter into a burst of garbage, so they become silence here.
function readFloat32(view: DataView, p: number, stride: number, out: Float32Array, first: number, last: number): void {
  for (let i = first; i < last; i++, p += stride) {
    const v = view.getFloat32(p, true);
    out[i] = Number.isFinite(v) ? v : 0;
  }
}

function readFloat64(view: DataView, p: number, stride: number, out: Float32Array, first: number, last: number): void {
  for (let i = first; i < last; i++, p += stride) {
    const v = view.getFloat64(p, true);
    out[i] = Number.isFinite(v) ? v : 0;
  }
}

const g711Tables = new Map<G711Codec, Float32Array>();

function g711Table(codec: G711Codec): Float32Array {
  let table = g711Tables.get(codec);
  if (table === undefined) {
    table = new Float32Array(256);
    for (let code = 0; code < 256; code++) table[code] = codec.decodeSample(code) / 32768;
    g711Tables.set(codec, table);
  }
  return table;
}

const HEADER_BYTES = 44;

/** Writes 16-bit PCM WAV; multi-channel `samples` are interleaved. */
export function encodeWav(samples: Int16Array, sampleRate = 8000, channels = 1): Uint8Array<ArrayBuffer> {
  if (!Number.isInteger(channels) || channels < 1 || channels > MAX_CHANNELS) {
    throw new RangeError(`channels must be an integer from 1 to ${MAX_CHANNELS}`);
  }
  if (!Number.isInteger(sampleRate) || sampleRate < 1) throw new RangeError('sampleRate must be a positive integer');
  if (samples.length % channels !== 0) throw new RangeError('sample count is not a whole number of frames');
  const dataBytes = samples.length * 2;
  if (HEADER_BYTES - 8 + dataBytes > SIZE_UNKNOWN - 1) throw new RangeError('audio too long for a WAV file');

  const out = new Uint8Array(HEADER_BYTES + dataBytes);
  const view = new DataView(out.buffer);
  const ascii = (at: number, text: string): void => {
    for (let i = 0; i < 4; i++) out[at + i] = text.charCodeAt(i);
  };
  ascii(0, 'RIFF');
  view.setUint32(4, HEADER_BYTES - 8 + dataBytes, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, FORMAT_PCM, true);
  view.setUint16(22, channels, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * channels * 2, true);
  view.setUint16(32, channels * 2, true);
  view.setUint16(34, 16, true);
  ascii(36, 'data');
  view.setUint32(40, dataBytes, true);

  if (littleEndianHost) {
    out.set(new Uint8Array(samples.buffer, samples.byteOffset, dataBytes), HEADER_BYTES);
  } else {
    for (let i = 0; i < samples.length; i++) view.setInt16(HEADER_BYTES + i * 2, samples[i] as number, true);
  }
  return out;
}
