/**
 * MP3 (and MPEG Layer I/II) decoding through mpg123 compiled to WebAssembly.
 *
 * We frame the stream ourselves (mpeg-frames.ts) and feed the decoder a few hundred milliseconds
 * of audio at a time, yielding to the event loop in between: a minute of MP3 is several hundred
 * milliseconds of decoder work, far too long to hold the thread that also runs the 20 ms media
 * clock.
 */
import { MPEGDecoder } from 'mpg123-decoder';
import { yieldToEventLoop } from './cooperative.js';
import { AudioDecodeError } from './errors.js';
import { readFrameHeader, scanFrames } from './mpeg-frames.js';
import type { DecodedAudio } from './types.js';

// Output samples per decoder call before yielding: ~0.5 s of 44.1 kHz audio, a few ms of work.
const SAMPLES_PER_SLICE = 24_000;

/**
 * Compiles the decoder's WebAssembly ahead of the first playback. The first decoder otherwise
 * pays ~100–200 ms of compilation, part of it on the main thread; calling this at startup moves
 * that out of a live call.
 */
export async function prepareMp3Decoder(): Promise<void> {
  const decoder = new MPEGDecoder();
  try {
    await decoder.ready;
  } finally {
    decoder.free();
  }
}

export async function decodeMp3(bytes: Uint8Array): Promise<DecodedAudio> {
  if (bytes.length === 0) throw new AudioDecodeError('empty', 'MP3 file is empty');
  const scan = scanFrames(bytes);
  if (scan === undefined) throw new AudioDecodeError('corrupt', 'no MPEG audio frames found');

  const stereo = scan.first.channels === 2;
  const decoder = new MPEGDecoder();
  const left: Float32Array[] = [];
  const right: Float32Array[] = [];
  let total = 0;
  let sampleRate = 0;
  let errors = 0;
  try {
    await decoder.ready;
    for (const [start, end] of scan.runs) {
      let p = start;
      while (p < end) {
        // Cut slices on frame boundaries so each call decodes whole frames.
        let q = p;
        let sliceSamples = 0;
        while (q < end && sliceSamples < SAMPLES_PER_SLICE) {
          const length = readFrameHeader(bytes, q)?.length;
          if (length === undefined) {
            q = end; // cannot happen inside a run; never loop forever if it does
            break;
          }
          q += length;
          sliceSamples += scan.first.samplesPerFrame;
        }
        const result = quietly(() => decoder.decode(bytes.subarray(p, Math.min(q, end))));
        errors += result.errors.length;
        if (result.samplesDecoded > 0) {
          sampleRate = result.sampleRate;
          left.push(result.channelData[0] ?? new Float32Array(result.samplesDecoded));
          // mpg123-decoder always returns two channels; for a mono stream the second is a copy.
          if (stereo) right.push(result.channelData[1] ?? new Float32Array(result.samplesDecoded));
          total += result.samplesDecoded;
        }
        p = q;
        await yieldToEventLoop();
      }
    }
  } catch (err) {
    if (err instanceof AudioDecodeError) throw err;
    throw new AudioDecodeError('corrupt', `MP3 decoder failed: ${(err as Error)?.message ?? String(err)}`, {
      cause: err,
    });
  } finally {
    try {
      decoder.free();
    } catch {
      // Freeing a decoder whose instantiation failed has nothing to free.
    }
  }

  if (total === 0) {
    throw new AudioDecodeError('corrupt', `MP3 frames did not decode (${errors} decoder errors)`);
  }
  const samples = stereo ? [concat(left, total), concat(right, total)] : [concat(left, total)];
  return { sampleRate: sampleRate || scan.first.sampleRate, channels: samples.length, samples };
}

/**
 * mpg123-decoder reports each bad frame with console.error as well as in its result. For a remote,
 * user-supplied file that is a log-flooding vector, and the result already tells us; since
 * `decode` is synchronous, silencing the console for the duration of the call cannot swallow
 * anyone else's output.
 */
function quietly<T>(fn: () => T): T {
  const original = console.error;
  console.error = () => {};
  try {
    return fn();
  } finally {
    console.error = original;
  }
}

function concat(parts: Float32Array[], total: number): Float32Array {
  if (parts.length === 1 && parts[0]?.length === total) return parts[0];
  const out = new Float32Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part.subarray(0, total - offset), offset);
    offset += part.length;
    if (offset >= total) break;
  }
  return out;
}
