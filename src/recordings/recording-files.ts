import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { RecordingRow } from '../store/recording-repository.js';
import type { SettingsRepository } from '../store/settings-repository.js';

export type RecordingFileFormat = 'wav' | 'mp3';

export const RECORDING_FORMATS: readonly RecordingFileFormat[] = ['wav', 'mp3'];

export const RECORDING_CONTENT_TYPES: Record<RecordingFileFormat, string> = { wav: 'audio/wav', mp3: 'audio/mpeg' };

/** A URL per format (`wav`, `mp3`) the recording has a file in; formats it lacks are absent. */
export type RecordingUrls = Record<string, string>;

/** What `call.recording.saved` carries besides the recording's facts. */
export interface RecordingWebhookUrls {
  /** The authorised download URLs (the API key as Bearer), the same as the resource's download_urls. */
  recording_urls: RecordingUrls;
  /** Unauthenticated, unguessable URLs, valid while the file exists and the URL key is not rotated. */
  public_recording_urls: RecordingUrls;
}

/** An open recording file, ready to stream; the caller closes `handle` (a stream over it does). */
export interface OpenRecordingFile {
  handle: FileHandle;
  size: number;
  contentType: string;
  /** The stored file name without its directory, for Content-Disposition. */
  fileName: string;
}

/** The settings key of the secret that signs public recording URLs. */
export const RECORDING_URL_KEY_SETTING = 'recording_url_key';

/** Where Switchboard serves the audio without an API key. */
export const PUBLIC_RECORDINGS_PREFIX = '/public/recordings';
/** How long the recording_urls of call.recording.saved stay valid. */
export const RECORDING_URL_TTL_MS = 10 * 60 * 1000;

export interface RecordingFilesOptions {
  /** `<dataDir>/recordings`; created if missing. */
  dir: string;
  /** Holds the URL-signing secret, created on first start. */
  settings: SettingsRepository;
  /** The server's public base URL (no trailing slash); may be set later with setBaseUrl. */
  baseUrl?: string;
  /** Wall time, for expiring URLs. */
  now?: () => number;
  log?: (msg: string, fields?: object) => void;
}

/**
 * The recordings directory: where a recording's files are, how to open and delete them, and the
 * URLs they are served at. File names in the rows are relative to the directory; a name that
 * would resolve outside it is treated as missing.
 *
 * URLs (all absolute, on the server's public base URL):
 * - authorised: `GET /v2/recordings/{id}/download/{wav|mp3}`, with the API key as Bearer.
 * - public: `GET /public/recordings/{id}/{token}.{wav|mp3}`, no key; the token is an HMAC-SHA256
 *   of the id and format (and expiry, for `?expires=` URLs) under a key kept in the settings
 *   table. A public URL works as long as the recording and its file exist; rotateUrlKey()
 *   revokes every public URL at once.
 */
export class RecordingFiles {
  readonly dir: string;
  private readonly settings: SettingsRepository;
  private readonly now: () => number;
  private readonly log: (msg: string, fields?: object) => void;
  private key: string;
  private base: string | null;

  constructor(opts: RecordingFilesOptions) {
    this.dir = resolve(opts.dir);
    mkdirSync(this.dir, { recursive: true });
    this.settings = opts.settings;
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? (() => {});
    this.key = opts.settings.getOrCreate(RECORDING_URL_KEY_SETTING, newKey).value;
    this.base = opts.baseUrl ? stripSlash(opts.baseUrl) : null;
  }

  /** Called once the server listens and its URL is known. */
  setBaseUrl(url: string): void {
    this.base = stripSlash(url);
  }

  get baseUrl(): string {
    if (this.base === null) throw new Error('RecordingFiles: the base URL is not known until the server listens');
    return this.base;
  }

  /** The formats the recording has a file name for, wav first. */
  formats(row: RecordingRow): RecordingFileFormat[] {
    return RECORDING_FORMATS.filter((f) => fileNameOf(row, f) !== null);
  }

  /** The absolute path of a file name stored in a row, or null when it would leave the directory. */
  pathOf(fileName: string): string | null {
    if (fileName === '' || isAbsolute(fileName)) return null;
    const path = resolve(this.dir, fileName);
    const rel = relative(this.dir, path);
    if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return null;
    return path;
  }

  /** Opens the recording's file in that format; null when it has none or the file is gone. */
  async open(row: RecordingRow, format: RecordingFileFormat): Promise<OpenRecordingFile | null> {
    const name = fileNameOf(row, format);
    const path = name === null ? null : this.pathOf(name);
    if (name === null || path === null) return null;
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) {
        await handle.close();
        return null;
      }
      return { handle, size: stat.size, contentType: RECORDING_CONTENT_TYPES[format], fileName: name.split(/[\\/]/).pop() ?? name };
    } catch (err) {
      await handle.close().catch(() => {});
      throw err;
    }
  }

  /**
   * Removes the recording's files (wav, mp3 and any partial file). A file already gone is fine;
   * any other failure is logged and reported, never thrown: the row is the truth, so a file that
   * could not be removed is only a leak of disk space.
   */
  async deleteFiles(row: RecordingRow): Promise<{ failed: string[] }> {
    const failed: string[] = [];
    for (const name of [row.wavFile, row.mp3File, row.partialFile]) {
      if (name === null) continue;
      const path = this.pathOf(name);
      if (path === null) continue;
      try {
        await unlink(path);
      } catch (err) {
        if (isMissing(err)) continue;
        failed.push(name);
        this.log('could not delete a recording file', { recording_id: row.id, file: name, error: String(err) });
      }
    }
    return { failed };
  }

  /** The authorised URL (API key required). */
  downloadUrl(recordingId: string, format: RecordingFileFormat): string {
    return `${this.baseUrl}/v2/recordings/${encodeURIComponent(recordingId)}/download/${format}`;
  }

  /** The public URL: no key needed; valid while the file exists, or until `expiresAtMs` when given. */
  publicUrl(recordingId: string, format: RecordingFileFormat, expiresAtMs?: number): string {
    const expires = expiresAtMs === undefined ? undefined : String(Math.ceil(expiresAtMs / 1000));
    const token = this.sign(recordingId, format, expires);
    const url = `${this.baseUrl}${PUBLIC_RECORDINGS_PREFIX}/${encodeURIComponent(recordingId)}/${token}.${format}`;
    return expires === undefined ? url : `${url}?expires=${expires}`;
  }

  /** Whether a public URL's token is genuine for this id and format, and not expired. */
  verify(recordingId: string, format: RecordingFileFormat, token: string, expires?: string): boolean {
    if (expires !== undefined) {
      if (!/^\d{1,12}$/.test(expires) || Number(expires) * 1000 <= this.now()) return false;
    }
    const expected = Buffer.from(this.sign(recordingId, format, expires));
    const given = Buffer.from(token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /** The resource's `download_urls`. */
  downloadUrls(row: RecordingRow): RecordingUrls {
    return Object.fromEntries(this.formats(row).map((f) => [f, this.downloadUrl(row.id, f)]));
  }

  /**
   * The `recording_urls` and `public_recording_urls` of `call.recording.saved`. Like Telnyx's,
   * `recording_urls` are pre-signed and valid for 10 minutes, so an app fetches them without its
   * key; the public ones last as long as the file.
   */
  webhookUrls(row: RecordingRow): RecordingWebhookUrls {
    const formats = this.formats(row);
    const expiresAtMs = this.now() + RECORDING_URL_TTL_MS;
    return {
      recording_urls: Object.fromEntries(formats.map((f) => [f, this.publicUrl(row.id, f, expiresAtMs)])),
      public_recording_urls: Object.fromEntries(formats.map((f) => [f, this.publicUrl(row.id, f)])),
    };
  }

  /** A new signing key: every public URL handed out so far stops working. */
  rotateUrlKey(): void {
    this.key = newKey();
    this.settings.put(RECORDING_URL_KEY_SETTING, this.key);
  }

  private sign(recordingId: string, format: RecordingFileFormat, expires: string | undefined): string {
    return createHmac('sha256', this.key).update(`recording-file\n${recordingId}\n${format}\n${expires ?? ''}`).digest('base64url');
  }
}

function fileNameOf(row: RecordingRow, format: RecordingFileFormat): string | null {
  return format === 'wav' ? row.wavFile : row.mp3File;
}

function newKey(): string {
  return randomBytes(32).toString('base64url');
}

function stripSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function isMissing(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
