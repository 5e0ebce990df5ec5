import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CallEngine } from '../../src/calls/call-engine.js';
import type { HangupInfo } from '../../src/calls/leg-record.js';
import type { RemoteParty } from '../../src/calls/remote-party.js';
import { IllegalTransition, nextState } from '../../src/calls/state-machine.js';
import { EventPublisher } from '../../src/events/publisher.js';
import type { EventData, OutboxEvent } from '../../src/events/types.js';
import { openDatabase } from '../../src/store/db.js';
import { LegRepository } from '../../src/store/leg-repository.js';
import { VirtualClock } from '../../src/util/clock.js';
import { randomIds } from '../../src/util/ids.js';

/** A far end that records what it was told and does nothing by itself. */
class RecordingRemote implements RemoteParty {
  readonly told: string[] = [];
  ring(): void { this.told.push('ring'); }
  answered(): void { this.told.push('answered'); }
  ended(info: HangupInfo): void { this.told.push(`ended:${info.cause}`); }
  dtmf(digits: string): void { this.told.push(`dtmf:${digits}`); }
}

function setup(db = openDatabase(':memory:')) {
  const clock = new VirtualClock();
  const events: EventData[] = [];
  const outbox = { enqueue: (e: OutboxEvent) => { events.push(e.data); } };
  const legs = new LegRepository(db);
  const publisher = new EventPublisher({
    outbox, delivery: { kick: () => {} }, applications: { get: () => undefined }, clock, ids: randomIds, defaultWebhookTimeoutMs: 1000,
  });
  const remotes = new Map<string, RecordingRemote>();
  const engine = new CallEngine({
    legs, publisher, clock, ids: randomIds,
    outbound: { route: (to, _from, id) => (to === 'nobody' ? null : remotes.set(id, new RecordingRemote()).get(id) ?? null) },
  });
  return { clock, events, legs, engine, remotes, db };
}

const types = (events: EventData[]) => events.map((e) => e.event_type);

describe('leg state machine', () => {
  it('allows only the documented moves', () => {
    assert.equal(nextState('initiated', 'ring'), 'ringing');
    assert.equal(nextState('ringing', 'answer'), 'answered');
    assert.equal(nextState('answered', 'hangup'), 'ended');
    assert.throws(() => nextState('answered', 'answer'), IllegalTransition);
    assert.throws(() => nextState('ended', 'hangup'), IllegalTransition);
    assert.throws(() => nextState('answered', 'ring'), IllegalTransition);
  });
});

describe('CallEngine', () => {
  it('stores each change before publishing its event, and tells the caller', () => {
    const { engine, events, legs } = setup();
    const remote = new RecordingRemote();
    const leg = engine.incoming({ connectionId: '1', from: '+1', to: '+2', remoteFor: () => remote });
    assert.equal(legs.get(leg.callControlId)?.state, 'initiated');
    engine.answer(leg.callControlId);
    assert.equal(legs.get(leg.callControlId)?.state, 'answered');
    engine.hangup(leg.callControlId);
    const stored = legs.get(leg.callControlId);
    assert.equal(stored?.state, 'ended');
    assert.equal(stored?.hangup?.cause, 'normal_clearing');
    assert.deepEqual(types(events), ['call.initiated', 'call.answered', 'call.hangup']);
    assert.deepEqual(remote.told, ['answered', 'ended:normal_clearing']);
    assert.equal(engine.liveCount, 0);
  });

  it('ignores DTMF before answer and reports it after', () => {
    const { engine, events } = setup();
    const leg = engine.incoming({ connectionId: '1', from: '+1', to: '+2', remoteFor: () => new RecordingRemote() });
    engine.remoteDtmf(leg.callControlId, '5');
    engine.answer(leg.callControlId);
    engine.remoteDtmf(leg.callControlId, '6');
    const digits = events.filter((e) => e.event_type === 'call.dtmf.received').map((e) => e.payload['digit']);
    assert.deepEqual(digits, ['6']);
  });

  it('ends an unanswered dial at timeout_secs and stops the far end ringing', () => {
    const { engine, events, clock, remotes } = setup();
    const leg = engine.dial({ connectionId: '1', to: '+3', from: '+1', clientState: null, timeoutSecs: 5, timeLimitSecs: 60, webhookUrl: null, webhookFailoverUrl: null, linkTo: null });
    engine.remoteRinging(leg.callControlId);
    clock.advance(4999);
    assert.ok(engine.isLive(leg.callControlId));
    clock.advance(1);
    assert.ok(!engine.isLive(leg.callControlId));
    assert.equal(events.at(-1)?.payload['hangup_cause'], 'timeout');
    assert.deepEqual(remotes.get(leg.callControlId)?.told, ['ring', 'ended:timeout']);
    assert.equal(clock.pendingCount, 0, 'no timer outlives the call');
  });

  it('a late answer after the end changes nothing', () => {
    const { engine, events } = setup();
    const leg = engine.dial({ connectionId: '1', to: '+3', from: '+1', clientState: null, timeoutSecs: 5, timeLimitSecs: 60, webhookUrl: null, webhookFailoverUrl: null, linkTo: null });
    engine.hangup(leg.callControlId);
    engine.remoteAnswered(leg.callControlId);
    assert.deepEqual(types(events), ['call.initiated', 'call.hangup']);
    assert.equal(events.at(-1)?.payload['hangup_cause'], 'originator_cancel');
  });

  it('after a restart ends the calls the previous process left alive', () => {
    const db = openDatabase(':memory:');
    const first = setup(db);
    const leg = first.engine.incoming({ connectionId: '1', from: '+1', to: '+2', remoteFor: () => new RecordingRemote() });
    first.engine.answer(leg.callControlId);

    const second = setup(db);
    assert.equal(second.engine.recoverAfterRestart(), 1);
    assert.deepEqual(types(second.events), ['call.hangup']);
    assert.equal(second.events[0]?.payload['hangup_cause'], 'unspecified');
    assert.equal(second.legs.get(leg.callControlId)?.state, 'ended');
    assert.equal(second.engine.recoverAfterRestart(), 0, 'only once');
  });
});
