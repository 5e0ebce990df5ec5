import { SipParseError } from './errors.js';
import { SipHeaders } from './headers/header-list.js';
import { parseContactList, parseNameAddr, parseRouteList, tagOf } from './headers/name-addr.js';
import type { ContactList, NameAddr } from './headers/name-addr.js';
import { parseCSeq, parseMaxForwards } from './headers/scalars.js';
import type { CSeq } from './headers/scalars.js';
import { parseViaList } from './headers/via.js';
import type { Via } from './headers/via.js';
import { displayName } from './headers/names.js';
import { reasonPhrase } from './reason-phrases.js';
import { trimWs } from './syntax.js';
import { formatUri, parseUri } from './uri.js';
import type { Uri } from './uri.js';

export const SIP_VERSION = 'SIP/2.0';

/**
 * A SIP message: start line, headers kept as text, and the body as bytes. Typed accessors parse
 * the header they read each time they are called; callers that need a value twice keep it.
 */
abstract class SipMessageBase {
  constructor(
    public headers: SipHeaders = new SipHeaders(),
    public body: Buffer = Buffer.alloc(0),
  ) {}

  /** All Via values, topmost first. */
  vias(): Via[] {
    return parseViaList(this.headers.getAll('via'));
  }

  topVia(): Via {
    const top = this.headers.get('via');
    if (top === undefined) throw missing('Via');
    const first = parseViaList([top])[0];
    if (!first) throw missing('Via');
    return first;
  }

  from(): NameAddr {
    return parseNameAddr(this.required('from'), 'From');
  }

  to(): NameAddr {
    return parseNameAddr(this.required('to'), 'To');
  }

  fromTag(): string | null {
    return tagOf(this.from());
  }

  toTag(): string | null {
    return tagOf(this.to());
  }

  callId(): string {
    return this.required('call-id');
  }

  cseq(): CSeq {
    return parseCSeq(this.required('cseq'));
  }

  /** `*`, or the Contact name-addrs ([] when there is no Contact). */
  contacts(): ContactList {
    const lines = this.headers.getAll('contact');
    return lines.length === 0 ? [] : parseContactList(lines);
  }

  /** The first Contact's URI, the remote target a dialog needs (§12.1). */
  contactUri(): Uri | null {
    const list = this.contacts();
    return list === '*' ? null : (list[0]?.uri ?? null);
  }

  maxForwards(): number | null {
    const v = this.headers.get('max-forwards');
    return v === undefined ? null : parseMaxForwards(v);
  }

  routes(): NameAddr[] {
    return parseRouteList(this.headers.getAll('route'), 'Route');
  }

  recordRoutes(): NameAddr[] {
    return parseRouteList(this.headers.getAll('record-route'), 'Record-Route');
  }

  /** The media type, lower-cased, without parameters (`application/sdp`); null without one. */
  contentType(): string | null {
    const v = this.headers.get('content-type');
    if (v === undefined) return null;
    const semi = v.indexOf(';');
    return trimWs(semi >= 0 ? v.slice(0, semi) : v).toLowerCase();
  }

  protected required(name: string): string {
    const v = this.headers.get(name);
    if (v === undefined || v.length === 0) throw missing(name);
    return v;
  }
}

export class SipRequest extends SipMessageBase {
  readonly kind = 'request';
  private parsedUri: Uri | undefined;

  constructor(
    public method: string,
    public uri: string,
    headers?: SipHeaders,
    body?: Buffer,
  ) {
    super(headers, body);
  }

  requestUri(): Uri {
    this.parsedUri ??= parseUri(this.uri);
    return this.parsedUri;
  }

  /** Lets the parser hand over the URI it already parsed while checking the start line. */
  static withParsedUri(method: string, uri: Uri, text: string, headers: SipHeaders, body: Buffer): SipRequest {
    const req = new SipRequest(method, text, headers, body);
    req.parsedUri = uri;
    return req;
  }

  clone(): SipRequest {
    return new SipRequest(this.method, this.uri, this.headers.clone(), this.body);
  }
}

export class SipResponse extends SipMessageBase {
  readonly kind = 'response';

  constructor(
    public status: number,
    public reason: string = reasonPhrase(status),
    headers?: SipHeaders,
    body?: Buffer,
  ) {
    super(headers, body);
  }

  clone(): SipResponse {
    return new SipResponse(this.status, this.reason, this.headers.clone(), this.body);
  }
}

export type SipMessage = SipRequest | SipResponse;

export interface RequestInit {
  method: string;
  uri: string | Uri;
  headers?: ReadonlyArray<readonly [string, string]>;
  body?: Buffer | string;
  contentType?: string;
}

export function createRequest(init: RequestInit): SipRequest {
  const uri = typeof init.uri === 'string' ? init.uri : formatUri(init.uri);
  const req = new SipRequest(init.method, uri);
  for (const [name, value] of init.headers ?? []) req.headers.append(name, value);
  setBody(req, init.body, init.contentType);
  return req;
}

export interface ResponseInit {
  reason?: string;
  /** Added to To when it has no tag yet (every response but 100, RFC 3261 §8.2.6.2). */
  toTag?: string;
  headers?: ReadonlyArray<readonly [string, string]>;
  body?: Buffer | string;
  contentType?: string;
}

/** A response to `req` with Via, From, To, Call-ID and CSeq copied (RFC 3261 §8.2.6.2). */
export function createResponse(req: SipRequest, status: number, init: ResponseInit = {}): SipResponse {
  const res = new SipResponse(status, init.reason ?? reasonPhrase(status));
  for (const via of req.headers.getAll('via')) res.headers.append('Via', via);
  res.headers.append('From', req.headers.get('from') ?? '');
  let to = req.headers.get('to') ?? '';
  if (init.toTag !== undefined && status > 100 && !hasTag(req)) to += `;tag=${init.toTag}`;
  res.headers.append('To', to);
  res.headers.append('Call-ID', req.headers.get('call-id') ?? '');
  res.headers.append('CSeq', req.headers.get('cseq') ?? '');
  const timestamp = req.headers.get('timestamp');
  if (status === 100 && timestamp !== undefined) res.headers.append('Timestamp', timestamp);
  for (const [name, value] of init.headers ?? []) res.headers.append(name, value);
  setBody(res, init.body, init.contentType);
  return res;
}

function hasTag(req: SipRequest): boolean {
  try {
    return req.toTag() !== null;
  } catch {
    return false;
  }
}

export function setBody(msg: SipMessage, body: Buffer | string | undefined, contentType: string | undefined): void {
  if (body === undefined) return;
  msg.body = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  if (contentType !== undefined) msg.headers.set('Content-Type', contentType);
}

function missing(name: string): SipParseError {
  return new SipParseError('missing-header', `missing ${displayName(name)} header`, 400, displayName(name));
}
