/**
 * Bytes of a WAV or MP3 file in, engine audio (8 kHz mono 16-bit) out.
 *
 * The container is recognised from the content, not from a URL suffix or Content-Type: both are
 * routinely wrong (".wav" URLs serving MP3, "application/octet-stream" for everything). The hint is
 * only used when the content does not announce itself, e.g. an MP3 that starts with junk.
 */
import { FRAME_SAMPLES, SAMPLE_RATE } from '../frame.js';
import { AudioDecodeError } from './errors.js';
import { decodeMp3 } from './mp3.js';
import { looksLikeMpegAudio } from './mpeg-frames.js';
import { toEngineFormatAsync } from './resample.js';
import type { DecodedAudio } from './types.js';
import { isWav, parseWavAsync } from './wav.js';

export type AudioContainer = 'wav' | 'mp3';

// Formats people try to play that we recognise but do not decode, so the error can say which.
const KNOWN_UNSUPPORTED: ReadonlyArray<[string, (b: Uint8Array) => boolean]> = [
  ['Ogg', (b) => ascii(b, 0, 4) === 'OggS'],
  ['FLAC', (b) => ascii(b, 0, 4) === 'fLaC'],
  ['MP4/M4A', (b) => ascii(b, 4, 4) === 'ftyp'],
  ['AMR', (b) => ascii(b, 0, 5) === '#!AMR'],
  ['AIFF', (b) => ascii(b, 0, 4) === 'FORM' && ascii(b, 8, 3) === 'AIF'],
  ['WebM/Matroska', (b) => b[0] === 0x1a && b[1] === 0x45 && b[2] === 0xdf && b[3] === 0xa3],
  ['big-endian WAV (RIFX)', (b) => ascii(b, 0, 4) === 'RIFX'],
  ['AAC (ADTS)', (b) => b[0] === 0xff && ((b[1] ?? 0) & 0xf6) === 0xf0],
];

function ascii(bytes: Uint8Array, at: number, length: number): string {
  if (at + length > bytes.length) return '';
  return String.fromCharCode(...bytes.subarray(at, at + length));
}

/** The container `bytes` holds, judged by content first and `hint` second. */
export function sniffContainer(bytes: Uint8Array, hint?: AudioContainer): AudioContainer | undefined {
  if (isWav(bytes)) return 'wav';
  if (looksLikeMpegAudio(bytes)) return 'mp3';
  return hint;
}

/** Decodes to the file's own rate and channels. */
export async function decodeToPcm(bytes: Uint8Array, hint?: AudioContainer): Promise<DecodedAudio> {
  if (bytes.length === 0) throw new AudioDecodeError('empty', 'audio file is empty');
  const container = sniffContainer(bytes, hint);
  if (container === 'wav') return parseWavAsync(bytes);
  if (container === 'mp3') return decodeMp3(bytes);
  for (const [name, matches] of KNOWN_UNSUPPORTED) {
    if (matches(bytes)) throw new AudioDecodeError('unsupported', `${name} audio is not supported (use WAV or MP3)`);
  }
  throw new AudioDecodeError('corrupt', `not a WAV or MP3 file${describeStart(bytes)}`);
}

/** Decodes a WAV or MP3 file to engine audio: 8 kHz, mono, 16-bit. */
export async function decodeAudio(bytes: Uint8Array, hint?: AudioContainer): Promise<Int16Array> {
  const pcm = await decodeToPcm(bytes, hint);
  const samples = await toEngineFormatAsync(pcm.samples, pcm.sampleRate);
  if (samples.length === 0) throw new AudioDecodeError('empty', 'audio file holds no samples');
  return samples;
}

/** Duration of engine audio in milliseconds. */
export function durationMs(samples: Int16Array): number {
  return (samples.length * 1000) / SAMPLE_RATE;
}

/** Number of 20 ms engine frames needed to play `samples` (the last one padded). */
export function frameCount(samples: Int16Array): number {
  return Math.ceil(samples.length / FRAME_SAMPLES);
}

// An HTML error page or JSON body served with 200 is the commonest "audio" that is not audio;
// quoting its first characters makes that obvious in a log.
function describeStart(bytes: Uint8Array): string {
  const head = bytes.subarray(0, 16);
  const printable = head.every((b) => b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b < 0x7f));
  if (!printable) return '';
  return ` (starts with ${JSON.stringify(String.fromCharCode(...head))})`;
}
