/** Small engine-format (16-bit, 8 kHz, mono) helpers shared by the providers and the synthesizer. */
import { SAMPLE_RATE } from '../../media/frame.js';
import { AudioDecodeError } from '../../media/audio/errors.js';
import { toEngineFormat } from '../../media/audio/resample.js';
import { parseWav } from '../../media/audio/wav.js';
import { TtsError } from './errors.js';

export function samplesForMs(ms: number): number {
  return Math.round((ms * SAMPLE_RATE) / 1000);
}

export function durationMs(samples: Int16Array): number {
  return (samples.length * 1000) / SAMPLE_RATE;
}

export function silence(ms: number): Int16Array {
  return new Int16Array(samplesForMs(Math.max(0, ms)));
}

export function concatPcm(chunks: readonly Int16Array[]): Int16Array {
  let length = 0;
  for (const chunk of chunks) length += chunk.length;
  const out = new Int16Array(length);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/**
 * A WAV an engine produced, as engine samples. A WAV with no samples is empty speech (text
 * made only of punctuation), not an error; anything unreadable is the engine's failure.
 */
export function wavToEnginePcm(bytes: Uint8Array, source: string): Int16Array {
  try {
    const audio = parseWav(bytes);
    return toEngineFormat(audio.samples, audio.sampleRate);
  } catch (error) {
    if (error instanceof AudioDecodeError && error.reason === 'empty') return new Int16Array(0);
    const detail = error instanceof Error ? error.message : String(error);
    throw new TtsError('provider_error', `${source} returned audio that is not a usable WAV: ${detail}`, { cause: error });
  }
}

export interface TrimOptions {
  /** Window RMS below this level (dB relative to full scale) counts as silence. */
  thresholdDb?: number;
  /** Silence kept before the first and after the last loud window, so soft onsets survive. */
  padMs?: number;
}

const TRIM_WINDOW = samplesForMs(10);

/**
 * Engines wrap every utterance in 150–250 ms of silence. Left in, it delays the first word and
 * stretches every `<break>` and sentence gap by twice that, so each synthesized stretch is
 * trimmed to a short, fixed margin and the pauses are then exactly the planned ones.
 */
export function trimSilence(samples: Int16Array, options: TrimOptions = {}): Int16Array {
  const threshold = 32768 * 10 ** ((options.thresholdDb ?? -45) / 20);
  const pad = samplesForMs(options.padMs ?? 50);
  const limit = threshold * threshold * TRIM_WINDOW;
  const loud = (start: number): boolean => {
    let energy = 0;
    const end = Math.min(samples.length, start + TRIM_WINDOW);
    for (let i = start; i < end; i++) {
      const v = samples[i] as number;
      energy += v * v;
    }
    return energy > limit;
  };

  let first = -1;
  for (let at = 0; at < samples.length; at += TRIM_WINDOW) {
    if (loud(at)) {
      first = at;
      break;
    }
  }
  if (first < 0) return samples.subarray(0, 0);
  let last = first;
  for (let at = Math.floor((samples.length - 1) / TRIM_WINDOW) * TRIM_WINDOW; at > first; at -= TRIM_WINDOW) {
    if (loud(at)) {
      last = at;
      break;
    }
  }
  const start = Math.max(0, first - pad);
  const end = Math.min(samples.length, last + TRIM_WINDOW + pad);
  return samples.subarray(start, end);
}
