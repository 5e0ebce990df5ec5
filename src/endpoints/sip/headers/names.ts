/**
 * Header names: compact forms (RFC 3261 §7.3.3 and the IANA registry) and the canonical spelling
 * used on the wire. Lookup keys are the lower-cased long form.
 */
const COMPACT: Readonly<Record<string, string>> = {
  a: 'accept-contact',
  b: 'referred-by',
  c: 'content-type',
  d: 'request-disposition',
  e: 'content-encoding',
  f: 'from',
  i: 'call-id',
  j: 'reject-contact',
  k: 'supported',
  l: 'content-length',
  m: 'contact',
  n: 'identity-info',
  o: 'event',
  r: 'refer-to',
  s: 'subject',
  t: 'to',
  u: 'allow-events',
  v: 'via',
  x: 'session-expires',
  y: 'identity',
};

const CANONICAL: ReadonlyMap<string, string> = new Map(
  [
    'Accept', 'Accept-Contact', 'Accept-Encoding', 'Accept-Language', 'Alert-Info', 'Allow', 'Allow-Events',
    'Authentication-Info', 'Authorization', 'Call-ID', 'Call-Info', 'Contact', 'Content-Disposition',
    'Content-Encoding', 'Content-Language', 'Content-Length', 'Content-Type', 'CSeq', 'Date', 'Error-Info',
    'Event', 'Expires', 'From', 'Identity', 'Identity-Info', 'In-Reply-To', 'Max-Forwards', 'MIME-Version',
    'Min-Expires', 'Min-SE', 'Organization', 'P-Asserted-Identity', 'Priority', 'Privacy', 'Proxy-Authenticate',
    'Proxy-Authorization', 'Proxy-Require', 'RAck', 'Reason', 'Record-Route', 'Refer-To', 'Referred-By',
    'Reject-Contact', 'Reply-To', 'Request-Disposition', 'Require', 'Retry-After', 'Route', 'RSeq', 'Server',
    'Session-Expires', 'Subject', 'Supported', 'Timestamp', 'To', 'Unsupported', 'User-Agent', 'Via', 'Warning',
    'WWW-Authenticate',
  ].map((name) => [name.toLowerCase(), name]),
);

/** Headers that may appear once only (RFC 3261 §7.3.1: no comma lists); a second is a 400. */
export const SINGLE_VALUED: ReadonlySet<string> = new Set([
  'call-id',
  'cseq',
  'from',
  'to',
  'max-forwards',
  'content-length',
  'content-type',
]);

/** The lookup key for a header name as received: lower-case long form. */
export function headerKey(name: string): string {
  const lower = name.toLowerCase();
  return lower.length === 1 ? (COMPACT[lower] ?? lower) : lower;
}

/** The name to write: canonical spelling for known headers, the received spelling otherwise. */
export function displayName(name: string): string {
  const key = headerKey(name);
  return CANONICAL.get(key) ?? (name.length === 1 ? key : name);
}
