/**
 * What a stored media file is. The bytes decide: a declared type (multipart part header or the
 * media_url's Content-Type) is only a hint, used to word the refusal when the bytes are not a
 * format we store. That way a WAV sent as audio/mpeg is stored (and later played) as a WAV, and
 * an HTML error page served with 200 never becomes "audio".
 */
import { isWav } from '../media/audio/wav.js';

/**
 * The content types Media Storage accepts, in their canonical spelling. Audio is what the call
 * engine plays (playback_start / gather_using_audio `media_name`, "a WAV or MP3 file" per the
 * spec); XML is there because the spec's own MediaResource example stores application/xml
 * (TeXML documents).
 */
export const STORED_CONTENT_TYPES = ['audio/mpeg', 'audio/wav', 'application/xml'] as const;
export type StoredContentType = (typeof STORED_CONTENT_TYPES)[number];

/** Other spellings of the same types, as browsers, servers and the SDK send them. */
const ALIASES: Record<string, StoredContentType> = {
  'audio/mpeg': 'audio/mpeg',
  'audio/mp3': 'audio/mpeg',
  'audio/mpeg3': 'audio/mpeg',
  'audio/x-mpeg': 'audio/mpeg',
  'audio/x-mpeg-3': 'audio/mpeg',
  'audio/wav': 'audio/wav',
  'audio/x-wav': 'audio/wav',
  'audio/wave': 'audio/wav',
  'audio/vnd.wave': 'audio/wav',
  'application/xml': 'application/xml',
  'text/xml': 'application/xml',
};

/** File name extension for each stored type, so an operator browsing the media directory can tell. */
export const EXTENSIONS: Record<StoredContentType, string> = {
  'audio/mpeg': 'mp3',
  'audio/wav': 'wav',
  'application/xml': 'xml',
};

/** `Audio/X-WAV; charset=x` → `audio/x-wav`; empty or absent → null. */
export function bareType(header: string | null | undefined): string | null {
  const bare = (header ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return bare === '' ? null : bare;
}

/** The canonical stored type for any accepted spelling, or null when we do not store that type. */
export function canonicalType(type: string | null | undefined): StoredContentType | null {
  const bare = bareType(type);
  return bare !== null && Object.hasOwn(ALIASES, bare) ? (ALIASES[bare] as StoredContentType) : null;
}

/**
 * A list filter value to canonical form. Besides every alias, accepts the underscore spelling
 * of the spec's example (`filter[content_type][]=application_xml`).
 */
export function filterType(value: string): string {
  const trimmed = value.trim().toLowerCase();
  const slashed = trimmed.includes('/') ? trimmed : trimmed.replace('_', '/');
  return canonicalType(slashed) ?? slashed;
}

export type Identified =
  | { ok: true; contentType: StoredContentType }
  | { ok: false; detail: string };

/** Decides the stored type of `bytes`; `declared` only shapes the refusal. */
export function identifyMedia(bytes: Uint8Array, declared: string | null | undefined): Identified {
  if (bytes.length === 0) return { ok: false, detail: 'The media file is empty.' };
  const stored = sniffStored(bytes);
  if (stored) return { ok: true, contentType: stored };
  const seen = sniffOther(bytes) ?? bareType(declared);
  const allowed = STORED_CONTENT_TYPES.join(', ');
  const generic = seen === 'application/octet-stream' || seen === 'binary/octet-stream';
  if (seen !== null && !generic) {
    return canonicalType(seen) === null
      ? { ok: false, detail: `Content type '${seen}' is not supported; the media must be one of: ${allowed}.` }
      : { ok: false, detail: `The media was declared as '${seen}' but its content is not a valid ${seen} file.` };
  }
  return { ok: false, detail: `The media content is not a recognised file; it must be one of: ${allowed}.` };
}

function sniffStored(bytes: Uint8Array): StoredContentType | null {
  if (isWav(bytes)) return 'audio/wav';
  if (isMp3(bytes)) return 'audio/mpeg';
  if (isXml(bytes)) return 'application/xml';
  return null;
}

/** MP3: an ID3v2 tag, or an MPEG audio frame header right at the start. */
function isMp3(b: Uint8Array): boolean {
  if (b.length >= 10 && b[0] === 0x49 && b[1] === 0x44 && b[2] === 0x33 && (b[3] as number) < 0xff) return true;
  if (b.length < 4) return false;
  const [b0, b1, b2] = [b[0] as number, b[1] as number, b[2] as number];
  if (b0 !== 0xff || (b1 & 0xe0) !== 0xe0) return false; // 11-bit frame sync
  const version = (b1 >> 3) & 0x03; // 01 is reserved
  const layer = (b1 >> 1) & 0x03; // 00 is reserved (and is what AAC ADTS uses)
  const bitrate = (b2 >> 4) & 0x0f; // 1111 is invalid; 0000 ("free format") is too rare to trust
  const rate = (b2 >> 2) & 0x03; // 11 is reserved
  return version !== 1 && layer !== 0 && bitrate !== 0 && bitrate !== 0x0f && rate !== 3;
}

/** XML: optional UTF-8 BOM and whitespace, then a declaration or an element (e.g. TeXML's `<Response>`). */
function isXml(b: Uint8Array): boolean {
  let i = b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0;
  while (i < b.length && (b[i] === 0x20 || b[i] === 0x09 || b[i] === 0x0a || b[i] === 0x0d)) i++;
  if (b[i] !== 0x3c) return false; // '<'
  const next = b[i + 1];
  if (next === undefined) return false;
  // '<?xml', '<!--', '<!DOCTYPE', or an element name starting with a letter or '_'.
  const isNameStart = (next >= 0x41 && next <= 0x5a) || (next >= 0x61 && next <= 0x7a) || next === 0x5f;
  if (!(next === 0x3f || next === 0x21 || isNameStart)) return false;
  // Text, not binary: no NUL bytes in the first kilobyte. And not an HTML page (a web server's
  // error page served with 200 is the usual way a wrong media_url "succeeds").
  return !b.subarray(0, 1024).includes(0) && !isHtml(b);
}

function isHtml(b: Uint8Array): boolean {
  const head = new TextDecoder().decode(b.subarray(0, 512)).trimStart().toLowerCase();
  return head.startsWith('<!doctype html') || /^<html[\s>]/.test(head) || /^(?:<!--[\s\S]*?-->\s*)*<(?:head|body)[\s>]/.test(head);
}

/** A few formats people upload by mistake, so the refusal can name what was sent. */
function sniffOther(b: Uint8Array): string | null {
  const ascii = (at: number, len: number) => String.fromCharCode(...b.subarray(at, at + len));
  if (ascii(0, 4) === 'OggS') return 'audio/ogg';
  if (ascii(0, 4) === 'fLaC') return 'audio/flac';
  if (ascii(4, 4) === 'ftyp') return 'audio/mp4';
  if (ascii(0, 5) === '%PDF-') return 'application/pdf';
  if (ascii(1, 3) === 'PNG') return 'image/png';
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b[0] === 0xff && ((b[1] as number) & 0xf6) === 0xf0) return 'audio/aac';
  if (isHtml(b)) return 'text/html';
  return null;
}
