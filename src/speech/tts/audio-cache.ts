/**
 * Synthesized prompts, least recently used first out, bounded by the memory their audio takes.
 * IVRs repeat the same few prompts on every call, so after the first call a prompt costs a map
 * lookup instead of a synthesis. Bounded by bytes rather than entries because one 3000-character
 * payload weighs as much as a thousand "Press one" prompts.
 */
export interface AudioCacheOptions {
  /** Upper bound on the audio held, in bytes. Default 64 MiB (about 70 minutes of 8 kHz audio). */
  maxBytes?: number;
}

export interface AudioCacheStats {
  entries: number;
  bytes: number;
  maxBytes: number;
  hits: number;
  misses: number;
  evictions: number;
}

export const DEFAULT_CACHE_BYTES = 64 * 1024 * 1024;

export class AudioCache {
  readonly maxBytes: number;
  // Map iteration order is insertion order: re-inserting on every hit keeps the least recently
  // used entry first, which is all an LRU needs.
  private readonly entries = new Map<string, Int16Array>();
  private bytes = 0;
  private hits = 0;
  private misses = 0;
  private evictions = 0;

  constructor(options: AudioCacheOptions = {}) {
    this.maxBytes = Math.max(0, options.maxBytes ?? DEFAULT_CACHE_BYTES);
  }

  /** The stored audio itself (not a copy): callers that hand it out must copy it. */
  get(key: string): Int16Array | undefined {
    const audio = this.entries.get(key);
    if (audio === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.entries.delete(key);
    this.entries.set(key, audio);
    return audio;
  }

  set(key: string, audio: Int16Array): void {
    const cost = AudioCache.cost(key, audio);
    this.delete(key);
    // An entry bigger than the whole cache would only evict everything and then be evicted.
    if (cost > this.maxBytes) return;
    this.entries.set(key, audio);
    this.bytes += cost;
    for (const [oldest, oldAudio] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= AudioCache.cost(oldest, oldAudio);
      this.evictions++;
    }
  }

  delete(key: string): boolean {
    const audio = this.entries.get(key);
    if (audio === undefined) return false;
    this.entries.delete(key);
    this.bytes -= AudioCache.cost(key, audio);
    return true;
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  stats(): AudioCacheStats {
    return {
      entries: this.entries.size,
      bytes: this.bytes,
      maxBytes: this.maxBytes,
      hits: this.hits,
      misses: this.misses,
      evictions: this.evictions,
    };
  }

  private static cost(key: string, audio: Int16Array): number {
    return audio.byteLength + key.length * 2;
  }
}
