import type { SipGatewayConfig } from '../../config/config.js';
import type { OutgoingCallOptions } from '../sip/outgoing-call.js';
import type { Uri } from '../sip/uri.js';
import { hostReference, parseUri } from '../sip/uri.js';

export type DialTarget = Omit<OutgoingCallOptions, 'offer'>;

/** What the outbound side needs to know about us and the trunk. */
export interface DialContext {
  /** Host for From URIs built from a bare number. */
  localHost: string;
  gateway: SipGatewayConfig | null;
}

const E164 = /^\+?[1-9][0-9]{2,14}$/;

/**
 * Where a `dial` goes: a `sip:` URI is called directly (host, port and transport as written); a
 * phone number goes to the configured gateway. Null when neither applies, which the engine
 * reports as not found.
 */
export function dialTarget(to: string, from: string, context: DialContext): DialTarget | null {
  if (/^sips?:/i.test(to)) {
    const uri = tryParse(to);
    if (uri?.kind !== 'sip' || uri.scheme !== 'sip') return null;
    return { to, from: fromUri(from, context.localHost) };
  }
  const gateway = context.gateway;
  if (!gateway || !E164.test(to)) return null;
  const domain = hostReference(gateway.domain ?? gateway.host);
  const credentials = gateway.username !== undefined && gateway.password !== undefined
    ? { username: gateway.username, password: gateway.password }
    : undefined;
  return {
    to: `sip:${to}@${domain}`,
    from: fromUri(from, domain),
    proxy: { host: gateway.host, port: gateway.port ?? 5060 },
    transport: gateway.transport === 'tcp' ? 'TCP' : 'UDP',
    ...(credentials ? { credentials } : {}),
  };
}

/** A From URI: as given when it is one, else the number or name at `host`. */
export function fromUri(from: string, host: string): string {
  if (/^sips?:/i.test(from) && tryParse(from)?.kind === 'sip') return from;
  const user = from.includes('@') ? from : `${encodeUser(from)}@${host}`;
  return `sip:${user}`;
}

/**
 * How a SIP party appears in call.initiated `from` and `to`: the user part (a number or name, what
 * an IVR compares), or the whole URI when it has none.
 */
export function partyName(uri: Uri): string {
  if (uri.kind === 'sip') return uri.user ?? `${uri.scheme}:${uri.host}`;
  if (uri.kind === 'tel') return uri.number;
  return `${uri.scheme}:${uri.opaque}`;
}

function tryParse(text: string): Uri | null {
  try {
    return parseUri(text);
  } catch {
    return null;
  }
}

/** RFC 3261 user part: unreserved characters and a few marks pass, the rest is %-escaped. */
function encodeUser(user: string): string {
  return user.replace(/[^A-Za-z0-9\-_.!~*'()&=+$,;?/]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}
