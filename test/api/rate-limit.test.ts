import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Telnyx from 'telnyx';
import { TestSwitchboard } from '../../src/testing/harness.js';
import { sdkClient } from '../helpers/sdk.js';

describe('rate limiting per API key', () => {
  let sb: TestSwitchboard;
  before(async () => {
    sb = await TestSwitchboard.start({ config: { rateLimit: { requestsPerSecond: 4, burst: 3 } } });
  });
  after(async () => {
    await sb.close();
  });

  it('answers 429 with retry-after once the burst is spent, and the SDK raises RateLimitError', async () => {
    const client = sdkClient(sb);
    for (let i = 0; i < 3; i++) await client.callControlApplications.list();
    const error = await client.callControlApplications.list().then(() => null, (e: unknown) => e);
    assert.ok(error instanceof Telnyx.RateLimitError, String(error));
    assert.equal(error.status, 429);
    const retryAfterMs = Number(error.headers?.get('retry-after-ms'));
    assert.ok(retryAfterMs > 0 && retryAfterMs <= 250, `retry-after-ms ${retryAfterMs}`);
    assert.equal(error.headers?.get('retry-after'), '1');
    assert.equal((error.error as { errors: { code: string }[] }).errors[0]?.code, '10011');
  });

  it('lets the SDK retry after the wait it was told, and succeed', async () => {
    const client = sdkClient(sb, { maxRetries: 2 });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    for (let i = 0; i < 3; i++) await client.callControlApplications.list();
    const started = Date.now();
    await client.callControlApplications.list();
    assert.ok(Date.now() - started >= 150, 'the SDK waited before retrying');
  });

  it('an unknown key gets 401, not 429', async () => {
    const res = await fetch(`${sb.baseURL}/calls/nothing`, { headers: { authorization: 'Bearer not-a-key' } });
    assert.equal(res.status, 401);
  });
});
