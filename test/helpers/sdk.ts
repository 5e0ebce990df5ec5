import Telnyx from 'telnyx';
import type { ReceivedWebhook } from '../../src/testing/webhook-receiver.js';
import type { TestSwitchboard } from '../../src/testing/harness.js';

/** The official SDK pointed at a test Switchboard, failing fast instead of retrying. */
export function sdkClient(sb: TestSwitchboard, overrides: { apiKey?: string; maxRetries?: number } = {}): Telnyx {
  return new Telnyx({
    apiKey: overrides.apiKey ?? sb.apiKey,
    baseURL: sb.baseURL,
    publicKey: sb.publicKey,
    maxRetries: overrides.maxRetries ?? 0,
    timeout: 10_000,
  });
}

export interface VerifiedEvent {
  event_type: string;
  id: string;
  occurred_at: string;
  payload: Record<string, unknown>;
}

/** Verifies a delivery exactly as an app would, with the SDK's own unwrap, and returns its data. */
export async function verify(client: Telnyx, webhook: ReceivedWebhook): Promise<VerifiedEvent> {
  const event = (await client.webhooks.unwrap(webhook.rawBody, { headers: webhook.headers })) as unknown as { data: VerifiedEvent };
  return event.data;
}
