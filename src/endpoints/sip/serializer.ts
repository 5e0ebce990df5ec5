import { SIP_VERSION } from './message.js';
import type { SipMessage } from './message.js';

/**
 * Renders a message for the wire: start line, one line per header field in order, and a
 * Content-Length computed from the body bytes (any Content-Length already present is replaced,
 * so the value can never disagree with the body).
 */
export function serializeMessage(msg: SipMessage): Buffer {
  let head = msg.kind === 'request' ? `${msg.method} ${msg.uri} ${SIP_VERSION}\r\n` : `${SIP_VERSION} ${msg.status} ${msg.reason}\r\n`;
  for (const field of msg.headers) {
    if (field.key === 'content-length') continue;
    head += `${field.name}: ${field.value}\r\n`;
  }
  head += `Content-Length: ${msg.body.length}\r\n\r\n`;
  const headBytes = Buffer.from(head, 'utf8');
  return msg.body.length === 0 ? headBytes : Buffer.concat([headBytes, msg.body]);
}
