import { randomBytes, randomInt } from 'node:crypto';
import { MAGIC_COOKIE } from './headers/via.js';

/** Identifiers with enough randomness to be unique across nodes (RFC 3261 §8.1.1.4, §19.3). */
export function newBranch(): string {
  return MAGIC_COOKIE + randomBytes(10).toString('hex');
}

export function newTag(): string {
  return randomBytes(8).toString('hex');
}

export function newCallId(host: string): string {
  return `${randomBytes(12).toString('hex')}@${host}`;
}

/** A first CSeq below 2^31 (§8.1.1.5), leaving room to count up. */
export function newCSeq(): number {
  return randomInt(1, 0x10000);
}
