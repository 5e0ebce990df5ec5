import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JitterBuffer, type JitterBufferOptions } from '../../src/endpoints/rtp/jitter-buffer.js';
import { PCMU } from '../../src/media/dsp/g711.js';

const F = 160;
const filled = (v: number, n = F): Int16Array => new Int16Array(n).fill(v);

/**
 * Drives a buffer one 20 ms tick at a time: `arrivals[k]` lists the packet indexes delivered just
 * before pop k. Packet i carries seq base+i, timestamp tsBase+i*160 and samples all equal to i+1.
 */
function run(arrivals: number[][], options: JitterBufferOptions = {}, seqBase = 100, tsBase = 5000) {
  const jb = new JitterBuffer({ depthMs: 40, ...options });
  const out = new Int16Array(F);
  const played: string[] = [];
  const gains: number[] = [];
  arrivals.forEach((batch, tick) => {
    for (const i of batch) jb.insert((seqBase + i) & 0xffff, (tsBase + i * F) >>> 0, filled(i + 1), F, tick * 20);
    const kind = jb.pop(out);
    played.push(kind === 'audio' ? String(out[0]! - 1) : kind[0]!);
    if (kind === 'concealed') gains.push(out[0]!);
  });
  return { jb, played, gains, stats: jb.stats() };
}

const inOrder = (n: number): number[][] => Array.from({ length: n }, (_, i) => [i]);

describe('JitterBuffer', () => {
  it('plays nothing before the first packet, then holds the configured depth', () => {
    const { played, stats } = run([[], [], ...inOrder(8)]);
    assert.deepEqual(played, ['n', 'n', 's', 's', '0', '1', '2', '3', '4', '5']);
    assert.equal(stats.received, 8);
    assert.equal(stats.lost, 0);
    assert.equal(stats.concealedFrames, 0);
    assert.equal(stats.bufferedMs, 40); // measured after the pop: exactly the depth
  });

  it('puts reordered packets back in order', () => {
    const { played, stats } = run([[0], [2], [1], [4], [3], [5], [6], [], [], []]);
    assert.deepEqual(played, ['s', 's', '0', '1', '2', '3', '4', '5', '6', 'c']);
    assert.equal(stats.late, 0);
    assert.equal(stats.lost, 0);
  });

  it('drops duplicates and counts them', () => {
    const { played, stats } = run([[0], [1, 1], [2, 0], [3], [3, 3], [4], [5]]);
    assert.deepEqual(played, ['s', 's', '0', '1', '2', '3', '4']);
    assert.equal(stats.duplicate, 4);
    assert.equal(stats.received, 6);
  });

  it('conceals a lost packet with a fading repeat, then silence, and reports the loss', () => {
    const { played, gains, stats } = run([[0], [1], [2], [], [], [], [], [7], [8], [9], [10]]);
    // 3..6 lost: frame 2 (samples 300) repeated at 0.8, 0.5, 0.25, then silence.
    assert.deepEqual(played, ['s', 's', '0', '1', '2', 'c', 'c', 'c', 's', '7', '8']);
    assert.deepEqual(gains, [2, 2, 1]);
    assert.equal(stats.lost, 4);
    assert.equal(stats.concealedFrames, 4);
    const silent = run([[0], [1], [2], [], [5], [6], [7]], { concealment: 'silence' });
    assert.deepEqual(silent.played, ['s', 's', '0', '1', '2', 's', 's']);
  });

  it('drops packets that arrive after their playout time when slipping is off', () => {
    const { played, stats } = run([[0], [], [], [], [1, 2], [3], [4]], { maxSlipMs: 0 });
    assert.deepEqual(played, ['s', 's', '0', 'c', '2', '3', '4']);
    assert.equal(stats.late, 1);
    assert.equal(stats.slippedFrames, 0);
  });

  it('plays a packet that comes just too late by adding delay, and gives the delay back in a pause', () => {
    // Packet 1 misses its slot by one frame: playout steps back two (its slot and a frame of
    // margin, both concealed) and every packet is heard; the sender then stays that much later.
    const late = run([[0], [], [], [], [1, 2], ...Array.from({ length: 6 }, (_, k) => [3 + k])]);
    assert.deepEqual(late.played, ['s', 's', '0', 'c', 'c', '1', '2', '3', '4', '5', '6']);
    assert.equal(late.stats.late, 0);
    assert.equal(late.stats.lost, 0);
    assert.equal(late.stats.slippedFrames, 2);
    assert.equal(late.stats.bufferedMs, 40);
    // The sender catches up (4-6 at once): the extra delay goes by skipping the next quiet frames
    // (these samples are near zero) until the depth is back at 40 ms.
    const caughtUp = run([[0], [], [], [], [1, 2], [3], [4, 5, 6], [7], [8], [9]]);
    assert.deepEqual(caughtUp.played, ['s', 's', '0', 'c', 'c', '1', '3', '5', '6', '7']);
    assert.equal(caughtUp.stats.skippedQuietFrames, 2);
    assert.equal(caughtUp.stats.bufferedMs, 40);
    // Loud frames are never skipped: the delay stays until a pause comes.
    const jb = new JitterBuffer({ depthMs: 40 });
    const out = new Int16Array(F);
    const arrivals = [[0], [], [], [], [1, 2], [3], [4, 5, 6], [7], [8], [9]];
    const heard: number[] = [];
    arrivals.forEach((batch, tick) => {
      for (const i of batch) jb.insert(i, i * F, filled(1000 * (i + 1)), F, tick * 20);
      if (jb.pop(out) === 'audio') heard.push(out[0]! / 1000 - 1);
    });
    assert.deepEqual(heard, [0, 1, 2, 3, 4, 5]);
    assert.equal(jb.stats().skippedQuietFrames, 0);
    assert.equal(jb.stats().bufferedMs, 80);
  });

  it('still counts a packet later than the slip allows as late', () => {
    // 3 arrives 60 ms behind the playout point, 4 only 40 ms: 3 is lost, playout steps back for 4
    // (whose quiet frame is then skipped, as the burst left more than the depth buffered).
    const { played, stats } = run([[0], [1], [2], [], [], [], [], [], [3, 4, 5, 6, 7, 8], [], []], { maxSlipMs: 40 });
    assert.equal(stats.late, 1);
    assert.equal(stats.slippedFrames, 3);
    assert.equal(stats.skippedQuietFrames, 1);
    assert.deepEqual(played.slice(-3), ['s', '5', '6']);
  });

  it('counts across 16-bit sequence and 32-bit timestamp wraparound', () => {
    const arrivals = inOrder(40);
    arrivals[20] = [];
    const { stats, played } = run(arrivals, {}, 65520, 0xffffff00 - 10 * F);
    assert.equal(stats.received, 39);
    assert.equal(stats.lost, 1);
    assert.equal(stats.concealedFrames, 1);
    assert.equal(played.filter((p) => p.startsWith('c')).length, 1);
  });

  it('estimates interarrival jitter as RFC 3550 A.8 does', () => {
    const jb = new JitterBuffer({ depthMs: 60 });
    for (let i = 0; i < 400; i++) jb.insert(i, i * F, filled(1), F, i * 20);
    assert.ok(jb.stats().jitterMs < 0.01);
    const jittery = new JitterBuffer({ depthMs: 60 });
    for (let i = 0; i < 400; i++) jittery.insert(i, i * F, filled(1), F, i * 20 + (i % 2) * 10);
    const ms = jittery.stats().jitterMs;
    assert.ok(ms > 9.5 && ms <= 10, `jitter ${ms}`);
    assert.ok(Math.abs(jittery.stats().jitter - ms * 8) < 1e-9);
  });

  it('cuts a backlog that persists, but not a short burst', () => {
    // Ten packets arrive at once: the backlog drains by itself within the hold time.
    const burst = run([[0], [], [], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], ...Array.from({ length: 12 }, () => [])], { excessHoldMs: 400 });
    assert.equal(burst.stats.droppedFrames, 0);
    // A sender running ahead keeps the backlog up: after the hold time the excess is dropped.
    const ahead = run([Array.from({ length: 20 }, (_, i) => i), ...Array.from({ length: 30 }, (_, k) => [20 + k])], {
      excessHoldMs: 100, maxExcessMs: 40,
    });
    assert.ok(ahead.stats.droppedFrames > 0);
    assert.ok(ahead.stats.bufferedMs <= 40 + 20 + 40, `buffered ${ahead.stats.bufferedMs}`);
    const audio = ahead.played.filter((p) => /^\d+$/.test(p)).map(Number);
    assert.deepEqual(audio, [...audio].sort((a, b) => a - b));
  });

  it('re-anchors on a timestamp jump and on a stream that keeps arriving late', () => {
    const jb = new JitterBuffer({ depthMs: 40 });
    const out = new Int16Array(F);
    let seq = 0;
    for (let i = 0; i < 5; i++) {
      jb.insert(seq++, i * F, filled(1), F, 0);
      jb.pop(out);
    }
    assert.equal(jb.insert(seq++, 10_000_000, filled(2), F, 0), 'resync');
    jb.pop(out);
    jb.pop(out);
    assert.equal(jb.pop(out), 'audio');
    assert.equal(out[0], 2);
    // Timestamps jump back without an SSRC change: four late packets in a row re-anchor.
    const outcomes = [0, 1, 2, 3].map((k) => jb.insert(seq++, 500 + k * F, filled(3), F, 0));
    assert.deepEqual(outcomes, ['late', 'late', 'late', 'resync']);
    assert.equal(jb.stats().resyncs, 2);
  });

  it('assembles frames from packets that are not 20 ms long', () => {
    const jb = new JitterBuffer({ depthMs: 40 });
    const out = new Int16Array(F);
    const ramp = (start: number, n: number): Int16Array => Int16Array.from({ length: n }, (_, i) => start + i);
    const frames: number[][] = [];
    let ts = 0;
    for (let tick = 0; tick < 12; tick++) {
      // 30 ms packets: two packets every three ticks.
      if (tick % 3 !== 2) {
        jb.insert(tick, ts, ramp(ts, 240), 240, tick * 20);
        ts += 240;
      }
      if (jb.pop(out) === 'audio') frames.push([out[0]!, out[159]!]);
    }
    assert.deepEqual(frames.slice(0, 4), [[0, 159], [160, 319], [320, 479], [480, 639]]);
  });

  it('decodes G.711 straight into the ring, across its wrap point', () => {
    const jb = new JitterBuffer({ depthMs: 20, maxExcessMs: 20, capacitySamples: 2048 });
    const out = new Int16Array(F);
    const bytes = new Uint8Array(F).fill(PCMU.encodeSample(1000));
    const ts = 2048 - 80; // half the frame lands before the wrap, half after
    assert.equal(jb.insertEncoded(1, ts, PCMU, bytes, 0, F, 0), 'ok');
    jb.pop(out);
    assert.equal(jb.pop(out), 'audio');
    assert.ok(out.every((s) => s === PCMU.decodeSample(PCMU.encodeSample(1000))));
  });

  it('starts a new stream after reset, keeping the counters', () => {
    const { jb } = run(inOrder(5));
    jb.reset();
    const out = new Int16Array(F);
    assert.equal(jb.pop(out), 'none');
    jb.insert(7, 123456, filled(9), F, 0);
    assert.equal(jb.stats().received, 6);
    assert.equal(jb.stats().duplicate, 0);
  });
});
