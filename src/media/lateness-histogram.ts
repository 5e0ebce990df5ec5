/**
 * How late something kept to a clock ran: a count, mean, maximum and percentiles of lateness in
 * milliseconds, at 0.1 ms resolution up to 100 ms (beyond that, one last bucket). Recording is a
 * few stores, with no allocation, so it can sit on the media path.
 *
 * Its memory can be a SharedArrayBuffer written by one thread and read by another (the RTP I/O
 * thread's send times, read by the stats route): a read racing a write may be off by that one
 * record, which statistics can bear.
 */
export interface LatenessSummary {
  count: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

const BUCKET_MS = 0.1;
const BUCKETS = 1001;
/** count, sum, max as float64s, then the buckets. */
const TOTALS = 3;

export class LatenessHistogram {
  /** Bytes of memory one histogram needs; a multiple of 8, so more float64s can follow it. */
  static readonly BYTES = Math.ceil((TOTALS * 8 + BUCKETS * 4) / 8) * 8;
  private readonly totals: Float64Array;
  private readonly buckets: Uint32Array;

  constructor(memory: ArrayBufferLike = new ArrayBuffer(LatenessHistogram.BYTES)) {
    if (memory.byteLength < LatenessHistogram.BYTES) throw new RangeError(`a histogram needs ${LatenessHistogram.BYTES} bytes`);
    this.totals = new Float64Array(memory, 0, TOTALS);
    this.buckets = new Uint32Array(memory, TOTALS * 8, BUCKETS);
  }

  /** Negative lateness (early) counts as on time. */
  record(ms: number): void {
    const late = ms > 0 ? ms : 0;
    const totals = this.totals;
    totals[0] = (totals[0] as number) + 1;
    totals[1] = (totals[1] as number) + late;
    if (late > (totals[2] as number)) totals[2] = late;
    const bucket = Math.min(BUCKETS - 1, Math.floor(late / BUCKET_MS));
    this.buckets[bucket] = (this.buckets[bucket] as number) + 1;
  }

  summary(): LatenessSummary {
    const count = this.totals[0] as number;
    return {
      count,
      meanMs: count > 0 ? (this.totals[1] as number) / count : 0,
      p50Ms: this.percentile(count, 0.5),
      p99Ms: this.percentile(count, 0.99),
      maxMs: this.totals[2] as number,
    };
  }

  /** The upper edge of the bucket that holds the q-quantile. */
  private percentile(count: number, q: number): number {
    const target = Math.ceil(count * q);
    if (target === 0) return 0;
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.buckets[i] as number;
      if (seen >= target) return (i + 1) * BUCKET_MS;
    }
    return this.totals[2] as number;
  }
}
