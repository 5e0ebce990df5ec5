import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { MediaLibrary, MediaRecord } from '../../media-storage/media-library.js';
import { MediaStorageError } from '../../media-storage/media-library.js';
import { filterType } from '../../media-storage/content-type.js';
import { isoMicros } from '../../util/time.js';
import { ApiError, errors, fieldError, type ErrorItem } from '../errors.js';
import { validateMediaRequest, type MediaSchemaName } from '../schemas/index.js';

type Query = Record<string, string | string[] | undefined>;
type Params = { media_name: string };

/** Multipart text fields are short (a name, a URL, a number); anything longer is not ours. */
const FORM_FIELD_MAX_BYTES = 8 * 1024;

/** What an upload or update asks for, once the body (JSON or multipart) has been read and checked. */
interface MediaInput {
  fields: Record<string, unknown>;
  /** The uploaded file, from the multipart `media` part. */
  file?: { bytes: Uint8Array; declaredType: string | null };
}

/**
 * `/v2/media`: Telnyx Media Storage. Upload takes JSON (`media_url`, fetched by the server) or
 * multipart/form-data (a `media` file), exactly as the SDK sends them. Multipart parsing is
 * registered in its own scope, so every other route still answers multipart with 415.
 */
export function registerMediaRoutes(app: FastifyInstance, deps: { media: MediaLibrary }): void {
  const { media } = deps;

  void app.register(async (scope) => {
    await scope.register(multipart, {
      // One file of at most the library's limit, and a few short text fields. Busboy truncates a
      // file at fileSize and the route answers 422, so no more than the limit is ever held.
      limits: { fileSize: media.maxBytes, files: 1, fields: 10, parts: 12, fieldSize: FORM_FIELD_MAX_BYTES },
      throwFileSizeLimit: true,
    });

    scope.post('/v2/media', async (request, reply) => {
      const input = await readInput(request, 'upload', media.maxBytes);
      const fields = input.fields;
      const url = fields['media_url'] as string | undefined;
      if (!input.file && url === undefined) throw errors.validation([fieldError.missing('/media', 'media')]);
      const mediaName = fields['media_name'] as string | undefined;
      // Before any download: a taken name fails fast and fetches nothing.
      if (mediaName !== undefined && media.get(mediaName)) {
        throw errors.mediaNameTaken(mediaName);
      }
      const pointer = input.file ? '/media' : '/media_url';
      const record = await storageCall(pointer, mediaName, async () => {
        const source = input.file ?? (await media.download(url as string));
        return media.create({
          mediaName,
          bytes: source.bytes,
          declaredType: source.declaredType,
          ttlSecs: fields['ttl_secs'] as number | undefined,
        });
      });
      void reply.code(201);
      return { data: present(record) };
    });

    scope.get<{ Querystring: Query }>('/v2/media', async (request) => {
      const q = request.query;
      const number = positiveInt(q['page[number]'], 1, 'page[number]');
      const size = positiveInt(q['page[size]'], 20, 'page[size]');
      if (size > 250) throw queryError('page[size]', 'The page size must be between 1 and 250.');
      const contentTypes = contentTypeFilter(q);
      const result = media.list({ ...(contentTypes ? { contentTypes } : {}), page: number, size });
      return {
        data: result.data.map(present),
        meta: { page_number: number, page_size: size, total_pages: Math.max(1, Math.ceil(result.total / size)), total_results: result.total },
      };
    });

    scope.get<{ Params: Params }>('/v2/media/:media_name', async (request) => {
      const record = media.get(request.params.media_name);
      if (!record) throw errors.mediaNotFound(request.params.media_name);
      return { data: present(record) };
    });

    scope.put<{ Params: Params }>('/v2/media/:media_name', async (request) => {
      const name = request.params.media_name;
      const input = await readInput(request, 'update', media.maxBytes);
      const url = input.fields['media_url'] as string | undefined;
      const ttlSecs = input.fields['ttl_secs'] as number | undefined;
      if (!input.file && url === undefined && ttlSecs === undefined) throw errors.mediaNothingToUpdate();
      if (!media.get(name)) throw errors.mediaNotFound(name);
      const pointer = input.file ? '/media' : '/media_url';
      const record = await storageCall(pointer, name, async () => {
        const source = input.file ?? (url !== undefined ? await media.download(url) : undefined);
        return media.update(name, { bytes: source?.bytes, declaredType: source?.declaredType, ttlSecs });
      });
      return { data: present(record) };
    });

    scope.delete<{ Params: Params }>('/v2/media/:media_name', async (request, reply) => {
      if (!(await media.delete(request.params.media_name))) throw errors.mediaNotFound(request.params.media_name);
      return reply.code(204).send();
    });

    scope.get<{ Params: Params }>('/v2/media/:media_name/download', async (request, reply) => {
      const found = await media.read(request.params.media_name);
      if (!found) throw errors.mediaNotFound(request.params.media_name);
      return reply
        .type(found.contentType)
        .header('content-length', String(found.bytes.byteLength))
        .header('cache-control', 'no-store')
        .send(Buffer.from(found.bytes.buffer, found.bytes.byteOffset, found.bytes.byteLength));
    });
  });
}

/** The MediaResource of the spec. */
function present(r: MediaRecord): Record<string, string> {
  return {
    content_type: r.contentType,
    created_at: isoMicros(r.createdMs),
    expires_at: isoMicros(r.expiresMs),
    media_name: r.mediaName,
    updated_at: isoMicros(r.updatedMs),
  };
}

/** Runs a library call, turning its refusals into Telnyx errors that point at the file's source. */
async function storageCall<T>(pointer: '/media' | '/media_url', mediaName: string | undefined, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (!(err instanceof MediaStorageError)) throw err;
    switch (err.kind) {
      case 'not_found':
        throw errors.mediaNotFound(mediaName ?? '');
      case 'name_taken':
        throw errors.mediaNameTaken(mediaName ?? '');
      case 'too_large':
        throw errors.mediaTooLarge(err.message, pointer);
      case 'unsupported_type':
        throw errors.mediaContentType(err.message, pointer);
      case 'download_failed':
        throw errors.mediaDownloadFailed(err.message);
    }
    throw err;
  }
}

/** Reads and checks the body of an upload or update, JSON or multipart. */
async function readInput(request: FastifyRequest, kind: 'upload' | 'update', maxBytes: number): Promise<MediaInput> {
  if (!request.isMultipart()) {
    const result = validateMediaRequest(kind === 'upload' ? 'media_upload' : 'media_update', request.body);
    if (!result.ok) throw errors.validation(result.errors);
    return { fields: result.value };
  }

  const text: Record<string, unknown> = {};
  const problems: ErrorItem[] = [];
  let file: MediaInput['file'];
  try {
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        if (part.fieldname !== 'media') {
          await drain(part.file);
          problems.push(fieldError.unknownField(`/${part.fieldname}`, part.fieldname));
          continue;
        }
        file = { bytes: await part.toBuffer(), declaredType: part.mimetype || null };
      } else if (part.fieldname === 'media') {
        problems.push(fieldError.type('/media', 'file'));
      } else if (Object.hasOwn(text, part.fieldname)) {
        problems.push(fieldError.invalid(`/${part.fieldname}`, `The '${part.fieldname}' parameter was sent more than once.`));
      } else {
        text[part.fieldname] = part.fieldname === 'ttl_secs' ? formInteger(String(part.value)) : part.value;
      }
    }
  } catch (err) {
    throw multipartError(err, maxBytes);
  }

  const schema: MediaSchemaName = kind === 'upload' ? 'media_upload_form' : 'media_update_form';
  const result = validateMediaRequest(schema, text);
  if (!result.ok) problems.push(...result.errors);
  if (file && text['media_url'] !== undefined) {
    problems.push(fieldError.invalid('/media_url', "Send either a 'media' file or a 'media_url', not both."));
  }
  if (problems.length > 0) throw errors.validation(problems);
  return { fields: result.ok ? result.value : text, ...(file ? { file } : {}) };
}

/** Form values are text; an integer-looking ttl_secs becomes a number, anything else fails the schema's type check. */
function formInteger(value: string): unknown {
  const trimmed = value.trim();
  return /^-?\d+$/.test(trimmed) && Number.isSafeInteger(Number(trimmed)) ? Number(trimmed) : value;
}

async function drain(stream: AsyncIterable<unknown>): Promise<void> {
  for await (const _chunk of stream) {
    // discard
  }
}

function multipartError(err: unknown, maxBytes: number): unknown {
  if (err instanceof ApiError) return err;
  switch ((err as { code?: string }).code) {
    case 'FST_REQ_FILE_TOO_LARGE':
      return errors.mediaTooLarge(`The media file is larger than the ${maxBytes / (1024 * 1024)} MB limit.`, '/media');
    case 'FST_FILES_LIMIT':
      return errors.validation([fieldError.invalid('/media', 'Send exactly one file, in the media field.')]);
    case 'FST_FIELDS_LIMIT':
    case 'FST_PARTS_LIMIT':
      return errors.validation([fieldError.invalid('', 'The form has more fields than this endpoint accepts.')]);
    default:
      // The plugin's own errors carry a 4xx status the shared handler renders; busboy's parse
      // errors carry none and would otherwise surface as a 500 (which the SDK retries).
      if (typeof (err as { statusCode?: unknown }).statusCode === 'number') return err;
      return errors.mediaMalformedForm(String((err as Error).message ?? err).replace(/\.$/, ''));
  }
}

/** `filter[content_type][]` (repeatable, as the spec lists it) or `filter[content_type]=a,b` (as the SDK sends it). */
function contentTypeFilter(q: Query): string[] | undefined {
  const raw = [q['filter[content_type][]'], q['filter[content_type]']].flat().filter((v): v is string => typeof v === 'string');
  if (raw.length === 0) return undefined;
  const values = raw.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
  return values.length === 0 ? undefined : [...new Set(values.map(filterType))];
}

function queryError(parameter: string, detail: string): ApiError {
  return new ApiError(422, [{ code: '10015', title: 'Invalid query parameter', detail, source: { parameter } }]);
}

function positiveInt(text: string | string[] | undefined, fallback: number, name: string): number {
  if (text === undefined) return fallback;
  const value = Number(Array.isArray(text) ? text[text.length - 1] : text);
  if (!Number.isInteger(value) || value < 1) throw queryError(name, `${name} must be a positive integer.`);
  return value;
}
