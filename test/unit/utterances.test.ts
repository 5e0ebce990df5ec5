import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { concatPcm } from '../../src/speech/tts/pcm.js';
import { toEngineFormat } from '../../src/media/audio/resample.js';
import { parseWav } from '../../src/media/audio/wav.js';
import { FRAME_SAMPLES } from '../../src/media/frame.js';
import { UtteranceDetector } from '../../src/speech/utterances.js';

/** A sentence spoken by flite, at 8 kHz. */
function spoken(text: string): Int16Array {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-utt-'));
  try {
    execFileSync('flite', ['-voice', 'rms', '-t', text, '-o', join(dir, 's.wav')]);
    const wav = parseWav(readFileSync(join(dir, 's.wav')));
    return toEngineFormat(wav.samples, wav.sampleRate);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function feed(detector: UtteranceDetector, pcm: Int16Array): void {
  for (let at = 0; at + FRAME_SAMPLES <= pcm.length; at += FRAME_SAMPLES) detector.push(pcm.subarray(at, at + FRAME_SAMPLES));
}

const silence = (ms: number): Int16Array => new Int16Array((ms / 1000) * 8000);

describe('UtteranceDetector', () => {
  it('cuts two sentences separated by a pause into two turns, each with its start', () => {
    const first = spoken('My account number is four two seven one.');
    const second = spoken('Yes, that is correct.');
    const starts: number[] = [];
    const turns: Int16Array[] = [];
    let fed = 0;
    const detector = new UtteranceDetector({ onSpeechStart: () => starts.push(fed), onUtterance: (pcm) => turns.push(pcm) });
    for (const part of [silence(1000), first, silence(1500), second, silence(1500)]) {
      feed(detector, part);
      fed += part.length;
    }
    assert.equal(turns.length, 2);
    assert.equal(starts.length, 2);
    // Each turn holds its sentence: close to its length, not the pauses around it.
    for (const [turn, sentence] of [[turns[0], first], [turns[1], second]] as const) {
      const ms = (turn as Int16Array).length / 8;
      const sentenceMs = sentence.length / 8;
      assert.ok(ms > sentenceMs * 0.7 && ms < sentenceMs + 600, `turn ${ms} ms for a ${sentenceMs} ms sentence`);
    }
    // Speech is confirmed within 200 ms of its start (barge-in).
    assert.ok((starts[0] as number) / 8 - 1000 < 200 + 150, `confirmed at ${(starts[0] as number) / 8} ms`);
  });

  it('hears no turn in steady line noise, nor in a beep over it', () => {
    const turns: Int16Array[] = [];
    const detector = new UtteranceDetector({ onUtterance: (pcm) => turns.push(pcm) });
    // The detector learns the background from the first frames, so the noise is there from the
    // start (noise that appears suddenly after digital silence reads as speech for about a second).
    const noise = new Int16Array(8000 * 6);
    let seed = 7;
    for (let i = 0; i < noise.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      noise[i] = ((seed >>> 16) % 600) - 300;
    }
    for (let i = 8000 * 3; i < 8000 * 4; i++) noise[i] = (noise[i] as number) + Math.round(6000 * Math.sin((2 * Math.PI * 1000 * i) / 8000));
    feed(detector, noise);
    assert.equal(turns.length, 0);
  });
});

describe('UtteranceDetector, live', () => {
  it('hands out a turn as it is spoken: the pre-roll at its start, then every frame', () => {
    const sentence = spoken('Please check my balance.');
    let live: Int16Array[] = [];
    const turns: { whole: Int16Array; live: Int16Array }[] = [];
    const detector = new UtteranceDetector({
      onSpeechStart: (preRoll) => {
        live = [preRoll.slice()];
      },
      onTurnAudio: (frame) => live.push(frame.slice()),
      onUtterance: (pcm) => turns.push({ whole: pcm, live: concatPcm(live) }),
    });
    for (const part of [silence(1000), sentence, silence(1000)]) feed(detector, part);
    assert.equal(turns.length, 1);
    const { whole, live: streamed } = turns[0] as { whole: Int16Array; live: Int16Array };
    // What was streamed is the turn, then the silence that ended it (the turn keeps only 100 ms of that).
    assert.ok(streamed.length >= whole.length, `${streamed.length} streamed, ${whole.length} in the turn`);
    assert.deepEqual(streamed.subarray(0, whole.length), whole);
    assert.ok(streamed.length - whole.length <= 300 * 8, `${(streamed.length - whole.length) / 8} ms streamed after the turn`);
  });

  it('ends a turn after the configured silence', () => {
    const sentence = spoken('Yes.');
    const endedAt: number[] = [];
    for (const endSilenceMs of [300, 800]) {
      let fed = 0;
      const detector = new UtteranceDetector({ endSilenceMs, onUtterance: () => endedAt.push(fed) });
      for (const part of [silence(500), sentence, silence(1500)]) {
        for (let at = 0; at + FRAME_SAMPLES <= part.length; at += FRAME_SAMPLES) {
          fed += FRAME_SAMPLES;
          detector.push(part.subarray(at, at + FRAME_SAMPLES));
        }
      }
    }
    assert.equal(endedAt.length, 2);
    const gapMs = ((endedAt[1] as number) - (endedAt[0] as number)) / 8;
    assert.ok(Math.abs(gapMs - 500) <= 40, `the 800 ms setting ended the turn ${gapMs} ms after the 300 ms one`);
  });
});

