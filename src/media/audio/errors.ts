/**
 * Why a piece of audio could not be turned into engine samples. Callers map `reason` onto the
 * playback failure they report (a file we cannot read is a different complaint from an empty one),
 * so the message is for logs and the reason is for code.
 */
export type AudioDecodeFailure = 'unsupported' | 'corrupt' | 'empty';

export class AudioDecodeError extends Error {
  readonly reason: AudioDecodeFailure;

  constructor(reason: AudioDecodeFailure, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AudioDecodeError';
    this.reason = reason;
  }
}
