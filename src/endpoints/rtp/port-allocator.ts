/**
 * Hands out even UDP ports from a configured range (RTP on even ports, RFC 3550 §11, leaves the
 * odd neighbour to RTCP). Freed ports go to the back of the queue: reusing a port that was just
 * closed would deliver the old call's straggling packets to the new call.
 */
export class PortAllocator {
  readonly min: number;
  readonly max: number;
  private readonly queue: Uint16Array;
  private readonly inUse: Uint8Array;
  private head = 0;
  private count: number;

  constructor(range: { min: number; max: number }) {
    const min = range.min + (range.min % 2);
    const max = range.max - (range.max % 2);
    if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1024 || max > 65534 || max < min) {
      throw new RangeError(`invalid RTP port range ${range.min}-${range.max}`);
    }
    this.min = min;
    this.max = max;
    const size = (max - min) / 2 + 1;
    this.queue = new Uint16Array(size);
    this.inUse = new Uint8Array(size);
    for (let i = 0; i < size; i++) this.queue[i] = min + i * 2;
    this.count = size;
  }

  get capacity(): number {
    return this.queue.length;
  }

  get available(): number {
    return this.count;
  }

  /** The next free port, or null when the range is exhausted. */
  allocate(): number | null {
    if (this.count === 0) return null;
    const port = this.queue[this.head] as number;
    this.head = (this.head + 1) % this.queue.length;
    this.count--;
    this.inUse[(port - this.min) / 2] = 1;
    return port;
  }

  /** Returns a port. Ports not from this allocator, or already free, are ignored. */
  release(port: number): void {
    if (!Number.isInteger(port) || port < this.min || port > this.max || port % 2 !== 0) return;
    const slot = (port - this.min) / 2;
    if (this.inUse[slot] !== 1) return;
    this.inUse[slot] = 0;
    this.queue[(this.head + this.count) % this.queue.length] = port;
    this.count++;
  }

  /**
   * Takes ports in turn and hands each to `bind` until one binds, giving back the ones another
   * process holds; at most `maxAttempts` tries, and never more than the range holds.
   */
  async bindFree<T>(bind: (port: number) => Promise<T>, maxAttempts = 16): Promise<T> {
    const attempts = Math.max(1, Math.min(maxAttempts, this.capacity));
    let lastError: unknown = null;
    for (let i = 0; i < attempts; i++) {
      const port = this.allocate();
      if (port === null) break;
      try {
        return await bind(port);
      } catch (error) {
        this.release(port);
        lastError = error;
      }
    }
    const reason = lastError === null ? '' : `: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
    throw new Error(`no free RTP port in ${this.min}-${this.max}${reason}`);
  }
}
