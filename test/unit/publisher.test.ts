import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Application } from '../../src/applications/application.js';
import type { LegRecord } from '../../src/calls/leg-record.js';
import { callEvents } from '../../src/events/catalogue.js';
import { EventPublisher } from '../../src/events/publisher.js';
import type { OutboxEvent } from '../../src/events/types.js';
import { VirtualClock } from '../../src/util/clock.js';
import { randomIds } from '../../src/util/ids.js';

const leg: LegRecord = {
  callControlId: 'v3:a', callLegId: 'l', callSessionId: 's', connectionId: '1', direction: 'incoming', from: '+1', to: '+2',
  state: 'initiated', clientState: null, startMs: 0, answerMs: null, endMs: null, hangup: null, webhookUrl: null, webhookFailoverUrl: null,
};

function publish(app: Partial<Application>, legOverrides: Partial<LegRecord> = {}): OutboxEvent {
  const written: OutboxEvent[] = [];
  const publisher = new EventPublisher({
    outbox: { enqueue: (e) => written.push(e) }, delivery: { kick: () => {} },
    applications: { get: () => app as Application }, clock: new VirtualClock(), ids: randomIds, defaultWebhookTimeoutMs: 10_000,
  });
  const l = { ...leg, ...legOverrides };
  publisher.publish(l, callEvents.initiated(l));
  return written[0] as OutboxEvent;
}

it('an empty failover URL means none, so no attempt is made to ""', () => {
  const e = publish({ webhook_event_url: 'http://a/', webhook_event_failover_url: '' });
  assert.equal(e.url, 'http://a/');
  assert.equal(e.failoverUrl, null);
  assert.equal(e.timeoutMs, 10_000);
});

it("the application's timeout and failover apply; a dial webhook_url overrides both", () => {
  const e = publish({ webhook_event_url: 'http://a/', webhook_event_failover_url: 'http://b/', webhook_timeout_secs: 3 });
  assert.deepEqual([e.url, e.failoverUrl, e.timeoutMs], ['http://a/', 'http://b/', 3000]);
  const o = publish({ webhook_event_url: 'http://a/', webhook_event_failover_url: 'http://b/' }, { webhookUrl: 'http://c/' });
  assert.deepEqual([o.url, o.failoverUrl], ['http://c/', null]);
});

it('builds the Telnyx envelope with the five common fields and "" for unset client_state', () => {
  const e = publish({ webhook_event_url: 'http://a/' });
  assert.equal(e.data.record_type, 'event');
  assert.match(e.data.occurred_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  for (const k of ['call_control_id', 'call_leg_id', 'call_session_id', 'client_state', 'connection_id']) assert.ok(k in e.data.payload, k);
  assert.equal(e.data.payload['client_state'], '');
  assert.equal(e.orderKey, 's');
});
