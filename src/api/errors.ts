/**
 * The Telnyx error envelope and the one catalogue of error identities Switchboard answers with.
 * Codes are strings, as on the wire. Detail text may change; codes never do.
 */
export interface ErrorItem {
  code: string;
  title: string;
  detail?: string;
  source?: { pointer?: string; parameter?: string };
  meta?: { url?: string };
}

export class ApiError extends Error {
  readonly status: number;
  readonly errors: ErrorItem[];
  /** Extra response headers, e.g. x-should-retry to stop the SDK retrying a 5xx. */
  readonly headers: Record<string, string>;

  constructor(status: number, errors: ErrorItem[], headers: Record<string, string> = {}) {
    super(errors.map((e) => `${e.code} ${e.title}${e.detail ? `: ${e.detail}` : ''}`).join('; '));
    this.status = status;
    this.errors = errors;
    this.headers = headers;
  }

  body(): { errors: ErrorItem[] } {
    return { errors: this.errors };
  }
}

function item(code: string, title: string, detail?: string, pointer?: string): ErrorItem {
  const e: ErrorItem = { code, title };
  if (detail !== undefined) e.detail = detail;
  if (pointer !== undefined) e.source = { pointer };
  return e;
}

/** Field-level failures collected by request validation; each becomes one entry of a 422. */
export const fieldError = {
  missing: (pointer: string, name: string) =>
    item('10004', 'Missing required parameter', `The '${name}' parameter is required and cannot be blank.`, pointer),
  enumValue: (pointer: string, allowed: readonly unknown[]) =>
    item('10032', 'Invalid enumerated value', `The value must be one of: ${allowed.join(', ')}.`, pointer),
  range: (pointer: string, detail: string) => item('10033', 'Value outside of range', detail, pointer),
  type: (pointer: string, expected: string) =>
    item('10015', 'Invalid parameter type', `The value must be of type ${expected}.`, pointer),
  invalid: (pointer: string, detail: string) => item('10015', 'Invalid parameter', detail, pointer),
  unknownField: (pointer: string, name: string) =>
    item('10015', 'Unknown parameter', `The '${name}' parameter is not accepted by this endpoint.`, pointer),
  base64: (pointer: string) =>
    item('10015', 'Invalid client_state', 'The value must be a valid Base-64 encoded string.', pointer),
  e164: (pointer: string, name: string) =>
    item('10016', 'Phone number must be in +E164 format', `The '${name}' parameter must be in E164 format.`, pointer),
};

export const errors = {
  validation: (items: ErrorItem[]) => new ApiError(422, items),
  authentication: () =>
    new ApiError(401, [
      {
        ...item('10009', 'Authentication failed',
          'The required authentication headers were either invalid or not included in the request.'),
        meta: { url: 'https://developers.telnyx.com/docs/overview/errors/10009' },
      },
    ]),
  malformedJson: (detail: string) => new ApiError(400, [item('10023', 'Invalid JSON', detail)]),
  unsupportedMediaType: (type: string) =>
    new ApiError(415, [item('10015', 'Bad Request', `Content-Type '${type}' is not supported; send application/json.`)]),
  notFound: (what = 'Resource not found', detail = 'Resource not found', pointer?: string) =>
    new ApiError(404, [item('10005', what, detail, pointer)]),
  routeNotFound: (method: string, url: string) =>
    new ApiError(404, [item('10005', 'Resource not found', `No endpoint answers ${method} ${url}.`)]),
  invalidCallControlId: () =>
    new ApiError(422, [item('90015', 'Invalid Call Control ID', 'The call_control_id provided was not valid.', '/call_control_id')]),
  callEnded: () =>
    new ApiError(422, [item('90018', 'Call has already ended', "This call is no longer active and can't receive commands.")]),
  callNotAnswered: () =>
    new ApiError(422, [item('90034', 'Call not answered yet',
      "This call can't receive this command because it has not been answered yet.")]),
  callAlreadyAnswered: () =>
    new ApiError(422, [item('90035', 'Call already answered', 'This call has already been answered and cannot be answered again.')]),
  answerOutgoing: () =>
    new ApiError(422, [item('90035', 'Call cannot be answered',
      'Only incoming calls can be answered; this leg was dialled by the application.')]),
  invalidConnection: () =>
    new ApiError(422, [item('10015', 'Invalid value for connection_id (Call Control App ID)',
      'The requested connection_id (Call Control App ID) is either invalid or does not exist. Only Call Control Apps with valid webhook URL are accepted.',
      '/connection_id')]),
  /**
   * Validated but not built yet. 501 with x-should-retry: false, so the SDK fails at once
   * instead of retrying a 5xx three times.
   */
  notImplemented: (action: string) =>
    new ApiError(501, [item('90999', 'Action not implemented',
      `Switchboard accepts and validates '${action}', but does not carry it out yet.`)],
    { 'x-should-retry': 'false' }),
  /** Rate limited: `retry-after` (seconds) and `retry-after-ms` tell the SDK when to try again. */
  tooManyRequests: (waitMs: number) =>
    new ApiError(429, [item('10011', 'Too many requests', `This API key has sent too many requests; retry in ${Math.ceil(waitMs / 1000)} s.`)],
      { 'retry-after': String(Math.ceil(waitMs / 1000)), 'retry-after-ms': String(waitMs) }),
  internal: () => new ApiError(500, [item('10007', 'Internal server error', 'Internal server error')]),
  assistantInProgress: () =>
    new ApiError(422, [item('90061', 'AI Assistant is already in progress', 'AI Assistant cannot be started more than once.')]),
  recordingBeforeAudio: () =>
    new ApiError(422, [item('90020', 'Call recording triggered before audio started',
      'Call recording cannot be started until audio has commenced on the call.')]),
  // Media Storage (/v2/media). Refusals are 422, the status the spec declares for upload and
  // update (409 would make the SDK retry a duplicate name three times).
  mediaNotFound: (mediaName: string) =>
    new ApiError(404, [item('10005', 'Resource not found', `No media named '${mediaName}' is stored.`, '/media_name')]),
  mediaNameTaken: (mediaName: string) =>
    new ApiError(422, [item('10015', 'Media name already in use',
      `Media named '${mediaName}' already exists; update or delete it instead.`, '/media_name')]),
  mediaTooLarge: (detail: string, pointer: '/media' | '/media_url') =>
    new ApiError(422, [item('10015', 'Media file too large', detail, pointer)]),
  mediaContentType: (detail: string, pointer: '/media' | '/media_url') =>
    new ApiError(422, [item('10015', 'Unsupported media content type', detail, pointer)]),
  mediaDownloadFailed: (detail: string) =>
    new ApiError(422, [item('90040', 'Downloading media file failed', detail, '/media_url')]),
  mediaMalformedForm: (reason: string) =>
    new ApiError(400, [item('10015', 'Bad Request', `The multipart/form-data body could not be read: ${reason}.`)]),
  mediaNothingToUpdate: () =>
    new ApiError(422, [item('10004', 'Missing required parameter',
      "Send a 'media' file, a 'media_url' or 'ttl_secs' to update the media.")]),
  /** A query parameter (filter[…], page[…]) that is malformed, out of range or not accepted. */
  invalidQueryParameter: (parameter: string, detail: string) =>
    new ApiError(422, [{ code: '10015', title: 'Invalid query parameter', detail, source: { parameter } }]),
  // Call recordings (/v2/recordings, /v2/recording_transcriptions).
  recordingNotFound: (pointer = '/recording_id') =>
    new ApiError(404, [item('10005', 'Recording not found',
      'The recording could not be found. Please check the recording_id and try again.', pointer)]),
  /** A batch delete naming recordings that do not exist; one item per missing id, pointing into `ids`. */
  recordingsNotFound: (missing: readonly { index: number; id: string }[]) =>
    new ApiError(404, missing.map(({ index, id }) => item('10005', 'Recording not found',
      `No recording has the id '${id}'; nothing was deleted.`, `/ids/${index}`))),
  /** The recording exists but has no file in that format (or its file is gone). */
  recordingFileNotFound: (format: string) =>
    new ApiError(404, [item('10005', 'Recording file not found', `This recording has no ${format} file.`)]),
  /** A public recording URL that is unknown, tampered with, expired or revoked: all look the same. */
  recordingUrlNotFound: () =>
    new ApiError(404, [item('10005', 'Resource not found', 'This recording URL is not valid.')]),
  rangeNotSatisfiable: (size: number) =>
    new ApiError(416, [item('10015', 'Range not satisfiable', `The requested range is outside the file (${size} bytes).`)],
      { 'content-range': `bytes */${size}` }),
  transcriptionNotFound: () =>
    new ApiError(404, [item('10005', 'Recording transcription not found',
      'The recording transcription could not be found. Please check the recording_transcription_id and try again.',
      '/recording_transcription_id')]),
};
