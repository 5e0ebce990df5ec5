import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  TelephoneEventReceiver, TelephoneEventSender, decodeTelephoneEvent, dtmfDigit, dtmfEventCode, encodeTelephoneEvent,
  type OutgoingTelephoneEvent, type TelephoneEvent,
} from '../../src/endpoints/rtp/telephone-event.js';

function payload(event: number, duration: number, end = false, volume = 10): Uint8Array {
  const buf = new Uint8Array(4);
  encodeTelephoneEvent({ event, end, volume, duration }, buf);
  return buf;
}

/** A receiver and what it reported, with packets fed as [timestamp, event, duration, end]. */
function harness(idleTimeoutMs = 250) {
  const digits: string[] = [];
  const starts: string[] = [];
  const rx = new TelephoneEventReceiver({
    idleTimeoutMs,
    onDigit: (d, ms) => digits.push(`${d}:${ms}`),
    onDigitStart: (d) => starts.push(d),
  });
  let now = 0;
  const feed = (packets: [number, number, number, boolean?][], ssrc = 1, stepMs = 20): void => {
    for (const [ts, ev, dur, end] of packets) {
      const p = payload(ev, dur, end ?? false);
      rx.receive(ssrc, ts, p, 0, p.length, now);
      now += stepMs;
      rx.tick(now);
    }
  };
  const wait = (ms: number): void => {
    for (let t = 0; t < ms; t += 20) {
      now += 20;
      rx.tick(now);
    }
  };
  return { rx, digits, starts, feed, wait };
}

/** The packets a well-behaved sender emits for one 100 ms press at `ts`. */
function press(ts: number, event: number): [number, number, number, boolean][] {
  return [
    [ts, event, 160, false], [ts, event, 320, false], [ts, event, 480, false], [ts, event, 640, false],
    [ts, event, 800, true], [ts, event, 800, true], [ts, event, 800, true],
  ];
}

describe('telephone-event payload', () => {
  it('encodes and decodes event, E bit, volume and duration', () => {
    const buf = new Uint8Array(6);
    encodeTelephoneEvent({ event: 11, end: true, volume: 63, duration: 0xfedc }, buf, 2);
    assert.deepEqual([...buf.subarray(2)], [11, 0x80 | 63, 0xfe, 0xdc]);
    const out: TelephoneEvent = { event: 0, end: false, volume: 0, duration: 0 };
    assert.equal(decodeTelephoneEvent(buf, 2, 4, out), true);
    assert.deepEqual(out, { event: 11, end: true, volume: 63, duration: 0xfedc });
    assert.equal(decodeTelephoneEvent(buf, 4, 3, out), false);
    // The R bit is ignored; durations clamp to 16 bits.
    encodeTelephoneEvent({ event: 1, end: false, volume: 0, duration: 1e6 }, buf);
    assert.equal(decodeTelephoneEvent(Uint8Array.of(1, 0x40 | 5, 0, 160), 0, 4, out), true);
    assert.deepEqual(out, { event: 1, end: false, volume: 5, duration: 160 });
  });

  it('maps DTMF symbols to event codes and back', () => {
    assert.deepEqual([...'0123456789*#ABCD'].map(dtmfEventCode), [...Array(16).keys()]);
    assert.equal(dtmfEventCode('a'), 12);
    assert.equal(dtmfEventCode('x'), -1);
    assert.equal(dtmfDigit(11), '#');
    assert.equal(dtmfDigit(16), null);
  });
});

describe('TelephoneEventReceiver', () => {
  it('reports a press once, at its end, with its duration', () => {
    const h = harness();
    h.feed(press(1000, 5));
    assert.deepEqual(h.starts, ['5']);
    assert.deepEqual(h.digits, ['5:100']);
  });

  it('survives duplicated and reordered packets', () => {
    const h = harness();
    const p = press(1000, 1);
    h.feed([p[0]!, p[0]!, p[2]!, p[1]!, p[4]!, p[3]!, p[4]!, p[5]!, p[1]!, p[6]!, p[6]!]);
    assert.deepEqual(h.digits, ['1:100']);
    assert.deepEqual(h.starts, ['1']);
  });

  it('starts on whichever packet arrives first when the start packets are lost', () => {
    const h = harness();
    h.feed(press(1000, 9).slice(2));
    assert.deepEqual(h.digits, ['9:100']);
    const h2 = harness();
    h2.feed(press(1000, 9).slice(5)); // only end packets arrive
    assert.deepEqual(h2.digits, ['9:100']);
  });

  it('ends a press whose end packets were all lost, after the idle timeout', () => {
    const h = harness(200);
    h.feed(press(1000, 3).slice(0, 3));
    assert.deepEqual(h.digits, []);
    h.wait(160);
    assert.deepEqual(h.digits, []);
    h.wait(60);
    assert.deepEqual(h.digits, ['3:60']);
    assert.equal(h.rx.stats.endedByTimeout, 1);
    // Its end packets turning up late do not report it again.
    h.feed(press(1000, 3).slice(4));
    assert.deepEqual(h.digits, ['3:60']);
  });

  it('ends an unfinished press when the next one starts', () => {
    const h = harness();
    h.feed([...press(1000, 1).slice(0, 2), ...press(2000, 2)]);
    assert.deepEqual(h.digits, ['1:40', '2:100']);
    assert.equal(h.rx.stats.endedByReplacement, 1);
  });

  it('reports the same key pressed twice as two presses', () => {
    const h = harness();
    h.feed([...press(1000, 7), ...press(3000, 7)]);
    assert.deepEqual(h.digits, ['7:100', '7:100']);
  });

  it('ignores packets of an older event that arrive after a newer one started', () => {
    const h = harness();
    h.feed([...press(5000, 4).slice(0, 1), [1000, 8, 160, false], ...press(5000, 4).slice(1)]);
    assert.deepEqual(h.digits, ['4:100']);
  });

  it('takes an unseen older timestamp after the last press ended as a new press', () => {
    const h = harness();
    h.feed([...press(5000, 4), ...press(1000, 2), [5000, 4, 800, true]]);
    assert.deepEqual(h.digits, ['4:100', '2:100']);
  });

  it('handles timestamps that wrap around 2^32', () => {
    const h = harness();
    h.feed([...press(0xffffff00, 1), ...press(0x00000100, 2), [0xffffff00, 1, 800, true]]);
    assert.deepEqual(h.digits, ['1:100', '2:100']);
  });

  it('treats a new SSRC as a new timestamp space', () => {
    const h = harness();
    h.feed(press(1000, 1), 1);
    h.feed(press(1000, 1), 2); // same timestamp, different source: a new press
    assert.deepEqual(h.digits, ['1:100', '1:100']);
  });

  it('de-duplicates but does not report non-DTMF events, and counts short payloads', () => {
    const h = harness();
    h.feed(press(1000, 16));
    assert.deepEqual(h.digits, []);
    h.rx.receive(1, 9000, Uint8Array.of(1, 2), 0, 2, 0);
    assert.equal(h.rx.stats.malformedPackets, 1);
  });
});

describe('TelephoneEventSender', () => {
  const next = (tx: TelephoneEventSender, ticks: number, startTs = 1000): (OutgoingTelephoneEvent | null)[] => {
    const out: (OutgoingTelephoneEvent | null)[] = [];
    for (let i = 0; i < ticks; i++) {
      const ev: OutgoingTelephoneEvent = { event: 0, end: false, volume: 0, duration: 0, marker: false, timestamp: 0 };
      out.push(tx.next(startTs + i * 160, ev) ? ev : null);
    }
    return out;
  };

  it('sends marker first, one timestamp per event, growing duration and three end packets', () => {
    const tx = new TelephoneEventSender({ durationMs: 100, gapMs: 40, volume: 12 });
    assert.equal(tx.enqueue('1#'), true);
    const packets = next(tx, 20);
    const summary = packets.map((p) => (p ? `${p.event}/${p.timestamp}/${p.duration}${p.end ? 'E' : ''}${p.marker ? 'M' : ''}` : '-'));
    assert.deepEqual(summary, [
      '1/1000/160M', '1/1000/320', '1/1000/480', '1/1000/640', '1/1000/800E', '1/1000/800E', '1/1000/800E',
      '-', '-',
      '11/2440/160M', '11/2440/320', '11/2440/480', '11/2440/640', '11/2440/800E', '11/2440/800E', '11/2440/800E',
      '-', '-', '-', '-',
    ]);
    assert.ok(packets.every((p) => p === null || p.volume === 12));
    assert.equal(tx.busy, false);
  });

  it('pauses for w (500 ms) and rejects characters that are not DTMF', () => {
    const tx = new TelephoneEventSender({ durationMs: 40, gapMs: 0 });
    assert.equal(tx.enqueue('1x'), false);
    assert.equal(tx.busy, false);
    assert.equal(tx.enqueue('w2'), true);
    const packets = next(tx, 30);
    assert.equal(packets.findIndex((p) => p !== null), 25);
  });

  it('feeds a receiver exactly the digits it was given', () => {
    const digits: string[] = [];
    const rx = new TelephoneEventReceiver({ onDigit: (d) => digits.push(d) });
    const tx = new TelephoneEventSender({ durationMs: 80, gapMs: 60 });
    tx.enqueue('0123456789*#ABCD');
    const buf = new Uint8Array(4);
    const ev: OutgoingTelephoneEvent = { event: 0, end: false, volume: 0, duration: 0, marker: false, timestamp: 0 };
    for (let tick = 0; tick < 400; tick++) {
      if (tx.next(tick * 160, ev)) {
        encodeTelephoneEvent(ev, buf);
        rx.receive(42, ev.timestamp, buf, 0, 4, tick * 20);
      }
      rx.tick(tick * 20);
    }
    assert.equal(digits.join(''), '0123456789*#ABCD');
  });
});
