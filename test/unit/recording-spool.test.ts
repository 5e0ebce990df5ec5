/**
 * The recording spool: layouts (dual, mixed, single track), the on-disk format, flushing and
 * crash safety (a spool cut off mid-frame, and a real `kill -9` of a recording process), and
 * the allocation-free append path. Spools are finalised to WAV on the calling thread here;
 * recording-finalize.test.ts covers MP3, trimming and the worker threads.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { mkdtemp, readFile, rm, stat, truncate } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseWav } from '../../src/media/audio/wav.js';
import { GoertzelBank } from '../../src/media/dsp/goertzel.js';
import { finalizeRecording, RecordingFinalizeError } from '../../src/media/recording/finalize.js';
import {
  RecordingSpool,
  SpoolWriteBatch,
  SPOOL_HEADER_BYTES,
  readSpoolHeader,
  spoolLayout,
  type RecordingChannels,
  type RecordingTrack,
} from '../../src/media/recording/spool.js';

const RATE = 8000;
const FRAME = 160;

let dir = '';
let counter = 0;
const spoolPath = (): string => join(dir, `rec-${++counter}.spool`);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'recording-spool-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Frame `index` of a sine, phase-continuous across frames. */
function sineFrame(frequency: number, amplitude: number, index: number): Int16Array {
  const frame = new Int16Array(FRAME);
  for (let i = 0; i < FRAME; i++) frame[i] = Math.round(amplitude * Math.sin((2 * Math.PI * frequency * (index * FRAME + i)) / RATE));
  return frame;
}

/** Records `frames` ticks of 440 Hz inbound and 1 kHz outbound. */
function recordTones(path: string, channels: RecordingChannels, track: RecordingTrack, frames = 100): RecordingSpool {
  const spool = RecordingSpool.create(path, { channels, track });
  for (let f = 0; f < frames; f++) spool.append(sineFrame(440, 8000, f), sineFrame(1000, 8000, f));
  spool.close();
  return spool;
}

/**
 * Power at 440 Hz and 1 kHz (dB, relative) in a channel, over whole 50 ms blocks: both tones
 * complete whole cycles in a block, so neither leaks into the other's bin.
 */
function tonePowers(samples: Float32Array): { p440: number; p1000: number } {
  const BLOCK = 400;
  const blocks = Math.floor(samples.length / BLOCK);
  const bank = new GoertzelBank([440, 1000], RATE, BLOCK);
  const re = new Float64Array(2);
  const im = new Float64Array(2);
  let p440 = 0;
  let p1000 = 0;
  for (let b = 0; b < blocks; b++) {
    bank.update(samples, b * BLOCK, (b + 1) * BLOCK);
    bank.finish(re, im);
    p440 += (re[0] as number) ** 2 + (im[0] as number) ** 2;
    p1000 += (re[1] as number) ** 2 + (im[1] as number) ** 2;
  }
  return { p440: 10 * Math.log10(p440 + 1e-20), p1000: 10 * Math.log10(p1000 + 1e-20) };
}

async function finalizeWav(path: string): Promise<{ wav: ReturnType<typeof parseWav>; bytes: Uint8Array; durationMs: number }> {
  const result = await finalizeRecording(path, { format: 'wav', runOn: 'caller' });
  const bytes = await readFile(result.file);
  return { wav: parseWav(bytes), bytes, durationMs: result.durationMs };
}

describe('RecordingSpool: layouts', () => {
  it('maps channels and track as Telnyx does: a single track is mono whatever `channels` says', () => {
    assert.equal(spoolLayout('single', 'both'), 'mix');
    assert.equal(spoolLayout('dual', 'both'), 'stereo');
    assert.equal(spoolLayout('single', 'inbound'), 'inbound');
    assert.equal(spoolLayout('dual', 'inbound'), 'inbound');
    assert.equal(spoolLayout('dual', 'outbound'), 'outbound');
  });

  it('dual: inbound on the left channel, outbound on the right', async () => {
    const path = spoolPath();
    recordTones(path, 'dual', 'both');
    const { wav, durationMs } = await finalizeWav(path);
    assert.equal(wav.channels, 2);
    assert.equal(wav.sampleRate, RATE);
    assert.equal(durationMs, 2000);
    const left = tonePowers(wav.samples[0] as Float32Array);
    const right = tonePowers(wav.samples[1] as Float32Array);
    assert.ok(left.p440 - left.p1000 > 40, `left: 440 Hz only ${(left.p440 - left.p1000).toFixed(1)} dB above 1 kHz`);
    assert.ok(right.p1000 - right.p440 > 40, `right: 1 kHz only ${(right.p1000 - right.p440).toFixed(1)} dB above 440 Hz`);
  });

  it('single: both directions mixed into one channel', async () => {
    const path = spoolPath();
    recordTones(path, 'single', 'both');
    const { wav } = await finalizeWav(path);
    assert.equal(wav.channels, 1);
    const mix = tonePowers(wav.samples[0] as Float32Array);
    assert.ok(Math.abs(mix.p440 - mix.p1000) < 1, `tones unequal in the mix: ${mix.p440.toFixed(1)} vs ${mix.p1000.toFixed(1)}`);
  });

  for (const [track, kept, dropped] of [['inbound', 'p440', 'p1000'], ['outbound', 'p1000', 'p440']] as const) {
    for (const channels of ['single', 'dual'] as const) {
      it(`track ${track} (channels ${channels}): mono, that direction only`, async () => {
        const path = spoolPath();
        recordTones(path, channels, track);
        const { wav } = await finalizeWav(path);
        assert.equal(wav.channels, 1);
        const p = tonePowers(wav.samples[0] as Float32Array);
        assert.ok(p[kept] - p[dropped] > 40, `${track}: the other direction leaked in`);
      });
    }
  }

  it('mixing saturates instead of wrapping', async () => {
    const path = spoolPath();
    const spool = RecordingSpool.create(path);
    spool.append(new Int16Array(FRAME).fill(30000), new Int16Array(FRAME).fill(20000));
    spool.append(new Int16Array(FRAME).fill(-30000), new Int16Array(FRAME).fill(-20000));
    spool.append(new Int16Array(FRAME).fill(1000), new Int16Array(FRAME).fill(-300));
    spool.close();
    const { bytes } = await finalizeWav(path);
    const pcm = new Int16Array(bytes.buffer, bytes.byteOffset + 44, 3 * FRAME);
    assert.equal(pcm[0], 32767);
    assert.equal(pcm[FRAME], -32768);
    assert.equal(pcm[2 * FRAME], 700);
  });

  it('a missing direction is silence, a short frame is padded, extra samples are ignored', async () => {
    const path = spoolPath();
    const spool = RecordingSpool.create(path, { channels: 'dual' });
    spool.append(null, new Int16Array(FRAME).fill(5));
    spool.append(new Int16Array(100).fill(7), null);
    spool.append(new Int16Array(FRAME + 40).fill(9), new Int16Array(FRAME + 40).fill(-9));
    spool.close();
    assert.equal(spool.frames, 3);
    assert.equal(spool.durationMs, 60);
    const { bytes } = await finalizeWav(path);
    const pcm = new Int16Array(bytes.buffer, bytes.byteOffset + 44, 3 * FRAME * 2);
    assert.equal(pcm.length, 960);
    assert.deepEqual([pcm[0], pcm[1], pcm[318], pcm[319]], [0, 5, 0, 5]);
    assert.deepEqual([pcm[320], pcm[321], pcm[320 + 198], pcm[320 + 200], pcm[320 + 201]], [7, 0, 7, 0, 0]);
    assert.deepEqual([pcm[640], pcm[641], pcm[958], pcm[959]], [9, -9, 9, -9]);
  });
});

describe('RecordingSpool: samples are stored exactly', () => {
  /** Frames of every shape a tick can bring: whole, short, long and missing, full-scale values. */
  function frameOfShape(shape: number, seed: number): Int16Array | null {
    if (shape === 0) return null;
    const length = shape === 1 ? FRAME : shape === 2 ? 100 : FRAME + 40;
    const frame = new Int16Array(length);
    for (let i = 0; i < length; i++) frame[i] = ((seed * 7919 + i * 104729) % 65536) - 32768;
    return frame;
  }
  const sample = (frame: Int16Array | null, i: number): number => (frame !== null && i < frame.length ? (frame[i] as number) : 0);

  it('dual: every pairing of frame shapes interleaves sample for sample', async () => {
    const path = spoolPath();
    const spool = RecordingSpool.create(path, { channels: 'dual' });
    const ticks: [Int16Array | null, Int16Array | null][] = [];
    for (let a = 0; a < 4; a++) for (let b = 0; b < 4; b++) ticks.push([frameOfShape(a, ticks.length), frameOfShape(b, ticks.length + 100)]);
    for (const [inbound, outbound] of ticks) spool.append(inbound, outbound);
    spool.close();
    const { bytes } = await finalizeWav(path);
    const pcm = new Int16Array(bytes.buffer, bytes.byteOffset + 44, ticks.length * FRAME * 2);
    ticks.forEach(([inbound, outbound], t) => {
      for (let i = 0; i < FRAME; i++) {
        const at = (t * FRAME + i) * 2;
        if (pcm[at] !== sample(inbound, i) || pcm[at + 1] !== sample(outbound, i)) {
          assert.fail(`tick ${t}, sample ${i}: [${pcm[at]}, ${pcm[at + 1]}], expected [${sample(inbound, i)}, ${sample(outbound, i)}]`);
        }
      }
    });
  });

  it('single: every pairing of frame shapes mixes sample for sample, saturated', async () => {
    const path = spoolPath();
    const spool = RecordingSpool.create(path);
    const ticks: [Int16Array | null, Int16Array | null][] = [];
    for (let a = 0; a < 4; a++) for (let b = 0; b < 4; b++) ticks.push([frameOfShape(a, ticks.length), frameOfShape(b, ticks.length + 100)]);
    for (const [inbound, outbound] of ticks) spool.append(inbound, outbound);
    spool.close();
    const { bytes } = await finalizeWav(path);
    const pcm = new Int16Array(bytes.buffer, bytes.byteOffset + 44, ticks.length * FRAME);
    ticks.forEach(([inbound, outbound], t) => {
      for (let i = 0; i < FRAME; i++) {
        const expected = Math.max(-32768, Math.min(32767, sample(inbound, i) + sample(outbound, i)));
        if (pcm[t * FRAME + i] !== expected) assert.fail(`tick ${t}, sample ${i}: ${pcm[t * FRAME + i]}, expected ${expected}`);
      }
    });
  });
});

describe('RecordingSpool: pause and resume', () => {
  for (const before of [25, 20]) {
    it(`paused audio is absent, and the cut does not click (pause after ${before} frames${before % 10 === 0 ? ', just flushed' : ''})`, async () => {
      const path = spoolPath();
      const spool = RecordingSpool.create(path, { channels: 'dual' });
      for (let f = 0; f < before; f++) spool.append(sineFrame(440, 12000, f), sineFrame(1000, 12000, f));
      spool.pause();
      assert.equal((await stat(path)).size, 44 + before * FRAME * 4, 'pausing hands everything to the OS');
      // Frames `before`..`before + 37` happen while paused: never appended.
      spool.resume();
      for (let f = before + 37; f < before + 37 + 15; f++) spool.append(sineFrame(440, 12000, f), sineFrame(1000, 12000, f));
      spool.close();
      const { wav } = await finalizeWav(path);
      const left = wav.samples[0] as Float32Array;
      assert.equal(left.length, (before + 15) * FRAME);
      const cut = before * FRAME;
      // Untouched away from the cut...
      assert.equal(Math.round((left[cut - 100] as number) * 32768), sineFrame(440, 12000, before - 1)[60]);
      assert.equal(Math.round((left[cut + 100] as number) * 32768), sineFrame(440, 12000, before + 37)[100]);
      // ...silent at it, and no step there larger than the sine's own steepest step.
      assert.ok(Math.abs(left[cut - 1] as number) < 0.01 && Math.abs(left[cut] as number) < 0.01);
      let steepest = 0;
      for (let i = cut - 60; i < cut + 60; i++) steepest = Math.max(steepest, Math.abs((left[i] as number) - (left[i - 1] as number)) * 32768);
      assert.ok(steepest <= (2 * Math.PI * 440 * 12000) / RATE + 1, `step of ${steepest.toFixed(0)} at the cut`);
    });
  }

  it('pause before anything was recorded, or twice, is harmless', async () => {
    const path = spoolPath();
    const spool = RecordingSpool.create(path);
    spool.pause();
    spool.resume();
    spool.append(new Int16Array(FRAME).fill(1000), null);
    spool.pause();
    spool.pause();
    spool.close();
    const { wav } = await finalizeWav(path);
    const x = wav.samples[0] as Float32Array;
    assert.equal(x.length, FRAME);
    // Not faded in (nothing came before it), faded out once.
    assert.equal(Math.round((x[0] as number) * 32768), 1000);
    assert.ok(Math.abs((x[FRAME - 20] as number) * 32768 - 500) < 50);
  });
});

describe('RecordingSpool: file format and flushing', () => {
  it('starts with a WAV header of unknown length, readable as WAV before it is finalised', async () => {
    const path = spoolPath();
    const spool = RecordingSpool.create(path, { channels: 'dual' });
    const head = await readFile(path);
    assert.equal(head.length, SPOOL_HEADER_BYTES);
    assert.deepEqual(readSpoolHeader(head), { channels: 2, dataOffset: 44 });
    assert.equal(head.readUInt32LE(4), 0xffffffff);
    assert.equal(head.readUInt32LE(40), 0xffffffff);
    for (let f = 0; f < 10; f++) spool.append(sineFrame(440, 8000, f), sineFrame(1000, 8000, f));
    // Not closed: this is what a crash leaves, and our own WAV reader takes it as it is.
    const wav = parseWav(await readFile(path));
    assert.equal(wav.channels, 2);
    assert.equal(wav.samples[0]?.length, 10 * FRAME);
    spool.close();
  });

  it('hands frames to the OS every 10 frames (200 ms), and on flush() and close()', async () => {
    const path = spoolPath();
    const spool = RecordingSpool.create(path);
    const frame = new Int16Array(FRAME).fill(1);
    for (let f = 0; f < 9; f++) spool.append(frame, null);
    assert.equal((await stat(path)).size, 44);
    spool.append(frame, null);
    assert.equal((await stat(path)).size, 44 + 10 * FRAME * 2);
    for (let f = 0; f < 3; f++) spool.append(frame, null);
    spool.flush();
    assert.equal((await stat(path)).size, 44 + 13 * FRAME * 2);
    spool.append(frame, null);
    spool.close();
    spool.close();
    assert.equal((await stat(path)).size, 44 + 14 * FRAME * 2);
    assert.throws(() => spool.append(frame, null), /closed/);
  });

  it('with a write batch, a full buffer is written once the current task is over, or before the next append', async () => {
    const path = spoolPath();
    const batch = new SpoolWriteBatch();
    const spool = RecordingSpool.create(path, { batch });
    const other = RecordingSpool.create(spoolPath(), { batch });
    const frame = new Int16Array(FRAME).fill(1000);
    const dataBytes = (): number => fs.statSync(path).size - SPOOL_HEADER_BYTES;
    for (let f = 0; f < 10; f++) {
      spool.append(frame, null);
      other.append(frame, null);
    }
    assert.equal(dataBytes(), 0, 'written during the pass');
    await Promise.resolve();
    assert.equal(dataBytes(), 10 * FRAME * 2, 'not written once the pass was over');
    assert.equal(fs.statSync(other.path).size - SPOOL_HEADER_BYTES, 10 * FRAME * 2);
    // A catch-up pass appends twice before the batch runs: the full buffer is written first.
    for (let f = 0; f < 10; f++) spool.append(frame, null);
    spool.append(frame, null);
    assert.equal(dataBytes(), 20 * FRAME * 2);
    spool.close();
    other.close();
    await Promise.resolve();
    assert.equal(dataBytes(), 21 * FRAME * 2);
    const { durationMs } = await finalizeWav(path);
    assert.equal(durationMs, 21 * 20);
  });

  it('never shares a spool: creating one over an existing file fails', () => {
    const path = spoolPath();
    RecordingSpool.create(path).close();
    assert.throws(() => RecordingSpool.create(path), /EEXIST/);
  });

  it('refuses flush intervals that would risk more than 200 ms', () => {
    assert.throws(() => RecordingSpool.create(spoolPath(), { flushIntervalFrames: 11 }), RangeError);
    assert.throws(() => RecordingSpool.create(spoolPath(), { flushIntervalFrames: 0 }), RangeError);
  });

  it('a failed write is reported once and stops the spool; what was written stays usable', async () => {
    const path = spoolPath();
    const errors: Error[] = [];
    const spool = RecordingSpool.create(path, { onError: (e) => errors.push(e) });
    for (let f = 0; f < 10; f++) spool.append(sineFrame(440, 8000, f), null);
    const original = fs.writeSync;
    fs.writeSync = () => {
      throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    };
    syncBuiltinESMExports();
    try {
      for (let f = 10; f < 30; f++) spool.append(sineFrame(440, 8000, f), null);
    } finally {
      fs.writeSync = original;
      syncBuiltinESMExports();
    }
    spool.close();
    assert.equal(errors.length, 1);
    assert.match(String(spool.failure), /ENOSPC/);
    assert.equal(spool.frames, 30);
    const { durationMs } = await finalizeWav(path);
    assert.equal(durationMs, 200);
  });
});

describe('RecordingSpool: crash safety', () => {
  it('a spool cut off mid-frame finalises to every whole sample it holds', async () => {
    for (const channels of ['single', 'dual'] as const) {
      const path = spoolPath();
      const spool = recordTones(path, channels, 'both', 50);
      const full = (await stat(path)).size;
      assert.equal(full, 44 + 50 * FRAME * spool.channels * 2);
      const reference = new Uint8Array(await readFile(path));
      // Cut 7 bytes: the last sample frame is incomplete (and, in stereo, a whole one too).
      await truncate(path, full - 7);
      const { wav, bytes: file, durationMs } = await finalizeWav(path);
      const bytes = new Uint8Array(file);
      const kept = Math.floor((full - 7 - 44) / (2 * spool.channels));
      assert.equal(wav.samples[0]?.length, kept);
      assert.equal(durationMs, (kept * 1000) / RATE);
      assert.deepEqual(bytes.subarray(44), reference.subarray(44, 44 + kept * 2 * spool.channels));
      // The finalised file's header is exact.
      const view = new DataView(bytes.buffer, bytes.byteOffset);
      assert.equal(view.getUint32(40, true), kept * 2 * spool.channels);
      assert.equal(view.getUint32(4, true), bytes.length - 8);
      await assert.rejects(stat(path), /ENOENT/);
    }
  });

  it('a spool with only its header finalises to an empty recording', async () => {
    const path = spoolPath();
    RecordingSpool.create(path, { channels: 'dual' }).close();
    const result = await finalizeRecording(path, { format: 'wav', runOn: 'caller' });
    assert.equal(result.durationMs, 0);
    assert.equal(result.sizeBytes, 44);
  });

  it('a file that is not a spool is refused, and left alone', async () => {
    const path = spoolPath();
    await fs.promises.writeFile(path, 'RIFF');
    await assert.rejects(finalizeRecording(path, { format: 'wav', runOn: 'caller' }), (e: unknown) => e instanceof RecordingFinalizeError && e.reason === 'corrupt');
    assert.equal((await stat(path)).size, 4);
    await assert.rejects(finalizeRecording(join(dir, 'nope.spool'), { format: 'wav', runOn: 'caller' }), (e: unknown) => e instanceof RecordingFinalizeError && e.reason === 'not_found');
  });

  it('after kill -9, at most the last 200 ms are lost and everything before is intact', async (t) => {
    // A child process records frame after frame (frame n holds the value n in every sample) and
    // reports each frame on stdout after appending it (pipe writes are synchronous on Linux and
    // macOS, so a reported frame really was appended). We SIGKILL it mid-stream.
    const path = spoolPath();
    const moduleUrl = new URL('../../src/media/recording/spool.ts', import.meta.url).href;
    const script = `
      import { RecordingSpool } from ${JSON.stringify(moduleUrl)};
      const spool = RecordingSpool.create(${JSON.stringify(path)}, { channels: 'dual' });
      let n = 0;
      const inbound = new Int16Array(160);
      const outbound = new Int16Array(160);
      const tick = () => {
        inbound.fill(n % 30000);
        outbound.fill(-(n % 30000));
        spool.append(inbound, outbound);
        process.stdout.write(n + '\\n');
        n++;
        setTimeout(tick, 1);
      };
      tick();
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const reported = await new Promise<number>((resolve, reject) => {
      let last = -1;
      let buffer = '';
      // Kill at a frame count that is not a multiple of the flush interval, so frames are
      // sitting in the buffer.
      const killAt = 237;
      child.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        const lines = buffer.split('\n');
        buffer = lines.pop() ?? '';
        for (const line of lines) last = Number(line);
        if (last >= killAt && child.exitCode === null && !child.killed) {
          child.kill('SIGKILL');
          resolve(last);
        }
      });
      child.on('exit', () => resolve(last));
      child.on('error', reject);
    });
    await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once('exit', resolve)));
    assert.equal(child.signalCode, 'SIGKILL');
    const result = await finalizeRecording(path, { format: 'wav', runOn: 'caller' });
    const bytes = await readFile(result.file);
    const pcm = new Int16Array(bytes.buffer.slice(bytes.byteOffset + 44, bytes.byteOffset + bytes.length));
    const frames = pcm.length / (2 * FRAME);
    t.diagnostic(`child reported frame ${reported} appended when killed; the recording holds ${frames} frames`);
    assert.ok(Number.isInteger(frames), 'whole frames only (writes are whole flushes)');
    // Frames 0..reported were appended; all but the unflushed tail must be there.
    assert.ok(frames >= reported + 1 - 10, `lost ${reported + 1 - frames} frames (> 10 = 200 ms)`);
    for (let f = 0; f < frames; f++) {
      for (const i of [0, 159]) {
        assert.equal(pcm[(f * FRAME + i) * 2], f % 30000, `frame ${f} left`);
        assert.equal(pcm[(f * FRAME + i) * 2 + 1], 0 - (f % 30000), `frame ${f} right`);
      }
    }
  });
});

describe('RecordingSpool: per-frame cost', () => {
  it('100 000 appends do not grow the heap (append allocates nothing)', () => {
    for (const channels of ['single', 'dual'] as const) {
      const path = spoolPath();
      const spool = RecordingSpool.create(path, { channels });
      const a = sineFrame(440, 8000, 0);
      const b = sineFrame(1000, 8000, 0);
      const run = (n: number): void => {
        for (let i = 0; i < n; i++) spool.append(a, i % 7 === 0 ? null : b);
      };
      run(20_000); // warm up
      const before = process.memoryUsage().heapUsed;
      run(100_000);
      const perAppend = (process.memoryUsage().heapUsed - before) / 100_000;
      spool.close();
      fs.rmSync(path);
      // append itself allocates nothing; what is left is Node's own fs.writeSync, which makes a
      // small context object per call (~56 bytes), once per 10 appends. Anything allocated per
      // append (a subarray view is ~100 bytes, a frame copy ~400) would be far above this.
      assert.ok(perAppend < 10, `${channels}: ${perAppend.toFixed(1)} bytes allocated per append`);
    }
  });
});
