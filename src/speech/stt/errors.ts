/**
 * Every failure of speech-to-text carries a code, so that a transcription action can report it
 * on the call without parsing messages; the message is for people and says what to do.
 */
export type SttErrorCode =
  /** No engine here (installed or configured) can transcribe the requested language. */
  | 'no_engine'
  /** The engine asked cannot transcribe this language. */
  | 'unsupported_language'
  /** A recognition grammar had no phrase the engine can recognise (every one used unknown words). */
  | 'invalid_grammar'
  /** An engine ran but failed: a crash, an HTTP error, an unreadable answer. */
  | 'provider_error'
  /** An engine did not answer in time. */
  | 'provider_timeout'
  /** The engine runs as many live transcriptions as it may; whole transcription still works. */
  | 'busy';

export class SttError extends Error {
  readonly code: SttErrorCode;

  constructor(code: SttErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SttError';
    this.code = code;
  }
}

export function isSttError(error: unknown, code?: SttErrorCode): error is SttError {
  return error instanceof SttError && (code === undefined || error.code === code);
}
