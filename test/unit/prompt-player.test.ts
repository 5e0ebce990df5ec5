import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FRAME_SAMPLES } from '../../src/media/frame.js';
import { PlaybackLoadError, PromptPlayer, type PlaybackEndStatus, type PlaybackItem } from '../../src/media/player/prompt-player.js';

/** A clip of `frames` frames whose every sample is `value`. */
const clip = (frames: number, value: number): Int16Array => new Int16Array(frames * FRAME_SAMPLES).fill(value);

function recorder() {
  const events: string[] = [];
  const item = (name: string, audio: PlaybackItem['audio'], extra: Partial<PlaybackItem> = {}): PlaybackItem => ({
    overlay: false, loops: 1, audio,
    onStart: () => events.push(`${name}:start`),
    onEnd: (status: PlaybackEndStatus, detail: string) => events.push(`${name}:${status}${detail ? `(${detail})` : ''}`),
    ...extra,
  });
  return { events, item };
}

/** Pulls `n` frames and returns the first sample of each (null for no audio). */
function pull(player: PromptPlayer, n: number): (number | null)[] {
  const out: (number | null)[] = [];
  for (let i = 0; i < n; i++) out.push(player.nextFrame()?.[0] ?? null);
  return out;
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('PromptPlayer', () => {
  it('plays queued clips in order, each ending on its last frame, the next starting on the following one', () => {
    const player = new PromptPlayer();
    const { events, item } = recorder();
    player.enqueue(item('a', clip(2, 100)));
    player.enqueue(item('b', clip(1, 200)));
    assert.deepEqual(pull(player, 4), [100, 100, 200, null]);
    assert.deepEqual(events, ['a:start', 'a:completed', 'b:start', 'b:completed']);
  });

  it('loops a clip, and pads the frame that finishes a clip shorter than a frame with silence', () => {
    const player = new PromptPlayer();
    const { events, item } = recorder();
    player.enqueue(item('a', new Int16Array(FRAME_SAMPLES / 2).fill(7), { loops: 3 }));
    const first = player.nextFrame();
    assert.ok(first);
    assert.equal(first[0], 7);
    assert.equal(first[FRAME_SAMPLES - 1], 7);
    const second = player.nextFrame();
    assert.ok(second);
    assert.equal(second[FRAME_SAMPLES / 2 - 1], 7);
    assert.equal(second[FRAME_SAMPLES / 2], 0);
    assert.deepEqual(events, ['a:start', 'a:completed']);
  });

  it('keeps a loading clip in its place; a failed load ends with its status and the queue moves on', async () => {
    const player = new PromptPlayer();
    const { events, item } = recorder();
    let resolve!: (clip: Int16Array) => void;
    player.enqueue(item('slow', new Promise<Int16Array>((r) => { resolve = r; })));
    player.enqueue(item('bad', Promise.reject(new PlaybackLoadError('file_not_found', 'HTTP 404'))));
    player.enqueue(item('c', clip(1, 3)));
    await settle();
    assert.deepEqual(pull(player, 2), [null, null], 'nothing overtakes the clip still loading');
    resolve(clip(1, 1));
    await settle();
    assert.deepEqual(pull(player, 3), [1, 3, null]);
    assert.deepEqual(events, ['slow:start', 'slow:completed', 'bad:file_not_found(HTTP 404)', 'c:start', 'c:completed']);
  });

  it('stop current plays the next; stop all clears the queue; items that never started end silently', () => {
    const player = new PromptPlayer();
    const { events, item } = recorder();
    for (const [name, value] of [['a', 1], ['b', 2], ['c', 3], ['d', 4]] as const) player.enqueue(item(name, clip(5, value)));
    assert.deepEqual(pull(player, 1), [1]);
    player.stop('current', false);
    assert.deepEqual(pull(player, 1), [2]);
    player.stop('all', false);
    assert.deepEqual(pull(player, 1), [null]);
    assert.deepEqual(events, ['a:start', 'a:cancelled', 'b:start', 'b:cancelled']);
  });

  it('mixes the overlay on top of the main track, saturating instead of wrapping', () => {
    const player = new PromptPlayer();
    const { events, item } = recorder();
    player.enqueue(item('main', clip(3, 30000)));
    player.enqueue(item('over', clip(1, 10000), { overlay: true }));
    assert.deepEqual(pull(player, 3), [32767, 30000, 30000]);
    player.stop('all', true);
    assert.deepEqual(events, ['main:start', 'over:start', 'over:completed', 'main:completed']);
  });

  it('a handle stops its item whether playing or queued; close ends what plays with call_hangup', () => {
    const player = new PromptPlayer();
    const { events, item } = recorder();
    const a = player.enqueue(item('a', clip(5, 1)));
    const b = player.enqueue(item('b', clip(5, 2)));
    player.enqueue(item('c', clip(5, 3)));
    b.stop();
    pull(player, 1);
    a.stop();
    assert.deepEqual(pull(player, 1), [3]);
    player.close();
    assert.deepEqual(events, ['a:start', 'a:cancelled', 'c:start', 'c:call_hangup']);
    assert.equal(player.nextFrame(), null);
  });
});
