import { randomBytes, randomUUID } from 'node:crypto';

/** Ids are random, so they stay unique when calls are spread over several nodes. */
export interface IdSource {
  uuid(): string;
  callControlId(): string;
}

export const randomIds: IdSource = {
  uuid: () => randomUUID(),
  // Shaped like Telnyx's: "v3:" then URL-safe base64; the SDK passes these through its path encoder unchanged.
  callControlId: () => `v3:${randomBytes(33).toString('base64url')}`,
};
