import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import Telnyx from 'telnyx';
import Telnyx717 from 'telnyx-7-17';
import type { EventData, OutboxEvent } from '../../src/events/types.js';
import { openDatabase, type Db } from '../../src/store/db.js';
import { OutboxRepository } from '../../src/store/outbox-repository.js';
import { VirtualClock } from '../../src/util/clock.js';
import { isoMicros } from '../../src/util/time.js';
import { WebhookDispatcher } from '../../src/webhooks/dispatcher.js';
import type { RetryPolicy } from '../../src/webhooks/retry-policy.js';
import { generateSigningKey, WebhookSigner } from '../../src/webhooks/signing.js';

interface Envelope {
  data: EventData;
  meta: { attempt: number; delivered_to: string };
}

interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
  envelope: Envelope;
}

type Reply = number | { status: number; location: string };
type Handler = (r: Received) => Reply | Promise<Reply>;

/** A real webhook receiver on 127.0.0.1 that records every request and answers per path. */
class Receiver {
  readonly received: Received[] = [];
  private readonly handlers = new Map<string, Handler>();
  private readonly server: Server;
  private port = 0;

  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
        const r: Received = { path: req.url ?? '', headers, body, envelope: JSON.parse(body) as Envelope };
        this.received.push(r);
        const handler = this.handlers.get(r.path) ?? (() => 200);
        Promise.resolve(handler(r)).then(
          (reply) => {
            if (typeof reply === 'number') res.writeHead(reply);
            else res.writeHead(reply.status, { location: reply.location });
            res.end('ok');
          },
          () => { res.writeHead(500); res.end(); },
        );
      });
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  on(path: string, handler: Handler): void {
    this.handlers.set(path, handler);
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  of(id: string): Received[] {
    return this.received.filter((r) => r.envelope.data.id === id);
  }

  at(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function gate(): { wait: Promise<void>; open: () => void } {
  let open = () => {};
  const wait = new Promise<void>((resolve) => { open = resolve; });
  return { wait, open };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function waitFor(what: string, cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

const signingKey = generateSigningKey();
const signer = new WebhookSigner(signingKey.privateKeyPem);
const telnyx = new Telnyx({ apiKey: 'x', publicKey: signingKey.publicKey });
const telnyx717 = new Telnyx717({ apiKey: 'x', publicKey: signingKey.publicKey });

/** The SDK's union includes events without `data`, so narrow before reading it. */
function eventData(event: object): { id?: unknown; event_type?: unknown } | undefined {
  const data: unknown = 'data' in event ? event.data : undefined;
  return typeof data === 'object' && data !== null ? data : undefined;
}

async function assertAllVerify(received: Received[]): Promise<void> {
  assert.ok(received.length > 0);
  for (const r of received) {
    const event = await telnyx.webhooks.unwrap(r.body, { headers: r.headers });
    assert.equal(eventData(event)?.id, r.envelope.data.id);
    telnyx717.webhooks.unwrap(r.body, { headers: r.headers });
  }
}

let dir: string;
let file: string;
let db: Db;
let outbox: OutboxRepository;
let receiver: Receiver;
let clock: VirtualClock;
const dispatchers: WebhookDispatcher[] = [];
const logs: Array<{ msg: string; fields?: object }> = [];

function dispatcher(policy?: RetryPolicy, extra: { concurrency?: number; outbox?: OutboxRepository; clock?: VirtualClock } = {}): WebhookDispatcher {
  const d = new WebhookDispatcher({
    outbox: extra.outbox ?? outbox,
    signer,
    clock: extra.clock ?? clock,
    ...(policy ? { policy } : {}),
    ...(extra.concurrency ? { concurrency: extra.concurrency } : {}),
    log: (msg, fields) => logs.push(fields ? { msg, fields } : { msg }),
  });
  dispatchers.push(d);
  return d;
}

function event(orderKey: string, path: string, opts: { failover?: string; timeoutMs?: number; type?: string } = {}): OutboxEvent {
  const id = randomUUID();
  return {
    id,
    orderKey,
    eventType: opts.type ?? 'call.initiated',
    callControlId: `v3:${orderKey}`,
    data: {
      record_type: 'event',
      event_type: opts.type ?? 'call.initiated',
      id,
      occurred_at: isoMicros(clock.now()),
      payload: { call_control_id: `v3:${orderKey}`, client_state: null },
    },
    url: receiver.url(path),
    failoverUrl: opts.failover ? receiver.url(opts.failover) : null,
    timeoutMs: opts.timeoutMs ?? 2000,
  };
}

function enqueue(d: WebhookDispatcher, ...events: OutboxEvent[]): void {
  for (const e of events) outbox.enqueue(e, clock.now());
  d.kick();
}

const statusOf = (e: OutboxEvent) => outbox.get(e.id)?.status;
const attemptsOf = (e: OutboxEvent) => outbox.get(e.id)?.attempts ?? [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'switchboard-dispatch-'));
  file = join(dir, 'switchboard.db');
  db = openDatabase(file);
  outbox = new OutboxRepository(db);
  receiver = new Receiver();
  await receiver.listen();
  // Starts at real time so signature timestamps and event times agree; only moves when told.
  clock = new VirtualClock(Date.now());
  logs.length = 0;
});

afterEach(async () => {
  await Promise.all(dispatchers.splice(0).map((d) => d.stop()));
  await receiver.close();
  if (db.open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

const quick: RetryPolicy = { maxRounds: 4, baseDelayMs: 100, multiplier: 2, maxDelayMs: 150 };

describe('WebhookDispatcher', () => {
  it('delivers each order key strictly in order while keys proceed in parallel', async () => {
    const d = dispatcher();
    d.start();
    const bDone = gate();
    let inFlightA = 0;
    let maxInFlightA = 0;
    let aResponded = false;
    receiver.on('/a', async () => {
      inFlightA += 1;
      maxInFlightA = Math.max(maxInFlightA, inFlightA);
      // Hold A's first event until all of B has arrived: only possible if B does not wait on A.
      if (receiver.at('/a').length === 1) await bDone.wait;
      await sleep(1);
      inFlightA -= 1;
      aResponded = true;
      return 200;
    });
    let aRespondedBeforeLastB: boolean | undefined;
    receiver.on('/b', () => {
      if (receiver.at('/b').length === 3) {
        aRespondedBeforeLastB = aResponded;
        bDone.open();
      }
      return 204;
    });
    const a = [event('A', '/a'), event('A', '/a'), event('A', '/a')];
    const b = [event('B', '/b'), event('B', '/b'), event('B', '/b')];
    enqueue(d, a[0]!, b[0]!, a[1]!, b[1]!, a[2]!, b[2]!);

    await waitFor('all delivered', () => [...a, ...b].every((e) => statusOf(e) === 'delivered'));
    assert.deepEqual(receiver.at('/a').map((r) => r.envelope.data.id), a.map((e) => e.id));
    assert.deepEqual(receiver.at('/b').map((r) => r.envelope.data.id), b.map((e) => e.id));
    assert.equal(aRespondedBeforeLastB, false, 'all of B went out while A\'s first event was still open');
    assert.equal(maxInFlightA, 1);
    for (const r of receiver.received) {
      assert.deepEqual(r.envelope.meta, { attempt: 1, delivered_to: receiver.url(r.path) });
      assert.equal(r.headers['content-type'], 'application/json');
      assert.match(r.headers['user-agent'] ?? '', /Switchboard/);
    }
    await assertAllVerify(receiver.received);
    assert.equal(clock.pendingCount, 0, 'no timer needed when nothing waits for a retry');
  });

  it('sends the stored data unchanged inside { data, meta }', async () => {
    const d = dispatcher();
    d.start();
    const e = event('A', '/a');
    enqueue(d, e);
    await waitFor('delivery', () => statusOf(e) === 'delivered');
    const [r] = receiver.of(e.id);
    assert.equal(r?.body, JSON.stringify({ data: e.data, meta: { attempt: 1, delivered_to: e.url } }));
    assert.equal(r?.headers['webhook-id'], e.id);
  });

  it('retries after 5xx with capped exponential back-off on one timer, then gives up', async () => {
    const d = dispatcher(quick);
    d.start();
    receiver.on('/flaky', () => (receiver.at('/flaky').length <= 2 ? 500 : 200));
    receiver.on('/down', () => 503);
    const x = event('X', '/flaky');
    const y = event('Y', '/down');
    const t0 = clock.now();
    enqueue(d, x, y);

    const rescheduled = (e: OutboxEvent, at: number) => outbox.get(e.id)?.nextAttemptMs === at;
    await waitFor('round 1', () => rescheduled(x, t0 + 100) && rescheduled(y, t0 + 100));
    assert.equal(clock.pendingCount, 1, 'one wake-up timer for all events');

    clock.advance(99);
    await sleep(20);
    assert.equal(receiver.received.length, 2, 'nothing is retried before its time');

    clock.advance(1);
    // 100 × 2 = 200 is capped at 150.
    await waitFor('round 2', () => rescheduled(x, t0 + 250) && rescheduled(y, t0 + 250));
    clock.advance(150);
    await waitFor('round 3', () => statusOf(x) === 'delivered' && rescheduled(y, t0 + 400));
    clock.advance(150);
    await waitFor('round 4', () => statusOf(y) === 'failed');

    assert.deepEqual(attemptsOf(x).map((a) => [a.attempt, a.statusCode, a.succeeded, a.startedMs - t0]), [
      [1, 500, false, 0],
      [2, 500, false, 100],
      [3, 200, true, 250],
    ]);
    assert.deepEqual(receiver.of(x.id).map((r) => r.envelope.meta.attempt), [1, 2, 3]);
    assert.deepEqual(attemptsOf(y).map((a) => [a.attempt, a.statusCode, a.url]), [1, 2, 3, 4].map((n) => [n, 503, y.url]));
    assert.equal(outbox.get(x.id)?.finishedMs, t0 + 250);
    assert.equal(outbox.get(y.id)?.finishedMs, t0 + 400);
    assert.ok(logs.some((l) => l.msg === 'webhook delivery given up'));
    assert.equal(clock.pendingCount, 0);
    await assertAllVerify(receiver.received);
  });

  it('tries the failover URL straight away when the primary fails', async () => {
    const d = dispatcher(quick);
    d.start();
    receiver.on('/primary', () => 500);
    receiver.on('/backup', () => 200);
    const e = event('A', '/primary', { failover: '/backup' });
    enqueue(d, e);
    await waitFor('delivery', () => statusOf(e) === 'delivered');
    assert.deepEqual(receiver.of(e.id).map((r) => [r.path, r.envelope.meta.attempt, r.envelope.meta.delivered_to]), [
      ['/primary', 1, receiver.url('/primary')],
      ['/backup', 2, receiver.url('/backup')],
    ]);
    assert.deepEqual(attemptsOf(e).map((a) => [a.attempt, a.url, a.statusCode, a.succeeded]), [
      [1, receiver.url('/primary'), 500, false],
      [2, receiver.url('/backup'), 200, true],
    ]);
    assert.equal(clock.pendingCount, 0);
    await assertAllVerify(receiver.received);
  });

  it('a given-up event lets the next event of its key through', async () => {
    const d = dispatcher({ maxRounds: 2, baseDelayMs: 50, multiplier: 2, maxDelayMs: 1000 });
    d.start();
    receiver.on('/dead', () => 500);
    receiver.on('/dead-too', () => 502);
    const doomed = event('K', '/dead', { failover: '/dead-too' });
    const next = event('K', '/ok', { type: 'call.answered' });
    enqueue(d, doomed, next);

    await waitFor('round 1', () => attemptsOf(doomed).length === 2 && outbox.get(doomed.id)?.nextAttemptMs === clock.now() + 50);
    await sleep(10);
    assert.equal(receiver.of(next.id).length, 0, 'held behind the failing event');

    clock.advance(50);
    await waitFor('next delivered', () => statusOf(next) === 'delivered');
    assert.equal(statusOf(doomed), 'failed');
    assert.deepEqual(attemptsOf(doomed).map((a) => [a.attempt, a.statusCode]), [[1, 500], [2, 502], [3, 500], [4, 502]]);
    assert.deepEqual(receiver.of(next.id).map((r) => r.envelope.meta.attempt), [1]);
  });

  it('counts redirects, timeouts and refused connections as failures', async () => {
    const d = dispatcher({ maxRounds: 1, baseDelayMs: 10, multiplier: 2, maxDelayMs: 10 });
    d.start();
    const slow = gate();
    receiver.on('/moved', () => ({ status: 302, location: receiver.url('/target') }));
    receiver.on('/slow', async () => { await slow.wait; return 200; });
    const closed = new Receiver();
    await closed.listen();
    const refusedUrl = closed.url('/gone');
    await closed.close();

    const moved = event('A', '/moved');
    const timedOut = event('B', '/slow', { timeoutMs: 50 });
    const refused = { ...event('C', '/unused'), url: refusedUrl };
    enqueue(d, moved, timedOut, refused);
    await waitFor('all failed', () => [moved, timedOut, refused].every((e) => statusOf(e) === 'failed'));
    slow.open();

    const [m] = attemptsOf(moved);
    assert.equal(m?.statusCode, 302);
    assert.match(m?.error ?? '', /redirect not followed/);
    assert.equal(receiver.at('/target').length, 0);
    const [t] = attemptsOf(timedOut);
    assert.equal(t?.statusCode, null);
    assert.equal(t?.error, 'timed out after 50 ms');
    assert.ok((t?.durationMs ?? 0) >= 40);
    const [c] = attemptsOf(refused);
    assert.equal(c?.statusCode, null);
    assert.match(c?.error ?? '', /ECONNREFUSED|fetch failed/);
  });

  it('limits how many order keys are in flight at once', async () => {
    const d = dispatcher(undefined, { concurrency: 2 });
    d.start();
    const release = gate();
    receiver.on('/held', async () => { await release.wait; return 200; });
    const events = ['A', 'B', 'C', 'D', 'E'].map((k) => event(k, '/held'));
    enqueue(d, ...events);
    await waitFor('two in flight', () => receiver.received.length === 2);
    await sleep(20);
    assert.equal(receiver.received.length, 2);
    assert.equal(d.inFlightCount, 2);
    release.open();
    await waitFor('all delivered', () => events.every((e) => statusOf(e) === 'delivered'));
    assert.deepEqual(receiver.received.map((r) => r.envelope.data.id), events.map((e) => e.id));
  });

  it('stop() waits for the attempt in flight, then delivers nothing more', async () => {
    const d = dispatcher();
    d.start();
    const release = gate();
    receiver.on('/held', async () => { await release.wait; return 200; });
    const first = event('A', '/held');
    enqueue(d, first);
    await waitFor('in flight', () => receiver.received.length === 1);

    let stopped = false;
    const stopping = d.stop().then(() => { stopped = true; });
    await sleep(20);
    assert.equal(stopped, false);
    release.open();
    await stopping;
    assert.equal(statusOf(first), 'delivered');

    const later = event('B', '/a');
    enqueue(d, later);
    await sleep(20);
    assert.equal(receiver.of(later.id).length, 0);
    assert.equal(statusOf(later), 'pending');
  });

  it('an event enqueued while its key is in flight or backing off waits its turn', async () => {
    const d = dispatcher(quick);
    d.start();
    const release = gate();
    receiver.on('/held', async () => { await release.wait; return 200; });
    receiver.on('/flaky', () => (receiver.at('/flaky').length === 1 ? 500 : 200));
    const k1 = event('K', '/held');
    const k2 = event('K', '/flaky');
    const k3 = event('K', '/a');
    enqueue(d, k1);
    await waitFor('k1 in flight', () => receiver.of(k1.id).length === 1);
    enqueue(d, k2);
    await sleep(20);
    assert.equal(receiver.of(k2.id).length, 0, 'held behind the event in flight');

    release.open();
    await waitFor('k2 backing off', () => attemptsOf(k2).length === 1 && d.inFlightCount === 0);
    enqueue(d, k3);
    await sleep(20);
    assert.equal(receiver.of(k3.id).length, 0, 'held behind the event backing off');
    assert.equal(clock.pendingCount, 1, 'still the one retry timer');

    clock.advance(100);
    await waitFor('all delivered', () => [k1, k2, k3].every((e) => statusOf(e) === 'delivered'));
    assert.deepEqual(receiver.received.map((r) => r.envelope.data.id), [k1.id, k2.id, k2.id, k3.id]);
    assert.equal(clock.pendingCount, 0);
  });

  it('with every slot taken, waiting keys take turns and each key stays in order', async () => {
    const d = dispatcher(undefined, { concurrency: 1 });
    d.start();
    let inFlight = 0;
    let maxInFlight = 0;
    receiver.on('/k', async () => {
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      await sleep(2);
      inFlight -= 1;
      return 200;
    });
    const [a1, b1, a2, c1, b2, a3] = ['A', 'B', 'A', 'C', 'B', 'A'].map((k) => event(k, '/k'));
    enqueue(d, a1!, b1!, a2!, c1!);
    enqueue(d, b2!, a3!);
    const all = [a1!, b1!, a2!, c1!, b2!, a3!];
    await waitFor('all delivered', () => all.every((e) => statusOf(e) === 'delivered'));
    const order = receiver.received.map((r) => r.envelope.data.id);
    for (const key of [[a1!, a2!, a3!], [b1!, b2!], [c1!]]) {
      assert.deepEqual(order.filter((id) => key.some((e) => e.id === id)), key.map((e) => e.id));
    }
    assert.equal(order.length, all.length);
    assert.equal(maxInFlight, 1);
  });

  it('finds events enqueued without a kick the next time anything kicks it', async () => {
    const d = dispatcher();
    d.start();
    const quiet = event('Q', '/q');
    outbox.enqueue(quiet, clock.now());
    await sleep(20);
    assert.equal(receiver.received.length, 0);
    const loud = event('L', '/l');
    enqueue(d, loud);
    await waitFor('both delivered', () => statusOf(quiet) === 'delivered' && statusOf(loud) === 'delivered');
  });

  it('rescans after a failed outbox read, so the key it was reading is not lost', async () => {
    let failNext = false;
    class FlakyOutbox extends OutboxRepository {
      override head(orderKey: string) {
        if (failNext) {
          failNext = false;
          throw new Error('disk I/O error');
        }
        return super.head(orderKey);
      }
    }
    outbox = new FlakyOutbox(db);
    const d = dispatcher(undefined, { outbox });
    d.start();
    failNext = true;
    const lost = event('A', '/a');
    enqueue(d, lost);
    await waitFor('the failure', () => logs.some((l) => l.msg === 'webhook dispatcher could not read the outbox'));
    await sleep(20);
    assert.equal(statusOf(lost), 'pending');

    const next = event('B', '/b');
    enqueue(d, next);
    await waitFor('both delivered', () => statusOf(lost) === 'delivered' && statusOf(next) === 'delivered');
  });

  it('a started dispatcher delivers every key left pending, more keys than slots, each in order', async () => {
    const keys = ['A', 'B', 'C', 'D', 'E'];
    const events = [...keys, ...keys].map((k) => event(k, `/${k}`));
    // Committed with no dispatcher running and no kick, as a previous process would leave them.
    for (const e of events) outbox.enqueue(e, clock.now());
    const d = dispatcher(undefined, { concurrency: 2 });
    d.start();
    await waitFor('all delivered', () => events.every((e) => statusOf(e) === 'delivered'));
    for (const k of keys) {
      assert.deepEqual(receiver.at(`/${k}`).map((r) => r.envelope.data.id), events.filter((e) => e.orderKey === k).map((e) => e.id));
    }
    assert.equal(receiver.received.length, events.length);
    assert.equal(clock.pendingCount, 0);
  });

  it('a restarted dispatcher on the same database delivers what was left pending, exactly once', async () => {
    const policy: RetryPolicy = { maxRounds: 5, baseDelayMs: 60_000, multiplier: 2, maxDelayMs: 60_000 };
    receiver.on('/once-down', () => (receiver.at('/once-down').length === 1 ? 503 : 200));
    const first = dispatcher(policy);
    first.start();
    const a1 = event('A', '/a');
    const b1 = event('B', '/once-down');
    enqueue(first, a1, b1);
    await waitFor('first run', () => statusOf(a1) === 'delivered' && attemptsOf(b1).length === 1 && first.inFlightCount === 0);
    await first.stop();

    // Enqueued while no dispatcher runs, as if the process died right after committing them.
    const a2 = event('A', '/a');
    const a3 = event('A', '/a');
    const b2 = event('B', '/b');
    const c1 = event('C', '/c');
    enqueue(first, a2, a3, b2, c1);
    await sleep(10);
    assert.equal(receiver.received.length, 2);
    db.close();

    db = openDatabase(file);
    outbox = new OutboxRepository(db);
    const later = new VirtualClock(clock.now() + 61_000);
    const second = dispatcher(policy, { outbox, clock: later });
    second.start();
    const all = [a1, a2, a3, b1, b2, c1];
    await waitFor('second run', () => all.every((e) => statusOf(e) === 'delivered'));
    await sleep(30);

    assert.deepEqual(all.map((e) => receiver.of(e.id).length), [1, 1, 1, 2, 1, 1]);
    assert.deepEqual(receiver.at('/a').map((r) => r.envelope.data.id), [a1.id, a2.id, a3.id]);
    assert.deepEqual(receiver.of(b1.id).map((r) => r.envelope.meta.attempt), [1, 2], 'attempt numbers carry across the restart');
    assert.ok(receiver.received.indexOf(receiver.of(b2.id)[0]!) > receiver.received.indexOf(receiver.of(b1.id)[1]!));
    assert.equal(outbox.pendingCount(), 0);
    await assertAllVerify(receiver.received);
  });
});
