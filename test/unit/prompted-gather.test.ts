import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GatherOutcome } from '../../src/actions/gather.js';
import { PromptedGather } from '../../src/actions/prompted-gather.js';
import type { PlayRequest } from '../../src/calls/leg-audio.js';
import { FRAME_MS, FRAME_SAMPLES } from '../../src/media/frame.js';
import { PromptPlayer } from '../../src/media/player/prompt-player.js';
import { VirtualClock } from '../../src/util/clock.js';

/** A prompted gather over a real player, with media ticks and timers on one virtual clock. */
function setup(options: { tries?: number; validDigits?: string; withInvalid?: boolean } = {}) {
  const clock = new VirtualClock();
  const player = new PromptPlayer();
  const log: string[] = [];
  const outcomes: GatherOutcome[] = [];
  const at = (): number => clock.now() - start;
  const start = clock.now();
  const prompt = (name: string, frames: number) => (): PlayRequest => ({
    kind: 'playback', overlay: false, loops: 1, events: true, source: { media_url: name },
    audio: new Int16Array(frames * FRAME_SAMPLES).fill(1000),
    onEnded: (status) => log.push(`${name} ${status} @${at()}`),
  });
  const gather = new PromptedGather({
    params: {
      minimum_digits: 1, maximum_digits: 4, timeout_millis: 2000, inter_digit_timeout_millis: 1000,
      valid_digits: options.validDigits ?? '0123456789#*', terminating_digit: '#', gather_id: 'g',
    },
    maximumTries: options.tries ?? 3,
    clock,
    prompt: prompt('menu', 50),
    invalidPrompt: options.withInvalid ? prompt('sorry', 25) : null,
    play: (request) => player.enqueue({
      overlay: false, loops: 1, audio: request.audio,
      onStart: () => log.push(`${request.source.media_url} start @${at()}`),
      onEnd: (status) => request.onEnded?.(status),
    }),
    report: (outcome) => outcomes.push(outcome),
  });
  /** Runs media ticks (and due timers) for `ms`; returns how many frames carried prompt audio. */
  const run = (ms: number): number => {
    let audible = 0;
    for (let t = 0; t < ms; t += FRAME_MS) {
      clock.advance(FRAME_MS);
      if (player.nextFrame()) audible++;
    }
    return audible;
  };
  return { gather, log, outcomes, run };
}

describe('PromptedGather', () => {
  it('waits timeout_millis after each prompt, replays it, and ends timeout after the last try', () => {
    const { log, outcomes, run } = setup({ tries: 2 });
    run(5960);
    assert.deepEqual(outcomes, [], log.join(', '));
    run(20);
    assert.deepEqual(outcomes, [{ status: 'timeout', digits: '', gatherId: 'g' }]);
    // Prompt 1 s, wait 2 s, prompt again (from the tick the timer fired on), wait 2 s.
    assert.deepEqual(log, ['menu start @20', 'menu completed @1000', 'menu start @3000', 'menu completed @3980']);
  });

  it('stops the prompt on the first digit (barge-in) and collects to the terminator', () => {
    const { gather, log, outcomes, run } = setup();
    run(500);
    gather.digit('4');
    assert.equal(log.at(-1), 'menu cancelled @500', 'the prompt ends with the digit');
    assert.equal(run(200), 0, 'no prompt audio after the digit');
    gather.digit('2');
    gather.digit('#');
    assert.deepEqual(outcomes, [{ status: 'valid', digits: '42', gatherId: 'g' }]);
  });

  it('after invalid input plays the invalid prompt, then the prompt, and takes the retry', () => {
    const { gather, log, outcomes, run } = setup({ validDigits: '123#', withInvalid: true });
    run(1200);
    gather.digit('9');
    run(1600);
    assert.deepEqual(log, ['menu start @20', 'menu completed @1000', 'sorry start @1220', 'sorry completed @1700', 'menu start @1720', 'menu completed @2700']);
    gather.digit('1');
    gather.digit('2');
    gather.digit('#');
    assert.deepEqual(outcomes, [{ status: 'valid', digits: '12', gatherId: 'g' }]);
  });

  it('gather_stop and hangup end it at once, stopping the prompt, with no retry', () => {
    const a = setup();
    a.run(200);
    assert.equal(a.gather.stop(), true);
    assert.deepEqual(a.outcomes.map((o) => o.status), ['cancelled']);
    assert.equal(a.run(3000), 0);
    const b = setup();
    b.run(200);
    b.gather.hangup();
    assert.deepEqual(b.outcomes.map((o) => o.status), ['call_hangup']);
  });
});
