/**
 * Request bodies for the Media Storage API (POST /media, PUT /media/{media_name}).
 *
 * The JSON bodies mirror the spec's UploadMediaRequest and UpdateMediaRequest: same fields, same
 * types, media_url required on upload only. The multipart forms (UploadMediaMultipartRequest,
 * UpdateMediaMultipartRequest) carry the file in `media`; their text fields are checked with the
 * `*_form` schemas, which also admit media_url so that a form carrying both a file and a URL can
 * be refused with a clear message instead of "unknown parameter".
 *
 * Limits the spec states only in prose, enforced here: ttl_secs at most 630720000 ("20 years")
 * and at least 1 (0 would expire on arrival). media_name limits are ours; see MEDIA_NAME.
 *
 * These are compiled by their own Ajv instance (same settings as validate.ts) because the media
 * routes validate multipart text fields as well as JSON bodies.
 */
import { Ajv } from 'ajv';
import type { ValidateFunction } from 'ajv';
import type { ErrorItem } from '../errors.js';
import { requestBody } from './common.js';
import type { JsonSchema } from './common.js';
import { toErrorItems } from './validate.js';

export const MEDIA_TTL_MAX_SECS = 630_720_000;

/**
 * 1–255 characters, no control characters, and not `.` or `..` (which no client can put in a
 * URL path segment). Slashes and other punctuation are fine: the name is never used as a path.
 */
const MEDIA_NAME: JsonSchema = {
  type: 'string',
  minLength: 1,
  maxLength: 255,
  pattern: '^(?!\\.{1,2}$)[^\\u0000-\\u001f\\u007f]*$',
  'x-detail': "The media_name must be 1 to 255 characters long, without control characters, and cannot be '.' or '..'.",
};
const MEDIA_URL: JsonSchema = {
  type: 'string',
  pattern: '^https?://\\S+$',
  'x-detail': 'The media_url must be an absolute http:// or https:// URL.',
};
const TTL_SECS: JsonSchema = { type: 'integer', minimum: 1, maximum: MEDIA_TTL_MAX_SECS };

export const mediaUploadSchema = requestBody({ media_name: MEDIA_NAME, media_url: MEDIA_URL, ttl_secs: TTL_SECS }, ['media_url']);
export const mediaUpdateSchema = requestBody({ media_url: MEDIA_URL, ttl_secs: TTL_SECS });
/** Text fields of the multipart upload; the file (`media`) is checked by the route. */
export const mediaUploadFormSchema = requestBody({ media_name: MEDIA_NAME, media_url: MEDIA_URL, ttl_secs: TTL_SECS });
export const mediaUpdateFormSchema = requestBody({ media_url: MEDIA_URL, ttl_secs: TTL_SECS });

export const mediaSchemas = {
  media_upload: mediaUploadSchema,
  media_update: mediaUpdateSchema,
  media_upload_form: mediaUploadFormSchema,
  media_update_form: mediaUpdateFormSchema,
} as const;
export type MediaSchemaName = keyof typeof mediaSchemas;

const ajv = new Ajv({
  allErrors: true,
  verbose: true,
  strict: true,
  strictTypes: false,
  allowUnionTypes: true,
  useDefaults: false,
  coerceTypes: false,
});
ajv.addKeyword({ keyword: 'x-detail', schemaType: 'string' });

const compiled = new Map<string, ValidateFunction>(Object.entries(mediaSchemas).map(([name, schema]) => [name, ajv.compile(schema)]));

/** Checks a media request body (or a form's text fields); an absent body counts as `{}`. */
export function validateMediaRequest(
  name: MediaSchemaName,
  body: unknown,
): { ok: true; value: Record<string, unknown> } | { ok: false; errors: ErrorItem[] } {
  const check = compiled.get(name);
  if (!check) throw new Error(`No media schema named '${name}'`);
  const input = body === undefined ? {} : body;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, errors: toErrorItems([{ keyword: 'type', instancePath: '', schemaPath: '#/type', params: { type: 'object' } }]) };
  }
  const value = structuredClone(input as Record<string, unknown>);
  if (!check(value)) return { ok: false, errors: toErrorItems(check.errors ?? []) };
  return { ok: true, value };
}
