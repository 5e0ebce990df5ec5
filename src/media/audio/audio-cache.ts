/**
 * Playback audio by URL: download, decode, and (when the caller asks) keep the decoded samples.
 *
 * Cached audio is not trusted blindly: every later use revalidates with the server
 * (If-None-Match / If-Modified-Since), so a prompt re-recorded under the same URL is picked up on
 * the next call while an unchanged one costs a 304 and no decoding. Memory is bounded by the bytes
 * of decoded audio held, evicting the least recently used first. Callers asking for the same URL
 * at once (a campaign dialling out, an IVR menu on many calls) share one download and one decode.
 */
import { decodeAudio, type AudioContainer } from './decode.js';
import { fetchAudio, AudioFetchError, type ConditionalValidators } from './fetch-audio.js';

export interface AudioLibraryOptions {
  fetch?: typeof fetch;
  timeoutMs: number;
  maxBytes: number;
  /** Budget for decoded audio kept in memory; 64 MiB (about 70 minutes at 8 kHz) by default. */
  maxCacheBytes?: number;
  /**
   * Skip revalidation when the cached copy was confirmed this recently. 0 (the default)
   * revalidates on every use.
   */
  revalidateAfterMs?: number;
  now?: () => number;
}

export interface LoadOptions {
  /** Keep the decoded audio for later loads of the same URL (Telnyx `cache_audio`). */
  cache: boolean;
  /** Container to assume when the content does not identify itself. */
  hint?: AudioContainer;
}

type Download = { kind: 'not_modified' } | { kind: 'fetched'; samples: Int16Array; validators: ConditionalValidators };

interface Entry {
  samples: Int16Array;
  validators: ConditionalValidators;
  validatedAt: number;
  bytes: number;
}

export const DEFAULT_MAX_CACHE_BYTES = 64 * 1024 * 1024;

// Bookkeeping per entry beyond the samples themselves, so that many tiny clips still count.
const ENTRY_OVERHEAD_BYTES = 256;

export class AudioLibrary {
  private readonly fetchImpl: typeof fetch | undefined;
  private readonly timeoutMs: number;
  private readonly maxBytes: number;
  private readonly maxCacheBytes: number;
  private readonly revalidateAfterMs: number;
  private readonly now: () => number;
  /** Map order is recency order: the first key is the least recently used. */
  private readonly entries = new Map<string, Entry>();
  private readonly inFlight = new Map<string, Promise<Int16Array>>();
  private cachedBytes = 0;

  constructor(options: AudioLibraryOptions) {
    this.fetchImpl = options.fetch;
    this.timeoutMs = options.timeoutMs;
    this.maxBytes = options.maxBytes;
    this.maxCacheBytes = options.maxCacheBytes ?? DEFAULT_MAX_CACHE_BYTES;
    this.revalidateAfterMs = options.revalidateAfterMs ?? 0;
    this.now = options.now ?? Date.now;
  }

  /**
   * Engine audio for `url`. The returned array may be shared with other callers and the cache:
   * treat it as read-only.
   */
  load(url: string, options: LoadOptions): Promise<Int16Array> {
    if (!options.cache) return this.fetchFresh(url, options.hint);
    const key = cacheKey(url);
    const pending = this.inFlight.get(key);
    if (pending !== undefined) return pending;

    const entry = this.entries.get(key);
    if (entry !== undefined && this.now() - entry.validatedAt < this.revalidateAfterMs) {
      this.touch(key, entry);
      return Promise.resolve(entry.samples);
    }
    const promise = this.refresh(key, url, entry, options.hint).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, promise);
    return promise;
  }

  /** Drops a URL from the cache. */
  forget(url: string): void {
    const key = cacheKey(url);
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    this.cachedBytes -= entry.bytes;
  }

  clear(): void {
    this.entries.clear();
    this.cachedBytes = 0;
  }

  get stats(): { entries: number; bytes: number; maxBytes: number } {
    return { entries: this.entries.size, bytes: this.cachedBytes, maxBytes: this.maxCacheBytes };
  }

  private async refresh(key: string, url: string, entry: Entry | undefined, hint?: AudioContainer): Promise<Int16Array> {
    // Without a validator from the server there is nothing to make conditional; fetch in full.
    const validators = entry !== undefined && hasValidators(entry.validators) ? entry.validators : undefined;
    let result: Download;
    try {
      result = await this.download(url, validators, hint);
    } catch (err) {
      // A file that is gone must not keep playing from memory; transient failures leave the copy
      // for the next attempt but still fail this one, so callers see the server's real state.
      if (err instanceof AudioFetchError && err.kind === 'not_found') this.forget(url);
      throw err;
    }
    if (result.kind === 'not_modified') {
      // validators were only sent because there was an entry; it holds the audio the server means.
      const cached = entry as Entry;
      cached.validatedAt = this.now();
      if (this.entries.get(key) === cached) this.touch(key, cached);
      return cached.samples;
    }
    this.store(key, { samples: result.samples, validators: result.validators, validatedAt: this.now(), bytes: 0 });
    return result.samples;
  }

  private async fetchFresh(url: string, hint?: AudioContainer): Promise<Int16Array> {
    const result = await this.download(url, undefined, hint);
    if (result.kind === 'not_modified') throw new Error('unconditional request answered 304'); // fetchAudio never does
    return result.samples;
  }

  private async download(url: string, validators: ConditionalValidators | undefined, hint?: AudioContainer): Promise<Download> {
    const fetched = await fetchAudio(url, {
      timeoutMs: this.timeoutMs,
      maxBytes: this.maxBytes,
      ...(this.fetchImpl !== undefined ? { fetch: this.fetchImpl } : {}),
      ...(validators !== undefined ? { validators } : {}),
    });
    if (fetched.kind === 'not_modified') return fetched;
    const samples = await decodeAudio(fetched.bytes, hint ?? containerFromContentType(fetched.contentType));
    const next: ConditionalValidators = {};
    if (fetched.etag !== undefined) next.etag = fetched.etag;
    if (fetched.lastModified !== undefined) next.lastModified = fetched.lastModified;
    return { kind: 'fetched', samples, validators: next };
  }

  private store(key: string, entry: Entry): void {
    this.forget(key);
    entry.bytes = entry.samples.byteLength + key.length * 2 + ENTRY_OVERHEAD_BYTES;
    // One clip larger than the whole budget would evict everything and then itself; skip it.
    if (entry.bytes > this.maxCacheBytes) return;
    this.entries.set(key, entry);
    this.cachedBytes += entry.bytes;
    for (const [oldKey, old] of this.entries) {
      if (this.cachedBytes <= this.maxCacheBytes) break;
      this.entries.delete(oldKey);
      this.cachedBytes -= old.bytes;
    }
  }

  private touch(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
  }
}

function hasValidators(v: ConditionalValidators): boolean {
  return v.etag !== undefined || v.lastModified !== undefined;
}

function cacheKey(url: string): string {
  // Spelling differences the server cannot see (host case, default port) should not double-cache.
  try {
    return new URL(url).href;
  } catch {
    return url;
  }
}

function containerFromContentType(contentType: string | undefined): AudioContainer | undefined {
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  if (type === undefined) return undefined;
  if (type === 'audio/mpeg' || type === 'audio/mp3' || type === 'audio/mpeg3') return 'mp3';
  if (type === 'audio/wav' || type === 'audio/x-wav' || type === 'audio/wave' || type === 'audio/vnd.wave') return 'wav';
  return undefined;
}
