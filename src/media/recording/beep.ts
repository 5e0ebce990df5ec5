/**
 * The beep played to the call when a recording starts (`play_beep`): 1 kHz for 250 ms at
 * −10 dBm0, the customary "you are being recorded" tone — clearly audible over a call at normal
 * speech level without being startling. 5 ms raised-cosine ramps at each end keep it free of
 * the clicks (and the broadband splatter a detector on the far end could trip on) that a sine
 * switched on and off abruptly makes.
 */
import { SAMPLE_RATE } from '../frame.js';
import { addSine, dbm0ToAmplitude, toPcm16 } from '../dsp/tone-generator.js';

export interface BeepOptions {
  frequencyHz?: number;
  durationMs?: number;
  levelDbm0?: number;
  rampMs?: number;
}

export const RECORDING_BEEP: Readonly<Required<BeepOptions>> = {
  frequencyHz: 1000,
  durationMs: 250,
  levelDbm0: -10,
  rampMs: 5,
};

/** The beep as 8 kHz 16-bit PCM (a new array each call; 2000 samples by default). */
export function recordingBeep(options: BeepOptions = {}): Int16Array {
  const { frequencyHz, durationMs, levelDbm0, rampMs } = { ...RECORDING_BEEP, ...options };
  const length = Math.round((durationMs * SAMPLE_RATE) / 1000);
  const signal = new Float64Array(length);
  addSine(signal, 0, length, frequencyHz, dbm0ToAmplitude(levelDbm0));
  const ramp = Math.min(Math.floor(length / 2), Math.round((rampMs * SAMPLE_RATE) / 1000));
  for (let i = 0; i < ramp; i++) {
    const gain = 0.5 - 0.5 * Math.cos((Math.PI * (i + 0.5)) / ramp);
    signal[i] = (signal[i] as number) * gain;
    signal[length - 1 - i] = (signal[length - 1 - i] as number) * gain;
  }
  return toPcm16(signal);
}
