import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MediaScheduler, type MediaRegistration, type MediaSession, type MediaTimeSource } from '../../src/media/scheduler.js';
import { VirtualClock, type Timer } from '../../src/util/clock.js';

/** Virtual time whose timers fire `lateBy()` ms after they were due, as a busy event loop does. */
class LateTime implements MediaTimeSource {
  readonly clock = new VirtualClock(0);
  lateBy: () => number = () => 0;
  timersSet = 0;
  now(): number {
    return this.clock.now();
  }
  setTimer(delayMs: number, fire: () => void): Timer {
    this.timersSet++;
    return this.clock.setTimer(delayMs + this.lateBy(), fire);
  }
}

class Counter implements MediaSession {
  ticks = 0;
  at: number[] = [];
  constructor(private readonly time?: LateTime) {}
  tick(): void {
    this.ticks++;
    if (this.time) this.at.push(this.time.now());
  }
}

describe('MediaScheduler', () => {
  it('ticks every session once per 20 ms from a single timer', () => {
    const time = new LateTime();
    const scheduler = new MediaScheduler({ time });
    const sessions = Array.from({ length: 100 }, () => new Counter());
    for (const s of sessions) scheduler.register(s);
    assert.equal(time.clock.pendingCount, 1);
    time.clock.advance(1000);
    assert.ok(sessions.every((s) => s.ticks === 50));
    assert.equal(time.clock.pendingCount, 1);
    assert.equal(scheduler.stats().ticks, 50);
  });

  it('does not drift when every timer fires late', () => {
    const time = new LateTime();
    time.lateBy = () => 3;
    const scheduler = new MediaScheduler({ time, earlyToleranceMs: 0 });
    const s = new Counter(time);
    scheduler.register(s);
    time.clock.advance(10_000);
    // Late timers shift every tick by 3 ms but the grid stays at 20 ms: no tick is lost.
    assert.ok(s.ticks >= 499 && s.ticks <= 500, `ticks ${s.ticks}`);
    const stats = scheduler.stats();
    assert.ok(stats.latenessMeanMs > 2.9 && stats.latenessMeanMs < 3.1, `mean ${stats.latenessMeanMs}`);
    assert.ok(stats.latenessP99Ms <= 3.1);
    assert.equal(stats.skippedTicks, 0);
  });

  it('catches up after a stall, a bounded number of ticks per timer', () => {
    const time = new LateTime();
    const scheduler = new MediaScheduler({ time, maxCatchUpTicks: 5, maxBacklogTicks: 20, earlyToleranceMs: 0 });
    const s = new Counter(time);
    scheduler.register(s);
    const lateOnce = (ms: number) => {
      let used = false;
      time.lateBy = () => (used ? 0 : ((used = true), ms));
    };
    time.clock.advance(100);
    assert.equal(s.ticks, 5);
    // The timer for 120 is already set; the one set at 120 (for 140) fires 70 ms late, at 210.
    lateOnce(70);
    time.clock.advance(20);
    assert.equal(s.ticks, 6);
    time.clock.advance(90);
    assert.equal(s.ticks, 10); // 140, 160, 180 and 200 run back to back at 210
    assert.equal(scheduler.stats().catchUps, 1);
    time.clock.advance(10);
    assert.equal(s.ticks, 11); // 220: back on the 20 ms grid
    assert.deepEqual(s.at.slice(-6), [120, 210, 210, 210, 210, 220]);
    // A longer stall is still caught up, 5 ticks per timer, each batch on a zero-delay timer so
    // the event loop gets a turn in between; nothing is skipped.
    lateOnce(300);
    time.clock.advance(20);
    assert.equal(s.ticks, 12);
    const timersBefore = time.timersSet;
    time.clock.advance(320); // the timer due at 260 fires at 560: 16 ticks due
    assert.equal(s.ticks, 28);
    assert.equal(time.timersSet - timersBefore, 4); // 5 + 5 + 5 + 1, then the timer for 580
    assert.equal(scheduler.stats().skippedTicks, 0);
    time.clock.advance(20);
    assert.equal(s.ticks, 29);
    assert.equal(scheduler.stats().latenessMaxMs, 300);
  });

  it('skips only the part of a backlog beyond maxBacklogTicks', () => {
    const time = new LateTime();
    const scheduler = new MediaScheduler({ time, maxCatchUpTicks: 5, maxBacklogTicks: 10, earlyToleranceMs: 0 });
    const s = new Counter(time);
    scheduler.register(s);
    time.clock.advance(20);
    assert.equal(s.ticks, 1);
    let used = false;
    time.lateBy = () => (used ? 0 : ((used = true), 400));
    time.clock.advance(20);
    assert.equal(s.ticks, 2);
    time.clock.advance(420); // the timer due at 60 fires at 460: 21 ticks due, the oldest 11 skipped
    assert.equal(s.ticks, 12);
    assert.equal(scheduler.stats().skippedTicks, 11);
    time.clock.advance(20);
    assert.equal(s.ticks, 13);
  });

  it('runs every session\'s afterTick once all sessions have ticked', () => {
    const time = new LateTime();
    const scheduler = new MediaScheduler({ time });
    const order: string[] = [];
    const session = (name: string): MediaSession => ({
      tick: () => void order.push(`${name}.tick`),
      afterTick: () => void order.push(`${name}.after`),
    });
    scheduler.register(session('a'));
    scheduler.register({ tick: () => void order.push('plain.tick') });
    scheduler.register(session('b'));
    time.clock.advance(20);
    assert.deepEqual(order, ['a.tick', 'plain.tick', 'b.tick', 'a.after', 'b.after']);
  });

  it('runs pass hooks around the sending half, telling how late the pass is, until removed', () => {
    const time = new LateTime();
    time.lateBy = () => 3;
    const scheduler = new MediaScheduler({ time, earlyToleranceMs: 0 });
    const order: string[] = [];
    scheduler.register({ tick: () => void order.push('tick'), afterTick: () => void order.push('after') });
    const remove = scheduler.addPassHooks({
      beforeTicks: (lateBy) => void order.push(`before ${lateBy}`),
      afterSends: () => void order.push('sent'),
    });
    time.clock.advance(23);
    assert.deepEqual(order, ['before 3', 'tick', 'sent', 'after']);
    remove();
    order.length = 0;
    time.clock.advance(20);
    assert.deepEqual(order, ['tick', 'after']);
  });

  it('handles registration and unregistration from inside a pass', () => {
    const time = new LateTime();
    const scheduler = new MediaScheduler({ time });
    const a = new Counter();
    const c = new Counter();
    const late = new Counter();
    const regs: MediaRegistration[] = [];
    const b: MediaSession & { ticks: number } = {
      ticks: 0,
      tick() {
        this.ticks++;
        // Removes itself and the entry after it, adds a new session: none of this may skip or
        // double-tick anyone else in this pass.
        for (const reg of regs) scheduler.unregister(reg);
        scheduler.register(late);
      },
    };
    const regA = scheduler.register(a);
    regs.push(scheduler.register(b), scheduler.register(c));
    const d = new Counter();
    scheduler.register(d);
    time.clock.advance(20);
    assert.deepEqual([a.ticks, b.ticks, c.ticks, d.ticks, late.ticks], [1, 1, 0, 1, 0]);
    time.clock.advance(20);
    assert.deepEqual([a.ticks, b.ticks, c.ticks, d.ticks, late.ticks], [2, 1, 0, 2, 1]);
    assert.equal(scheduler.size, 3);
    scheduler.unregister(regA);
    scheduler.unregister(regA); // idempotent
    assert.equal(scheduler.size, 2);
  });

  it('keeps ticking the others when one session throws', () => {
    const time = new LateTime();
    const errors: unknown[] = [];
    const scheduler = new MediaScheduler({ time, onError: (e) => errors.push(e) });
    const ok = new Counter();
    scheduler.register({ tick: () => { throw new Error('boom'); } });
    scheduler.register(ok);
    time.clock.advance(60);
    assert.equal(ok.ticks, 3);
    assert.equal(errors.length, 3);
    assert.equal(scheduler.stats().errors, 3);
  });

  it('stops its timer when the last session leaves and restarts on the next', () => {
    const time = new LateTime();
    const scheduler = new MediaScheduler({ time });
    const s = new Counter();
    const reg = scheduler.register(s);
    time.clock.advance(40);
    scheduler.unregister(reg);
    assert.equal(scheduler.running, false);
    time.clock.advance(100);
    assert.equal(time.clock.pendingCount, 0);
    assert.equal(s.ticks, 2);
    scheduler.register(s);
    time.clock.advance(40);
    assert.equal(s.ticks, 4);
    scheduler.stop();
    time.clock.advance(100);
    assert.equal(s.ticks, 4);
  });
});
