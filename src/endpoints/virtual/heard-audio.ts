import { FRAME_SAMPLES, SAMPLE_RATE } from '../../media/frame.js';

/** Samples per stored chunk: one second, so appending never copies what is already stored. */
const CHUNK_SAMPLES = SAMPLE_RATE;

/**
 * Everything a virtual phone heard, frame by frame from answer (silence where nothing played),
 * up to a cap: enough to check a prompt or two in a test without unbounded memory.
 */
export class HeardAudio {
  private readonly chunks: Int16Array[] = [];
  private filled = CHUNK_SAMPLES;
  private total = 0;

  constructor(private readonly maxSamples: number) {}

  get samples(): number {
    return this.total;
  }

  get full(): boolean {
    return this.total >= this.maxSamples;
  }

  /** Appends one frame; null is a frame of silence. */
  append(frame: Int16Array | null): void {
    if (this.full) return;
    if (this.filled === CHUNK_SAMPLES) {
      this.chunks.push(new Int16Array(CHUNK_SAMPLES));
      this.filled = 0;
    }
    const chunk = this.chunks[this.chunks.length - 1] as Int16Array;
    if (frame) chunk.set(frame.subarray(0, FRAME_SAMPLES), this.filled);
    this.filled += FRAME_SAMPLES;
    this.total += FRAME_SAMPLES;
  }

  /** One contiguous copy of what was heard. */
  pcm(): Int16Array {
    const out = new Int16Array(this.total);
    let at = 0;
    for (const chunk of this.chunks) {
      const n = Math.min(chunk.length, this.total - at);
      out.set(chunk.subarray(0, n), at);
      at += n;
    }
    return out;
  }
}
