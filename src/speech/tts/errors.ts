/**
 * Every failure of text-to-speech carries a code so that the speak action can report it on the
 * call (`call.speak.ended` with a reason) without parsing messages; the message is for people.
 */
export type TtsErrorCode =
  /** The voice string matches none of the accepted formats. */
  | 'invalid_voice'
  /** The SSML payload could not be parsed, or used a value we cannot interpret. */
  | 'invalid_ssml'
  /** No engine here (embedded, installed or configured) speaks the requested language. */
  | 'unsupported_language'
  /** An engine ran but failed: a crash, an HTTP error, unreadable audio. */
  | 'provider_error'
  /** An engine did not answer in time. */
  | 'provider_timeout';

export class TtsError extends Error {
  readonly code: TtsErrorCode;

  constructor(code: TtsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TtsError';
    this.code = code;
  }
}

export function isTtsError(error: unknown, code?: TtsErrorCode): error is TtsError {
  return error instanceof TtsError && (code === undefined || error.code === code);
}
