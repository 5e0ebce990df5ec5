/** Anything that yields the audio a leg sends: 20 ms frames of 8 kHz PCM, pulled once per tick. */
export interface AudioSource {
  /** The next frame (valid until the next call), or null when there is nothing to send. */
  nextFrame(): Int16Array | null;
}
