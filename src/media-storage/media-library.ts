/**
 * Media Storage: the files behind `/v2/media`, and what the call engine reads when a command
 * names a `media_name`.
 *
 * Bytes live in one directory under generated file names (a UUID plus an extension), never the
 * user's media_name, which may contain `/` or `..`. Metadata lives in SQLite. Every write goes
 * to a temporary file that is fsynced and then renamed into place, and only then is the row
 * committed; so a crash can leave an unreferenced file (removed at the next start) but never a
 * registered half-file. Replacing or deleting commits the row change first and removes the old
 * file afterwards, for the same reason.
 *
 * Expiry: a row whose expires_ms has passed is treated as absent by every read at once. Its file
 * goes when something trips over it (lazily) or at the next periodic sweep, whichever is first.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DuplicateMediaName, type MediaRepository, type MediaRow } from '../store/media-repository.js';
import type { Clock, Timer } from '../util/clock.js';
import { randomIds, type IdSource } from '../util/ids.js';
import { EXTENSIONS, identifyMedia, type StoredContentType } from './content-type.js';

/** The spec's limit for both uploads and media_url downloads ("The maximum allowed size is 20 MB"), read as MiB. */
export const MAX_MEDIA_BYTES = 20 * 1024 * 1024;
/** "defaults to 2 days" */
export const DEFAULT_TTL_SECS = 2 * 24 * 60 * 60;
/** A media_url must answer, body included, within this. */
export const DEFAULT_DOWNLOAD_TIMEOUT_MS = 30_000;
const DEFAULT_SWEEP_INTERVAL_MS = 60_000;
const SWEEP_BATCH = 500;
const TEMP_PREFIX = '.incoming-';

/** A stored file as the API shows it (the on-disk name stays private). */
export interface MediaRecord {
  mediaName: string;
  contentType: string;
  sizeBytes: number;
  createdMs: number;
  updatedMs: number;
  expiresMs: number;
}

export type MediaErrorKind = 'not_found' | 'name_taken' | 'too_large' | 'unsupported_type' | 'download_failed';

/** A refusal the API turns into a Telnyx error; nothing was changed when one is thrown. */
export class MediaStorageError extends Error {
  constructor(readonly kind: MediaErrorKind, message: string) {
    super(message);
    this.name = 'MediaStorageError';
  }
}

export interface MediaLibraryOptions {
  /** The directory the library owns, e.g. `<dataDir>/media`. */
  dir: string;
  repository: MediaRepository;
  clock: Clock;
  /** Generates media names when the upload names none (a UUID, like Telnyx's). */
  ids?: IdSource;
  fetch?: typeof fetch;
  maxBytes?: number;
  downloadTimeoutMs?: number;
  sweepIntervalMs?: number;
  log?: (msg: string, fields?: object) => void;
}

export class MediaLibrary {
  readonly maxBytes: number;
  private readonly dir: string;
  private readonly repository: MediaRepository;
  private readonly clock: Clock;
  private readonly ids: IdSource;
  private readonly fetchFn: typeof fetch;
  private readonly downloadTimeoutMs: number;
  private readonly sweepIntervalMs: number;
  private readonly log: (msg: string, fields?: object) => void;
  private sweepTimer: Timer | null = null;
  private closed = false;

  constructor(opts: MediaLibraryOptions) {
    this.dir = opts.dir;
    this.repository = opts.repository;
    this.clock = opts.clock;
    this.ids = opts.ids ?? randomIds;
    this.fetchFn = opts.fetch ?? fetch;
    this.maxBytes = opts.maxBytes ?? MAX_MEDIA_BYTES;
    this.downloadTimeoutMs = opts.downloadTimeoutMs ?? DEFAULT_DOWNLOAD_TIMEOUT_MS;
    this.sweepIntervalMs = opts.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS;
    this.log = opts.log ?? (() => {});
  }

  /**
   * Creates the directory, removes what a crash may have left (temporary files, files no row
   * refers to), purges expired media and starts the periodic sweep. Call once, before serving.
   */
  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const referenced = this.repository.fileNames();
    const present = new Set<string>();
    for (const entry of await readdir(this.dir, { withFileTypes: true })) {
      if (!entry.isFile()) continue;
      if (entry.name.startsWith(TEMP_PREFIX) || !referenced.has(entry.name)) {
        await rm(join(this.dir, entry.name), { force: true });
        this.log('removed a media file no row refers to', { file: entry.name });
      } else {
        present.add(entry.name);
      }
    }
    for (const name of referenced) {
      if (!present.has(name)) this.log('stored media has lost its file', { file: name });
    }
    await this.sweep();
    this.scheduleSweep();
  }

  close(): void {
    this.closed = true;
    this.sweepTimer?.cancel();
    this.sweepTimer = null;
  }

  /** The live (unexpired) media with this name, or null. */
  get(mediaName: string): MediaRecord | null {
    const row = this.liveRow(mediaName);
    return row ? toRecord(row) : null;
  }

  /** Live media, newest first. `contentTypes` (canonical) keeps only those types. */
  list(opts: { contentTypes?: readonly string[]; page: number; size: number }): { data: MediaRecord[]; total: number } {
    const { rows, total } = this.repository.list({
      nowMs: this.clock.now(),
      ...(opts.contentTypes ? { contentTypes: opts.contentTypes } : {}),
      limit: opts.size,
      offset: (opts.page - 1) * opts.size,
    });
    return { data: rows.map(toRecord), total };
  }

  /** The bytes and content type of live media, or null: what playback resolves a media_name with. */
  async read(mediaName: string): Promise<{ bytes: Uint8Array; contentType: string } | null> {
    // A concurrent update may remove the file between the lookup and the read; look again once.
    for (let attempt = 0; attempt < 2; attempt++) {
      const row = this.liveRow(mediaName);
      if (!row) return null;
      try {
        return { bytes: await readFile(join(this.dir, row.fileName)), contentType: row.contentType };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    return null;
  }

  /** Stores new media. Throws MediaStorageError (name_taken, too_large, unsupported_type). */
  async create(input: { mediaName?: string | undefined; bytes: Uint8Array; declaredType?: string | null | undefined; ttlSecs?: number | undefined }): Promise<MediaRecord> {
    const contentType = this.check(input.bytes, input.declaredType);
    const mediaName = input.mediaName ?? this.ids.uuid();
    if (this.liveRow(mediaName)) throw nameTaken(mediaName);
    const fileName = await this.writeFile(input.bytes, contentType);
    const now = this.clock.now();
    const row: MediaRow = {
      mediaName,
      fileName,
      contentType,
      sizeBytes: input.bytes.byteLength,
      createdMs: now,
      updatedMs: now,
      expiresMs: now + (input.ttlSecs ?? DEFAULT_TTL_SECS) * 1000,
    };
    let replacedFile: string | null;
    try {
      ({ replacedFile } = this.repository.insert(row, now));
    } catch (err) {
      await this.removeFile(fileName);
      if (err instanceof DuplicateMediaName) throw nameTaken(mediaName);
      throw err;
    }
    if (replacedFile) await this.removeFile(replacedFile);
    return toRecord(row);
  }

  /**
   * Replaces the file and/or restarts the time to live (counted from now). Throws
   * MediaStorageError (not_found, too_large, unsupported_type).
   */
  async update(mediaName: string, input: { bytes?: Uint8Array | undefined; declaredType?: string | null | undefined; ttlSecs?: number | undefined }): Promise<MediaRecord> {
    if (!this.liveRow(mediaName)) throw notFound(mediaName);
    let file: { fileName: string; contentType: StoredContentType; sizeBytes: number } | undefined;
    if (input.bytes) {
      const contentType = this.check(input.bytes, input.declaredType);
      file = { fileName: await this.writeFile(input.bytes, contentType), contentType, sizeBytes: input.bytes.byteLength };
    }
    const now = this.clock.now();
    let result: ReturnType<MediaRepository['update']>;
    try {
      result = this.repository.update(mediaName, {
        ...(file ?? {}),
        ...(input.ttlSecs !== undefined ? { expiresMs: now + input.ttlSecs * 1000 } : {}),
      }, now);
    } catch (err) {
      if (file) await this.removeFile(file.fileName);
      throw err;
    }
    if (!result) {
      // Deleted or expired while the new file was being written.
      if (file) await this.removeFile(file.fileName);
      throw notFound(mediaName);
    }
    if (result.oldFile) await this.removeFile(result.oldFile);
    return toRecord(result.row);
  }

  /** Deletes live media; false when there is none by this name. */
  async delete(mediaName: string): Promise<boolean> {
    const fileName = this.repository.deleteLive(mediaName, this.clock.now());
    if (fileName === undefined) {
      this.liveRow(mediaName); // discards an expired row of this name, if any
      return false;
    }
    await this.removeFile(fileName);
    return true;
  }

  /**
   * Fetches a media_url: http(s) only, redirects followed, the whole exchange bounded by the
   * download timeout and the body by maxBytes (checked against Content-Length up front and
   * counted while reading, so a lying or absent length cannot get past it).
   */
  async download(url: string): Promise<{ bytes: Uint8Array; declaredType: string | null }> {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      throw downloadFailed('The media_url is not a valid URL.');
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') {
      throw downloadFailed('The media_url must be an http:// or https:// URL.');
    }
    const signal = AbortSignal.timeout(this.downloadTimeoutMs);
    let response: Response;
    try {
      response = await this.fetchFn(target, { signal, redirect: 'follow', headers: { accept: 'audio/*, application/xml;q=0.9, */*;q=0.5' } });
    } catch (err) {
      throw downloadFailed(this.describeFetchError(err));
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => {});
      throw downloadFailed(`The media_url answered HTTP ${response.status}.`);
    }
    const declaredLength = Number(response.headers.get('content-length') ?? NaN);
    if (Number.isFinite(declaredLength) && declaredLength > this.maxBytes) {
      await response.body?.cancel().catch(() => {});
      throw this.tooLarge();
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    const reader = response.body?.getReader();
    try {
      for (;;) {
        if (!reader) break;
        const { done, value } = await reader.read();
        if (done) break;
        total += value.byteLength;
        if (total > this.maxBytes) {
          await reader.cancel().catch(() => {});
          throw this.tooLarge();
        }
        chunks.push(value);
      }
    } catch (err) {
      if (err instanceof MediaStorageError) throw err;
      throw downloadFailed(this.describeFetchError(err));
    }
    return { bytes: Buffer.concat(chunks, total), declaredType: response.headers.get('content-type') };
  }

  /** Removes expired media (rows, then files). Returns how many went. */
  async sweep(): Promise<number> {
    let removed = 0;
    for (;;) {
      const now = this.clock.now();
      const batch = this.repository.expired(now, SWEEP_BATCH);
      for (const row of batch) if (await this.discard(row, now)) removed++;
      if (batch.length < SWEEP_BATCH) break;
    }
    return removed;
  }

  private scheduleSweep(): void {
    if (this.closed) return;
    this.sweepTimer = this.clock.setTimer(this.sweepIntervalMs, () => {
      this.sweep()
        .catch((error: unknown) => this.log('media sweep failed', { error: String(error) }))
        .finally(() => this.scheduleSweep());
    });
  }

  /** The live row; an expired one is discarded on the way (lazy expiry) and reads as absent. */
  private liveRow(mediaName: string): MediaRow | undefined {
    const row = this.repository.getAny(mediaName);
    if (!row) return undefined;
    const now = this.clock.now();
    if (row.expiresMs > now) return row;
    void this.discard(row, now).catch((error: unknown) => this.log('removing expired media failed', { error: String(error) }));
    return undefined;
  }

  private async discard(row: MediaRow, nowMs: number): Promise<boolean> {
    if (!this.repository.deleteExpired(row, nowMs)) return false;
    await this.removeFile(row.fileName);
    return true;
  }

  private check(bytes: Uint8Array, declared: string | null | undefined): StoredContentType {
    if (bytes.byteLength > this.maxBytes) throw this.tooLarge();
    const identified = identifyMedia(bytes, declared);
    if (!identified.ok) throw new MediaStorageError('unsupported_type', identified.detail);
    return identified.contentType;
  }

  /** Writes to a temporary file, fsyncs, renames into place; returns the final file name. */
  private async writeFile(bytes: Uint8Array, contentType: StoredContentType): Promise<string> {
    const fileName = `${randomUUID()}.${EXTENSIONS[contentType]}`;
    const temp = join(this.dir, `${TEMP_PREFIX}${randomUUID()}`);
    try {
      const handle = await open(temp, 'wx', 0o600);
      try {
        await handle.writeFile(bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, join(this.dir, fileName));
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
    await this.syncDirectory();
    return fileName;
  }

  /** Makes the rename itself durable. Not every platform can fsync a directory; that is fine. */
  private async syncDirectory(): Promise<void> {
    try {
      const handle = await open(this.dir, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch {
      // best effort
    }
  }

  private async removeFile(fileName: string): Promise<void> {
    try {
      await rm(join(this.dir, fileName), { force: true });
    } catch (error) {
      // The row is already gone; the file is unreferenced and the next start removes it.
      this.log('removing a media file failed', { file: fileName, error: String(error) });
    }
  }

  private tooLarge(): MediaStorageError {
    return new MediaStorageError('too_large', `The media file is larger than the ${formatBytes(this.maxBytes)} limit.`);
  }

  private describeFetchError(err: unknown): string {
    const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
    if (e?.name === 'TimeoutError' || e?.name === 'AbortError') {
      return `The media_url did not deliver the file within ${this.downloadTimeoutMs / 1000} s.`;
    }
    const reason = e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err);
    return `The media_url could not be downloaded (${reason}).`;
  }
}

function toRecord(row: MediaRow): MediaRecord {
  return {
    mediaName: row.mediaName,
    contentType: row.contentType,
    sizeBytes: row.sizeBytes,
    createdMs: row.createdMs,
    updatedMs: row.updatedMs,
    expiresMs: row.expiresMs,
  };
}

function notFound(mediaName: string): MediaStorageError {
  return new MediaStorageError('not_found', `No media named '${mediaName}' is stored.`);
}

function nameTaken(mediaName: string): MediaStorageError {
  return new MediaStorageError('name_taken', `Media named '${mediaName}' already exists; update or delete it instead.`);
}

function downloadFailed(detail: string): MediaStorageError {
  return new MediaStorageError('download_failed', detail);
}

function formatBytes(n: number): string {
  return n % (1024 * 1024) === 0 ? `${n / (1024 * 1024)} MB` : `${n}-byte`;
}
