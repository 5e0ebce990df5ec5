/**
 * Audio as a container decoder hands it over: one float array per channel, nominally in [-1, 1],
 * at the file's own rate. Decoders stop here so that downmixing and rate conversion live in one
 * place (resample.ts) instead of being redone, slightly differently, by each format.
 */
export interface DecodedAudio {
  sampleRate: number;
  channels: number;
  /** One array per channel, all the same length. */
  samples: Float32Array[];
}
