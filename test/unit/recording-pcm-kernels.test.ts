/**
 * The SIMD kernels behind a live recording's mix and interleave: the same samples as the
 * scalar definitions (saturated sum; inbound left, outbound right) for random frames and for
 * every full-scale corner. recording-spool.test.ts covers the spool around them, including the
 * frame shapes that keep the JavaScript loops.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FRAME_SAMPLES } from '../../src/media/frame.js';
import { pcmKernels } from '../../src/media/recording/pcm-kernels.js';

const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const EXTREMES = [-32768, -32767, -16384, -1, 0, 1, 16383, 32766, 32767];

/** Random frames, then frames pairing every extreme with every other. */
function* framePairs(): Generator<[Int16Array, Int16Array]> {
  let seed = 12345;
  const next = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) & 0xffff;
  };
  for (let n = 0; n < 200; n++) {
    const a = new Int16Array(FRAME_SAMPLES);
    const b = new Int16Array(FRAME_SAMPLES);
    for (let i = 0; i < FRAME_SAMPLES; i++) {
      a[i] = next() - 32768;
      b[i] = next() - 32768;
    }
    yield [a, b];
  }
  const a = new Int16Array(FRAME_SAMPLES);
  const b = new Int16Array(FRAME_SAMPLES);
  let i = 0;
  for (const x of EXTREMES) {
    for (const y of EXTREMES) {
      a[i % FRAME_SAMPLES] = x;
      b[i % FRAME_SAMPLES] = y;
      i++;
    }
  }
  yield [a, b];
}

describe('recording PCM kernels', () => {
  it('are available on a little-endian host (Node 20 has WebAssembly SIMD on x64 and arm64)', (t) => {
    if (!littleEndianHost) return t.skip('big-endian host: the JavaScript loops are used');
    assert.ok(pcmKernels !== null);
  });

  it('mix is the saturated sum, sample for sample', (t) => {
    const k = pcmKernels;
    if (k === null) return t.skip('no kernels on this host');
    for (const [a, b] of framePairs()) {
      k.a.set(a);
      k.b.set(b);
      k.mix();
      for (let i = 0; i < FRAME_SAMPLES; i++) {
        const expected = Math.max(-32768, Math.min(32767, (a[i] as number) + (b[i] as number)));
        if (k.mixed[i] !== expected) assert.fail(`sample ${i}: ${a[i]} + ${b[i]} gave ${k.mixed[i]}, expected ${expected}`);
      }
    }
  });

  it('interleave puts a on the even samples and b on the odd ones', (t) => {
    const k = pcmKernels;
    if (k === null) return t.skip('no kernels on this host');
    for (const [a, b] of framePairs()) {
      k.a.set(a);
      k.b.set(b);
      k.interleave();
      for (let i = 0; i < FRAME_SAMPLES; i++) {
        if (k.interleaved[2 * i] !== a[i] || k.interleaved[2 * i + 1] !== b[i]) {
          assert.fail(`sample ${i}: [${k.interleaved[2 * i]}, ${k.interleaved[2 * i + 1]}], expected [${a[i]}, ${b[i]}]`);
        }
      }
    }
  });
});
