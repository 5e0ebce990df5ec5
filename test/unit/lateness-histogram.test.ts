/**
 * The lateness histogram behind the media clock's and the RTP I/O thread's statistics: mean,
 * maximum and percentiles at 0.1 ms resolution, and one histogram read through shared memory.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LatenessHistogram } from '../../src/media/lateness-histogram.js';

describe('LatenessHistogram', () => {
  it('is empty at first', () => {
    assert.deepEqual(new LatenessHistogram().summary(), { count: 0, meanMs: 0, p50Ms: 0, p99Ms: 0, maxMs: 0 });
  });

  it('gives the mean, the maximum, and each percentile as the upper edge of its 0.1 ms bucket', () => {
    const histogram = new LatenessHistogram();
    // 98 on-time records, one at 3.04 ms, one at 250 ms (beyond the last bucket's start).
    for (let i = 0; i < 98; i++) histogram.record(i % 2 === 0 ? 0 : -0.5);
    histogram.record(3.04);
    histogram.record(250);
    const summary = histogram.summary();
    assert.equal(summary.count, 100);
    assert.ok(Math.abs(summary.meanMs - 2.5304) < 1e-9, `mean ${summary.meanMs}`);
    assert.equal(summary.maxMs, 250);
    assert.ok(Math.abs(summary.p50Ms - 0.1) < 1e-9, `p50 ${summary.p50Ms}`);
    assert.ok(Math.abs(summary.p99Ms - 3.1) < 1e-9, `p99 ${summary.p99Ms}`);
    histogram.record(250);
    histogram.record(250);
    // The top bucket holds everything from 100 ms on.
    assert.ok(Math.abs(histogram.summary().p99Ms - 100.1) < 1e-9, `p99 ${histogram.summary().p99Ms}`);
  });

  it('can live in shared memory: a second view over it reads what the first recorded', () => {
    const memory = new SharedArrayBuffer(LatenessHistogram.BYTES + 8);
    const writer = new LatenessHistogram(memory);
    writer.record(1.25);
    writer.record(0.75);
    assert.deepEqual(new LatenessHistogram(memory).summary(), writer.summary());
    assert.equal(new LatenessHistogram(memory).summary().count, 2);
    // Room after it stays free for the caller's own counters.
    assert.equal(LatenessHistogram.BYTES % 8, 0);
    assert.throws(() => new LatenessHistogram(new ArrayBuffer(16)), RangeError);
  });
});
