import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Telnyx from 'telnyx';
import { TestSwitchboard } from '../../src/testing/harness.js';
import { sdkClient } from '../helpers/sdk.js';

describe('/v2/call_control_applications through the SDK', () => {
  let sb: TestSwitchboard;
  let client: Telnyx;

  before(async () => {
    sb = await TestSwitchboard.start();
    client = sdkClient(sb);
  });

  after(() => sb.close());

  it('creates, retrieves, lists, updates and deletes', async () => {
    const created = await client.callControlApplications.create({
      application_name: 'support-line',
      webhook_event_url: 'https://example.test/hooks',
      webhook_event_failover_url: 'https://failover.example.test/hooks',
      webhook_timeout_secs: 5,
    });
    const app = created.data;
    assert.ok(app);
    assert.match(app.id ?? '', /^\d{19}$/);
    assert.equal(app.record_type, 'call_control_application');
    assert.equal(app.application_name, 'support-line');
    assert.equal(app.webhook_timeout_secs, 5);
    assert.equal(app.active, true, 'defaults are filled in');
    assert.equal(app.dtmf_type, 'RFC 2833');

    const fetched = await client.callControlApplications.retrieve(app.id as string);
    assert.deepEqual(fetched.data, app);

    await client.callControlApplications.create({ application_name: 'sales-line', webhook_event_url: 'https://example.test/sales' });
    const names: string[] = [];
    for await (const a of client.callControlApplications.list()) names.push(a.application_name ?? '');
    assert.deepEqual(names, ['sales-line', 'support-line'], 'newest first when no sort is given');
    const oldestFirst = await client.callControlApplications.list({ sort: 'created_at' });
    assert.deepEqual(oldestFirst.data.map((a) => a.application_name), ['support-line', 'sales-line']);
    const filtered = await client.callControlApplications.list({ filter: { application_name: { contains: 'SALES' } } });
    assert.deepEqual(filtered.data.map((a) => a.application_name), ['sales-line']);

    const updated = await client.callControlApplications.update(app.id as string, {
      application_name: 'support-line-2', webhook_event_url: 'https://example.test/v2',
    });
    assert.equal(updated.data?.application_name, 'support-line-2');
    assert.equal(updated.data?.webhook_event_failover_url, 'https://failover.example.test/hooks', 'fields not sent are kept');

    const deleted = await client.callControlApplications.delete(app.id as string);
    assert.equal(deleted.data?.id, app.id);
    await assert.rejects(client.callControlApplications.retrieve(app.id as string), (err: unknown) => err instanceof Telnyx.NotFoundError);
  });

  it('paginates with page[number] and page[size]', async () => {
    for (let i = 0; i < 3; i++) {
      await client.callControlApplications.create({ application_name: `page-${i}`, webhook_event_url: 'https://example.test/p' });
    }
    const page = await client.callControlApplications.list({ 'page[number]': 2, 'page[size]': 2, sort: 'created_at', filter: { application_name: { contains: 'page-' } } });
    assert.deepEqual(page.data.map((a) => a.application_name), ['page-2']);
  });

  it('rejects a create without the required fields, naming each', async () => {
    await assert.rejects(
      client.callControlApplications.create({} as unknown as Telnyx.CallControlApplicationCreateParams),
      (err: unknown) => {
        assert.ok(err instanceof Telnyx.UnprocessableEntityError);
        const pointers = (err.error as { errors: { source?: { pointer?: string } }[] }).errors.map((e) => e.source?.pointer).sort();
        assert.deepEqual(pointers, ['/application_name', '/webhook_event_url']);
        return true;
      },
    );
  });
});
