import { SipParseError } from './errors.js';
import { parseContentLength } from './headers/scalars.js';
import { findHead, parseHeaderLines, splitLines } from './parser.js';

/**
 * Cuts a TCP byte stream into SIP messages by Content-Length (RFC 3261 §18.3). Keep-alive CRLFs
 * between messages (RFC 5626 §3.5.1) are skipped. Any framing error is fatal for the
 * connection: once a length is wrong there is no telling where the next message starts.
 */
export interface FramerLimits {
  maxHeaderBytes: number;
  maxBodyBytes: number;
  maxHeaders: number;
}

export class SipStreamFramer {
  private buf = Buffer.allocUnsafe(4096);
  private start = 0;
  private end = 0;
  /** Where the search for the end of the current head resumes. */
  private scanFrom = 0;
  /** Total length of the message being received, once its head is complete. */
  private expected: number | null = null;

  constructor(private readonly limits: FramerLimits) {}

  /** Returns the complete messages now available, each in its own buffer. */
  push(chunk: Buffer): Buffer[] {
    this.append(chunk);
    const out: Buffer[] = [];
    for (;;) {
      const message = this.next();
      if (!message) break;
      out.push(message);
    }
    this.compact();
    return out;
  }

  /** Octets held that do not yet form a message. */
  get buffered(): number {
    return this.end - this.start;
  }

  private next(): Buffer | null {
    if (this.expected === null) {
      while (this.start < this.end && (this.buf[this.start] === 0x0d || this.buf[this.start] === 0x0a)) this.start++;
      if (this.start === this.end) return null;
      const view = this.buf.subarray(this.start, this.end);
      const head = findHead(view, 0, Math.max(0, this.scanFrom - this.start));
      if (!head) {
        if (view.length > this.limits.maxHeaderBytes) throw new SipParseError('too-large', 'header section too large', 513);
        this.scanFrom = Math.max(this.start, this.end - 2);
        return null;
      }
      if (head.headEnd > this.limits.maxHeaderBytes) throw new SipParseError('too-large', 'header section too large', 513);
      this.expected = head.bodyStart + this.contentLength(view, head.headEnd);
    }
    if (this.end - this.start < this.expected) return null;
    const message = Buffer.from(this.buf.subarray(this.start, this.start + this.expected));
    this.start += this.expected;
    this.scanFrom = this.start;
    this.expected = null;
    return message;
  }

  /** A missing Content-Length on a stream is taken as zero. */
  private contentLength(view: Buffer, headEnd: number): number {
    const headers = parseHeaderLines(splitLines(view.toString('utf8', 0, headEnd)), this.limits.maxHeaders);
    const lengths = headers.getAll('content-length');
    if (lengths.length > 1) throw new SipParseError('bad-content-length', 'more than one Content-Length', 400, 'Content-Length');
    const first = lengths[0];
    return first === undefined ? 0 : parseContentLength(first, this.limits.maxBodyBytes);
  }

  /** Grows by doubling so a message arriving one octet at a time still costs linear time. */
  private append(chunk: Buffer): void {
    if (this.end + chunk.length > this.buf.length) {
      this.compact();
      if (this.end + chunk.length > this.buf.length) {
        let size = this.buf.length;
        while (size < this.end + chunk.length) size *= 2;
        const grown = Buffer.allocUnsafe(size);
        this.buf.copy(grown, 0, 0, this.end);
        this.buf = grown;
      }
    }
    chunk.copy(this.buf, this.end);
    this.end += chunk.length;
  }

  private compact(): void {
    if (this.start === 0) return;
    this.buf.copy(this.buf, 0, this.start, this.end);
    this.end -= this.start;
    this.scanFrom = Math.max(0, this.scanFrom - this.start);
    this.start = 0;
  }
}
