import { SipParseError } from './errors.js';
import { parsedField, SipHeaders } from './headers/header-list.js';
import { parseContentLength } from './headers/scalars.js';
import { SIP_VERSION, SipRequest, SipResponse } from './message.js';
import type { SipMessage } from './message.js';
import { isDigit, isToken, isWs, trimWs, trimWsEnd } from './syntax.js';
import { parseUri } from './uri.js';

/**
 * Turns bytes into a SipMessage (RFC 3261 §7). Untrusted input only ever produces a
 * SipParseError; cost is linear in the input and bounded by the limits below.
 */
export interface ParseLimits {
  /** Whole message (a datagram, or head plus body on a stream). */
  maxMessageBytes: number;
  maxHeaderBytes: number;
  maxHeaders: number;
  maxBodyBytes: number;
}

export const DEFAULT_PARSE_LIMITS: Readonly<ParseLimits> = {
  maxMessageBytes: 65_535,
  maxHeaderBytes: 32 * 1024,
  maxHeaders: 256,
  maxBodyBytes: 60 * 1024,
};

export interface ParseOptions {
  limits?: Partial<ParseLimits>;
  /**
   * datagram: a missing Content-Length means the body runs to the end (§18.3), and octets past
   * the declared length are discarded (RFC 4475 §3.1.1.8). stream: the framer has already cut
   * the message, and a missing Content-Length means no body.
   */
  framing?: 'datagram' | 'stream';
}

export function parseMessage(data: Buffer, options: ParseOptions = {}): SipMessage {
  try {
    return parseUnchecked(data, { ...DEFAULT_PARSE_LIMITS, ...options.limits }, options.framing ?? 'datagram');
  } catch (err) {
    if (err instanceof SipParseError) throw err;
    // A bug here must not take the transport down; the code makes it visible to tests.
    throw new SipParseError('internal', `parser fault: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export interface HeadBounds {
  /** Index of the first start-line octet (leading CRLFs skipped, RFC 3261 §7.5). */
  start: number;
  /** End of the last header line. */
  headEnd: number;
  bodyStart: number;
}

/**
 * Finds the empty line ending the head; null when it has not arrived yet. `scanFrom` lets a
 * stream reader resume where its last search stopped instead of rescanning every octet.
 */
export function findHead(buf: Buffer, from = 0, scanFrom = 0): HeadBounds | null {
  let start = from;
  while (start < buf.length && (buf[start] === 0x0d || buf[start] === 0x0a)) start++;
  for (let i = Math.max(start, scanFrom); i < buf.length; i++) {
    if (buf[i] !== 0x0a) continue;
    if (buf[i + 1] === 0x0a) return { start, headEnd: i, bodyStart: i + 2 };
    if (buf[i + 1] === 0x0d && buf[i + 2] === 0x0a) return { start, headEnd: i, bodyStart: i + 3 };
  }
  return null;
}

function parseUnchecked(data: Buffer, limits: ParseLimits, framing: 'datagram' | 'stream'): SipMessage {
  if (data.length > limits.maxMessageBytes) throw new SipParseError('too-large', `message of ${data.length} octets`, 513);
  const head = findHead(data);
  if (!head) {
    const empty = data.every((b) => b === 0x0d || b === 0x0a || b === 0x20 || b === 0x09);
    throw empty ? new SipParseError('empty', 'no message') : new SipParseError('incomplete', 'no empty line after the headers');
  }
  if (head.headEnd - head.start > limits.maxHeaderBytes) throw new SipParseError('too-large', 'header section too large', 513);
  const lines = splitLines(data.toString('utf8', head.start, head.headEnd));
  const startLine = lines[0] ?? '';
  const headers = parseHeaderLines(lines, limits.maxHeaders);
  try {
    const body = readBody(data, head.bodyStart, headers, limits, framing);
    return buildMessage(startLine, headers, body);
  } catch (err) {
    if (err instanceof SipParseError && !startLine.startsWith('SIP/')) err.requestHeaders = headers;
    throw err;
  }
}

/** Splits on LF, dropping the CR of each CRLF. A lone CR could smuggle a line break: refused. */
export function splitLines(text: string): string[] {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i] ?? '';
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.includes('\r')) throw new SipParseError('bad-header', 'bare CR inside a line');
    lines[i] = line;
  }
  return lines;
}

/**
 * Header lines after the start line. A folded continuation line is equivalent to one SP
 * (§7.3.1); pieces are joined once per header so a long run of folds stays linear.
 */
export function parseHeaderLines(lines: readonly string[], maxHeaders: number): SipHeaders {
  const headers = new SipHeaders();
  let name: string | null = null;
  let pieces: string[] = [];
  const flush = (): void => {
    if (name === null) return;
    if (headers.size >= maxHeaders) throw new SipParseError('too-large', `more than ${maxHeaders} headers`, 513);
    const value = pieces.length === 1 ? trimWs((pieces[0] ?? '')) : pieces.map((p) => trimWs(p)).filter((p) => p.length > 0).join(' ');
    headers.appendField(parsedField(name, value));
  };
  for (let n = 1; n < lines.length; n++) {
    const line = lines[n] ?? '';
    if (line.length > 0 && isWs(line.charCodeAt(0))) {
      if (name === null) throw new SipParseError('bad-header', 'continuation line before any header');
      pieces.push(line);
      continue;
    }
    flush();
    const colon = line.indexOf(':');
    const rawName = colon > 0 ? trimWsEnd(line.slice(0, colon)) : '';
    if (!isToken(rawName)) throw new SipParseError('bad-header', `malformed header line ${JSON.stringify(line.slice(0, 40))}`);
    name = rawName;
    pieces = [line.slice(colon + 1)];
  }
  flush();
  return headers;
}

function readBody(data: Buffer, bodyStart: number, headers: SipHeaders, limits: ParseLimits, framing: 'datagram' | 'stream'): Buffer {
  const declared = headers.getAll('content-length');
  // RFC 4475 §3.1.3.9: with two lengths there is no telling where the body ends.
  if (declared.length > 1) throw new SipParseError('bad-content-length', 'more than one Content-Length', 400, 'Content-Length');
  const available = data.length - bodyStart;
  const first = declared[0];
  if (first === undefined) {
    if (framing === 'stream') return data.subarray(bodyStart, bodyStart);
    if (available > limits.maxBodyBytes) throw new SipParseError('too-large', 'body too large', 513);
    return data.subarray(bodyStart);
  }
  const length = parseContentLength(first, limits.maxBodyBytes);
  if (length > available) {
    throw new SipParseError('incomplete', `Content-Length ${length} but ${available} octets follow`, 400, 'Content-Length');
  }
  return data.subarray(bodyStart, bodyStart + length);
}

function buildMessage(startLine: string, headers: SipHeaders, body: Buffer): SipMessage {
  if (startLine.startsWith('SIP/')) {
    const status = parseStatusLine(startLine);
    return new SipResponse(status.code, status.reason, headers, body);
  }
  const parts = startLine.split(' ');
  const [method, uriText, version] = parts;
  // Exactly one SP between elements, none at the end (RFC 4475 §3.1.2.8-10).
  if (parts.length !== 3 || method === undefined || uriText === undefined || version === undefined || !isToken(method) || uriText.length === 0) {
    throw new SipParseError('bad-start-line', `malformed Request-Line ${JSON.stringify(startLine.slice(0, 60))}`);
  }
  checkVersion(version);
  return SipRequest.withParsedUri(method, parseRequestUri(uriText), uriText, headers, body);
}

function parseRequestUri(text: string): ReturnType<typeof parseUri> {
  let uri;
  try {
    uri = parseUri(text);
  } catch (err) {
    if (err instanceof SipParseError) throw new SipParseError('bad-request-uri', `bad Request-URI: ${err.message}`);
    throw err;
  }
  // §19.1.1: headers are not allowed in a Request-URI (RFC 4475 §3.1.2.11).
  if (uri.kind === 'sip' && uri.headers.length > 0) throw new SipParseError('bad-request-uri', 'Request-URI carries headers');
  return uri;
}

function checkVersion(version: string): void {
  if (version.toUpperCase() === SIP_VERSION) return;
  if (version.toUpperCase().startsWith('SIP/')) throw new SipParseError('bad-version', `unsupported version ${version.slice(0, 20)}`, 505);
  throw new SipParseError('bad-start-line', 'missing SIP version');
}

function parseStatusLine(line: string): { code: number; reason: string } {
  const sp1 = line.indexOf(' ');
  if (sp1 < 0) throw new SipParseError('bad-start-line', 'malformed Status-Line');
  checkVersion(line.slice(0, sp1));
  const sp2 = line.indexOf(' ', sp1 + 1);
  // RFC 4475 §3.1.1.13 wants "SIP/2.0 100 " accepted; we also accept it without the final SP.
  const codeText = sp2 < 0 ? line.slice(sp1 + 1) : line.slice(sp1 + 1, sp2);
  const code = codeText.length === 3 && [...codeText].every((ch) => isDigit(ch.charCodeAt(0))) ? Number(codeText) : 0;
  if (code < 100 || code > 699) throw new SipParseError('bad-status', `bad status code ${JSON.stringify(codeText.slice(0, 12))}`);
  return { code, reason: sp2 < 0 ? '' : line.slice(sp2 + 1) };
}
