/**
 * Server-sent events, as far as chat-completion streams need them: the `data` of each event.
 * Lines end in LF, CRLF or CR; an empty line ends an event; several `data:` lines in one event
 * are joined with LF; comments (`:`) and other fields (`event`, `id`, `retry`) are skipped.
 */
export class SseDataDecoder {
  private buffer = '';
  private data: string[] = [];
  /** A CR ended the last chunk: an LF starting the next one belongs to it. */
  private pendingCr = false;
  private readonly maxLineChars: number;

  constructor(options: { maxLineChars?: number } = {}) {
    this.maxLineChars = options.maxLineChars ?? 1_048_576;
  }

  /** Feeds decoded text; returns the data of the events it completed. Throws on an overlong line. */
  push(text: string): string[] {
    if (this.pendingCr && text.startsWith('\n')) text = text.slice(1);
    this.pendingCr = false;
    this.buffer += text;
    const events: string[] = [];
    const newline = /\r\n|\r|\n/g;
    let start = 0;
    for (;;) {
      newline.lastIndex = start;
      const match = newline.exec(this.buffer);
      if (match === null) break;
      const end = match.index;
      // A CR at the very end may be the first half of a CRLF split across chunks.
      if (match[0] === '\r' && end === this.buffer.length - 1) this.pendingCr = true;
      this.line(this.buffer.slice(start, end), events);
      start = end + match[0].length;
    }
    this.buffer = this.buffer.slice(start);
    if (this.buffer.length > this.maxLineChars) {
      throw new RangeError(`an event-stream line is longer than ${this.maxLineChars} characters`);
    }
    return events;
  }

  /** The input ended: an event left without its closing blank line still counts. */
  end(): string[] {
    const events: string[] = [];
    if (this.buffer !== '') this.line(this.buffer, events);
    this.buffer = '';
    if (this.data.length > 0) this.line('', events);
    return events;
  }

  private line(line: string, events: string[]): void {
    if (line === '') {
      if (this.data.length > 0) events.push(this.data.join('\n'));
      this.data = [];
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    if (field !== 'data') return;
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    this.data.push(value);
  }
}
