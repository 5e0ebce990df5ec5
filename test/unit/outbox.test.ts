import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import Fastify from 'fastify';
import { ApiError } from '../../src/api/errors.js';
import { registerWebhookDeliveryRoutes } from '../../src/api/routes/webhook-deliveries.js';
import type { OutboxEvent } from '../../src/events/types.js';
import { openDatabase, type Db } from '../../src/store/db.js';
import { OutboxRepository } from '../../src/store/outbox-repository.js';
import { isoMicros } from '../../src/util/time.js';

const T0 = Date.UTC(2026, 0, 1);

function event(orderKey: string, eventType = 'call.initiated', url: string | null = 'http://127.0.0.1:9/hook'): OutboxEvent {
  const id = randomUUID();
  return {
    id,
    orderKey,
    eventType,
    callControlId: `v3:${orderKey}`,
    data: {
      record_type: 'event',
      event_type: eventType,
      id,
      occurred_at: isoMicros(T0),
      payload: { call_control_id: `v3:${orderKey}`, client_state: null, note: 'ünïcødé ✓' },
    },
    url,
    failoverUrl: null,
    timeoutMs: 2000,
  };
}

let dir: string;
let file: string;
let db: Db;
let outbox: OutboxRepository;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'switchboard-outbox-'));
  file = join(dir, 'switchboard.db');
  db = openDatabase(file);
  outbox = new OutboxRepository(db);
});

afterEach(() => {
  if (db.open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('OutboxRepository', () => {
  it('enqueue returns increasing seqs; an event without a URL is stored, not pending', () => {
    const a = outbox.enqueue(event('A'), T0);
    const b = outbox.enqueue(event('A', 'call.answered', null), T0);
    const c = outbox.enqueue(event('B'), T0);
    assert.ok(a < b && b < c);
    assert.deepEqual(outbox.dueKeys(T0), ['A', 'B']);
    assert.equal(outbox.head('A')?.seq, a);
    assert.equal(outbox.head('B')?.seq, c);
    assert.equal(outbox.pendingCount(), 2);
    const stored = outbox.listRecent(10).find((r) => r.seq === b);
    assert.equal(stored?.status, 'stored');
    assert.equal(stored?.finishedMs, T0);
  });

  it('keeps the stored data byte for byte', () => {
    const e = event('A');
    outbox.enqueue(e, T0);
    const due = outbox.head('A');
    assert.equal(due?.dataJson, JSON.stringify(e.data));
    assert.deepEqual(outbox.get(e.id)?.data, e.data);
  });

  it('head is the oldest pending event of its key; dueKeys lists keys by their head\'s age', () => {
    const a1 = event('A');
    const a2 = event('A');
    const b1 = event('B');
    const b2 = event('B');
    for (const e of [a1, b1, a2, b2]) outbox.enqueue(e, T0);
    const heads = () => outbox.dueKeys(T0).map((k) => outbox.head(k)?.id);
    assert.deepEqual(heads(), [a1.id, b1.id]);

    outbox.markDelivered(a1.id, T0 + 5);
    assert.deepEqual(heads(), [b1.id, a2.id]);

    outbox.markFailed(b1.id, T0 + 5);
    assert.deepEqual(heads(), [a2.id, b2.id]);
    outbox.markDelivered(a2.id, T0 + 5);
    outbox.markDelivered(b2.id, T0 + 5);
    assert.deepEqual(outbox.dueKeys(T0), []);
    assert.equal(outbox.head('A'), undefined);
    assert.equal(outbox.get(b1.id)?.status, 'failed');
    assert.equal(outbox.get(a1.id)?.status, 'delivered');
    assert.equal(outbox.get(a1.id)?.finishedMs, T0 + 5);
  });

  it('a rescheduled head holds back its whole key but no other key', () => {
    const a1 = event('A');
    const a2 = event('A');
    const b1 = event('B');
    for (const e of [a1, a2, b1]) outbox.enqueue(e, T0);
    outbox.reschedule(a1.id, T0 + 1000);
    assert.deepEqual(outbox.dueKeys(T0 + 999), ['B']);
    assert.deepEqual(outbox.dueKeys(T0 + 1000), ['A', 'B']);
    // head() ignores time: a2 stays behind a1 even though a2's own time has come.
    assert.equal(outbox.head('A')?.id, a1.id);
    assert.equal(outbox.head('A')?.nextAttemptMs, T0 + 1000);
  });

  it('pendingSince reads pending events after a seq cursor; lastSeq is where the cursor can start', () => {
    assert.equal(outbox.lastSeq(), 0);
    const a1 = outbox.enqueue(event('A'), T0);
    const stored = outbox.enqueue(event('B', 'call.hangup', null), T0);
    const b1 = outbox.enqueue(event('B'), T0);
    const a2 = outbox.enqueue(event('A'), T0);
    assert.equal(outbox.lastSeq(), a2);
    assert.deepEqual(outbox.pendingSince(0), [{ seq: a1, orderKey: 'A' }, { seq: b1, orderKey: 'B' }, { seq: a2, orderKey: 'A' }]);
    assert.deepEqual(outbox.pendingSince(stored), [{ seq: b1, orderKey: 'B' }, { seq: a2, orderKey: 'A' }]);
    outbox.markDelivered(outbox.head('B')?.id ?? '', T0);
    assert.deepEqual(outbox.pendingSince(a1), [{ seq: a2, orderKey: 'A' }]);
    assert.deepEqual(outbox.pendingSince(a2), []);
  });

  it('nextWakeMs is the earliest future attempt among heads', () => {
    assert.equal(outbox.nextWakeMs(), null);
    const a1 = event('A');
    const a2 = event('A');
    const b1 = event('B');
    for (const e of [a1, a2, b1]) outbox.enqueue(e, T0);
    assert.equal(outbox.nextWakeMs(), T0);
    assert.equal(outbox.nextWakeMs(T0), null, 'heads already due are not wake-ups');
    outbox.reschedule(a1.id, T0 + 4000);
    outbox.reschedule(b1.id, T0 + 2000);
    // a2 is not a head, so its (past) time does not count.
    assert.equal(outbox.nextWakeMs(T0), T0 + 2000);
    outbox.markDelivered(b1.id, T0);
    assert.equal(outbox.nextWakeMs(T0), T0 + 4000);
    outbox.markDelivered(a1.id, T0);
    assert.equal(outbox.nextWakeMs(T0), null);
    assert.equal(outbox.nextWakeMs(T0 - 1), T0);
  });

  it('records attempts and raises the attempt count', () => {
    const e = event('A');
    outbox.enqueue(e, T0);
    outbox.recordAttempt(e.id, { attempt: 1, url: 'http://a/', startedMs: T0, durationMs: 12.4, statusCode: 500, error: null, succeeded: false });
    outbox.recordAttempt(e.id, { attempt: 2, url: 'http://b/', startedMs: T0 + 1, durationMs: 3, statusCode: null, error: 'ECONNREFUSED', succeeded: false });
    assert.equal(outbox.head('A')?.attemptCount, 2);
    const record = outbox.get(e.id);
    assert.deepEqual(record?.attempts, [
      { attempt: 1, url: 'http://a/', startedMs: T0, durationMs: 12, statusCode: 500, error: null, succeeded: false },
      { attempt: 2, url: 'http://b/', startedMs: T0 + 1, durationMs: 3, statusCode: null, error: 'ECONNREFUSED', succeeded: false },
    ]);
  });

  it('listForCall is in seq order; listRecent keeps the newest and filters', () => {
    const evs = [event('A'), event('B'), event('A', 'call.answered'), event('A', 'call.hangup', null)];
    for (const e of evs) outbox.enqueue(e, T0);
    assert.deepEqual(outbox.listForCall('v3:A').map((r) => r.eventType), ['call.initiated', 'call.answered', 'call.hangup']);
    assert.deepEqual(outbox.listForCall('v3:A', { status: 'stored' }).map((r) => r.eventType), ['call.hangup']);
    assert.deepEqual(outbox.listForCall('v3:A', { eventType: 'call.answered' }).map((r) => r.id), [evs[2]?.id]);
    assert.deepEqual(outbox.listRecent(2).map((r) => r.id), [evs[2]?.id, evs[3]?.id]);
    assert.deepEqual(outbox.listRecent(10, { eventType: 'call.initiated' }).map((r) => r.id), [evs[0]?.id, evs[1]?.id]);
    assert.deepEqual(outbox.listForCall('v3:nobody'), []);
  });

  it('an enqueued event survives closing and reopening the database', () => {
    const e = event('A');
    outbox.enqueue(e, T0);
    db.close();
    db = openDatabase(file);
    const reopened = new OutboxRepository(db);
    assert.deepEqual(reopened.dueKeys(T0), ['A']);
    assert.equal(reopened.head('A')?.id, e.id);
  });
});

describe('GET /switchboard/v1/webhook_deliveries', () => {
  async function app() {
    const server = Fastify();
    // Stands in for the API's global error handler.
    server.setErrorHandler((err, _req, reply) => {
      if (err instanceof ApiError) return reply.status(err.status).send(err.body());
      return reply.status(500).send({ errors: [{ code: '10007', title: String(err) }] });
    });
    registerWebhookDeliveryRoutes(server, { outbox });
    await server.ready();
    return server;
  }

  it('lists a leg\'s events with their attempts, in seq order', async () => {
    const a1 = event('A');
    const a2 = event('A', 'call.answered');
    outbox.enqueue(a1, T0);
    outbox.enqueue(event('B'), T0);
    outbox.enqueue(a2, T0 + 1);
    outbox.recordAttempt(a1.id, { attempt: 1, url: 'http://a/', startedMs: T0 + 2, durationMs: 7, statusCode: 200, error: null, succeeded: true });
    outbox.markDelivered(a1.id, T0 + 9);

    const server = await app();
    const res = await server.inject({ method: 'GET', url: '/switchboard/v1/webhook_deliveries?call_control_id=v3%3AA' });
    assert.equal(res.statusCode, 200);
    const body = res.json() as { data: Array<Record<string, unknown>> };
    assert.equal(body.data.length, 2);
    assert.deepEqual(body.data[0], {
      id: a1.id,
      event_type: 'call.initiated',
      call_control_id: 'v3:A',
      seq: 1,
      status: 'delivered',
      url: 'http://127.0.0.1:9/hook',
      failover_url: null,
      created_at: '2026-01-01T00:00:00.000000Z',
      delivered_at: '2026-01-01T00:00:00.009000Z',
      next_attempt_at: null,
      attempts: [{
        attempt: 1, url: 'http://a/', status_code: 200, error: null,
        started_at: '2026-01-01T00:00:00.002000Z', duration_ms: 7, succeeded: true,
      }],
    });
    assert.equal(body.data[1]?.id, a2.id);
    assert.equal(body.data[1]?.status, 'pending');
    assert.equal(body.data[1]?.delivered_at, null);
    assert.equal(body.data[1]?.next_attempt_at, '2026-01-01T00:00:00.001000Z');
    await server.close();
  });

  it('filters by status and event type, and lists recent events without a call filter', async () => {
    outbox.enqueue(event('A'), T0);
    outbox.enqueue(event('B', 'call.hangup', null), T0);
    const server = await app();
    const all = (await server.inject({ method: 'GET', url: '/switchboard/v1/webhook_deliveries' })).json() as { data: Array<{ seq: number }> };
    assert.deepEqual(all.data.map((d) => d.seq), [1, 2]);
    const stored = (await server.inject({ method: 'GET', url: '/switchboard/v1/webhook_deliveries?status=stored' })).json() as { data: Array<{ seq: number }> };
    assert.deepEqual(stored.data.map((d) => d.seq), [2]);
    const typed = (await server.inject({ method: 'GET', url: '/switchboard/v1/webhook_deliveries?event_type=call.initiated&limit=5' })).json() as { data: Array<{ seq: number }> };
    assert.deepEqual(typed.data.map((d) => d.seq), [1]);
    await server.close();
  });

  it('answers 422 for a bad status, limit or unknown parameter', async () => {
    const server = await app();
    const res = await server.inject({ method: 'GET', url: '/switchboard/v1/webhook_deliveries?status=lost&limit=0&colour=red' });
    assert.equal(res.statusCode, 422);
    const body = res.json() as { errors: Array<{ code: string; source?: { parameter?: string } }> };
    assert.deepEqual(body.errors.map((e) => e.source?.parameter).sort(), ['colour', 'limit', 'status']);
    await server.close();
  });
});
