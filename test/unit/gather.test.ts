import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/util/clock.js';
import { DtmfGather, gatherDefaults, resolveGatherParams } from '../../src/actions/gather.js';
import type { GatherOutcome, GatherRequest } from '../../src/actions/gather.js';

interface Harness {
  clock: VirtualClock;
  gather: DtmfGather;
  outcomes: GatherOutcome[];
  firstDigits: number;
  /** Feeds each character as one digit, with `gapMs` of virtual time before each. */
  press(digits: string, gapMs?: number): void;
}

function setup(request: GatherRequest = {}, extra: { startTimersNow?: boolean } = {}): Harness {
  const clock = new VirtualClock();
  const outcomes: GatherOutcome[] = [];
  const h: Harness = {
    clock,
    outcomes,
    firstDigits: 0,
    gather: undefined as unknown as DtmfGather,
    press(digits, gapMs = 0) {
      for (const d of digits) {
        if (gapMs > 0) clock.advance(gapMs);
        h.gather.digit(d);
      }
    },
  };
  h.gather = new DtmfGather({
    params: resolveGatherParams({ gather_id: 'g1', ...request }, () => 'generated'),
    clock,
    onEnd: (o) => outcomes.push(o),
    onFirstDigit: () => { h.firstDigits++; },
    ...extra,
  });
  return h;
}

function assertEnded(h: Harness, status: GatherOutcome['status'], digits: string): void {
  assert.deepEqual(h.outcomes, [{ status, digits, gatherId: 'g1' }]);
  assert.equal(h.gather.ended, true);
  assert.equal(h.clock.pendingCount, 0);
}

describe('resolveGatherParams', () => {
  it('fills Telnyx defaults and generates a gather_id', () => {
    assert.deepEqual(resolveGatherParams({}, () => 'id-1'), { ...gatherDefaults, gather_id: 'id-1' });
    assert.deepEqual(gatherDefaults, {
      minimum_digits: 1,
      maximum_digits: 128,
      timeout_millis: 60000,
      initial_timeout_millis: 5000,
      inter_digit_timeout_millis: 5000,
      valid_digits: '0123456789#*',
      terminating_digit: '#',
    });
  });

  it('keeps given values, treats undefined as absent, keeps "" terminator, does not call the id source', () => {
    let calls = 0;
    const p = resolveGatherParams(
      { minimum_digits: 2, maximum_digits: undefined, terminating_digit: '', valid_digits: '123', gather_id: 'mine' },
      () => { calls++; return 'x'; },
    );
    assert.equal(p.minimum_digits, 2);
    assert.equal(p.maximum_digits, 128);
    assert.equal(p.terminating_digit, '');
    assert.equal(p.valid_digits, '123');
    assert.equal(p.gather_id, 'mine');
    assert.equal(calls, 0);
  });
});

describe('DtmfGather timers', () => {
  it('initial timeout with no digits ends timeout with ""', () => {
    const h = setup();
    assert.equal(h.clock.pendingCount, 2);
    h.clock.advance(4999);
    assert.deepEqual(h.outcomes, []);
    h.clock.advance(1);
    assertEnded(h, 'timeout', '');
  });

  it('first digit cancels the initial timer', () => {
    const h = setup({ initial_timeout_millis: 1000, inter_digit_timeout_millis: 3000 });
    h.clock.advance(900);
    h.press('1');
    h.clock.advance(2999);
    assert.deepEqual(h.outcomes, []);
    h.clock.advance(1);
    assertEnded(h, 'valid', '1');
  });

  it('inter-digit timeout with count >= minimum ends valid', () => {
    const h = setup({ minimum_digits: 2 });
    h.press('12', 4000);
    h.clock.advance(4999);
    assert.deepEqual(h.outcomes, []);
    h.clock.advance(1);
    assertEnded(h, 'valid', '12');
  });

  it('inter-digit timeout with count < minimum ends invalid', () => {
    const h = setup({ minimum_digits: 3 });
    h.press('12', 1000);
    h.clock.advance(5000);
    assertEnded(h, 'invalid', '12');
  });

  it('each digit restarts the inter-digit timer', () => {
    const h = setup({ inter_digit_timeout_millis: 1000 });
    h.press('12345', 999);
    assert.deepEqual(h.outcomes, []);
    h.clock.advance(1000);
    assertEnded(h, 'valid', '12345');
  });

  it('overall limit fires while digits keep coming within the inter-digit timeout', () => {
    const h = setup({ timeout_millis: 10_000, minimum_digits: 2 });
    h.press('1234', 3000); // digits at 3s, 6s, 9s, 12s: the 4th comes after the limit
    assertEnded(h, 'valid', '123');
    assert.equal(h.gather.digit('4'), false);
  });

  it('overall limit with fewer than minimum digits ends invalid', () => {
    const h = setup({ timeout_millis: 10_000, minimum_digits: 5 });
    h.press('123', 3000);
    h.clock.advance(1000);
    assertEnded(h, 'invalid', '123');
  });

  it('overall limit before any digit ends timeout', () => {
    const h = setup({ timeout_millis: 2000, initial_timeout_millis: 5000 });
    h.clock.advance(2000);
    assertEnded(h, 'timeout', '');
  });
});

describe('DtmfGather digits', () => {
  it('terminator ends valid and is not included', () => {
    const h = setup();
    h.press('42#');
    assertEnded(h, 'valid', '42');
  });

  it('terminator with too few digits ends invalid', () => {
    const h = setup({ minimum_digits: 3 });
    h.press('42#');
    assertEnded(h, 'invalid', '42');
  });

  it('terminator as the only input ends invalid with ""', () => {
    const h = setup();
    h.press('#');
    assertEnded(h, 'invalid', '');
  });

  it('reaching maximum_digits ends valid at once', () => {
    const h = setup({ maximum_digits: 3 });
    h.press('123');
    assertEnded(h, 'valid', '123');
  });

  it('a digit outside valid_digits is appended and ends invalid at once', () => {
    const h = setup({ maximum_digits: 10 });
    h.press('12A');
    assertEnded(h, 'invalid', '12A');
  });

  it('custom valid_digits: # stays the terminator, * becomes invalid', () => {
    const h = setup({ valid_digits: '123' });
    h.press('12#');
    assertEnded(h, 'valid', '12');

    const h2 = setup({ valid_digits: '123' });
    h2.press('1*');
    assertEnded(h2, 'invalid', '1*');
  });

  it('A-D are accepted when listed in valid_digits', () => {
    const h = setup({ valid_digits: 'ABCD', maximum_digits: 4 });
    h.press('DCBA');
    assertEnded(h, 'valid', 'DCBA');
  });

  it('empty terminating_digit means # is an ordinary digit', () => {
    const h = setup({ terminating_digit: '' });
    h.press('1#2');
    assert.equal(h.gather.digits, '1#2');
    h.clock.advance(5000);
    assertEnded(h, 'valid', '1#2');
  });

  it('a custom terminating_digit replaces #', () => {
    const h = setup({ terminating_digit: '*' });
    h.press('1#*');
    assertEnded(h, 'valid', '1#');
  });

  it('rejects symbols that are not DTMF without changing state', () => {
    const h = setup();
    assert.equal(h.gather.digit('x'), false);
    assert.equal(h.gather.digit('12'), false);
    assert.equal(h.gather.digit(''), false);
    assert.equal(h.firstDigits, 0);
    assert.equal(h.gather.digits, '');
    h.clock.advance(5000);
    assertEnded(h, 'timeout', '');
  });
});

describe('DtmfGather stop and hangup', () => {
  it('stop ends cancelled with the digits so far', () => {
    const h = setup();
    h.press('12');
    assert.equal(h.gather.stop(), true);
    assertEnded(h, 'cancelled', '12');
  });

  it('hangup ends call_hangup with the digits so far', () => {
    const h = setup();
    h.press('7');
    assert.equal(h.gather.hangup(), true);
    assertEnded(h, 'call_hangup', '7');
  });

  it('after the end: digits, stop, hangup and time are ignored; exactly one outcome', () => {
    const h = setup();
    h.press('5#');
    assert.equal(h.gather.digit('1'), false);
    assert.equal(h.gather.stop(), false);
    assert.equal(h.gather.hangup(), false);
    h.clock.advance(120_000);
    assertEnded(h, 'valid', '5');
    assert.deepEqual(h.gather.outcome, { status: 'valid', digits: '5', gatherId: 'g1' });
  });

  it('calls back into the gather from onEnd are ignored', () => {
    const clock = new VirtualClock();
    const outcomes: GatherOutcome[] = [];
    const gather: DtmfGather = new DtmfGather({
      params: resolveGatherParams({}, () => 'gen-id'),
      clock,
      onEnd: (o) => {
        outcomes.push(o);
        assert.equal(gather.stop(), false);
        assert.equal(gather.digit('1'), false);
      },
    });
    gather.hangup();
    assert.deepEqual(outcomes, [{ status: 'call_hangup', digits: '', gatherId: 'gen-id' }]);
    assert.equal(clock.pendingCount, 0);
  });
});

describe('DtmfGather deferred start (prompt use)', () => {
  it('startTimersNow: false waits for armTimers, then counts from there', () => {
    const h = setup({}, { startTimersNow: false });
    assert.equal(h.clock.pendingCount, 0);
    h.clock.advance(30_000); // the prompt playing
    assert.deepEqual(h.outcomes, []);
    h.gather.armTimers();
    h.gather.armTimers(); // idempotent
    assert.equal(h.clock.pendingCount, 2);
    h.clock.advance(4999);
    assert.deepEqual(h.outcomes, []);
    h.clock.advance(1);
    assertEnded(h, 'timeout', '');
  });

  it('a digit during the prompt fires onFirstDigit once and starts the overall timer', () => {
    const h = setup({ timeout_millis: 10_000, inter_digit_timeout_millis: 4000 }, { startTimersNow: false });
    h.clock.advance(2000);
    h.press('1');
    assert.equal(h.firstDigits, 1);
    h.gather.armTimers(); // prompt-end notice arriving after the barge-in changes nothing
    h.press('234', 3000);
    assert.equal(h.firstDigits, 1);
    // Overall limit counted from the first digit: 10s after it, with the last digit at +9s.
    h.clock.advance(999);
    assert.deepEqual(h.outcomes, []);
    h.clock.advance(1);
    assertEnded(h, 'valid', '1234');
  });

  it('onFirstDigit runs before the digit ends the gather', () => {
    const order: string[] = [];
    const clock = new VirtualClock();
    const gather = new DtmfGather({
      params: resolveGatherParams({ gather_id: 'g1' }, () => 'unused'),
      clock,
      onFirstDigit: () => order.push('first'),
      onEnd: (o) => order.push(`end:${o.status}`),
    });
    gather.digit('#');
    assert.deepEqual(order, ['first', 'end:invalid']);
    assert.equal(clock.pendingCount, 0);
  });

  it('ending the gather inside onFirstDigit wins and the digit is dropped', () => {
    const clock = new VirtualClock();
    const outcomes: GatherOutcome[] = [];
    const gather: DtmfGather = new DtmfGather({
      params: resolveGatherParams({ gather_id: 'g1' }, () => 'unused'),
      clock,
      startTimersNow: false,
      onFirstDigit: () => { gather.hangup(); },
      onEnd: (o) => outcomes.push(o),
    });
    assert.equal(gather.digit('1'), false);
    assert.deepEqual(outcomes, [{ status: 'call_hangup', digits: '', gatherId: 'g1' }]);
    assert.equal(clock.pendingCount, 0);
  });

  it('stop before armTimers ends cancelled and arming afterwards does nothing', () => {
    const h = setup({}, { startTimersNow: false });
    h.gather.stop();
    h.gather.armTimers();
    assertEnded(h, 'cancelled', '');
  });
});
