/**
 * The engine's one audio format: 20 ms frames of signed 16-bit PCM at 8 kHz. Codecs, sample-rate
 * conversion and packetisation happen only at the edges (RTP, recordings), so everything in the
 * middle (mixing, detection, playback) agrees on this shape without negotiating.
 */
export const SAMPLE_RATE = 8000;
export const FRAME_MS = 20;
export const FRAME_SAMPLES = (SAMPLE_RATE * FRAME_MS) / 1000;

export function createFrame(): Int16Array {
  return new Int16Array(FRAME_SAMPLES);
}
