/** The small parts of recording: the start beep, the silence timer and the speech-range finder. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VoiceActivityDetector } from '../../src/media/dsp/vad.js';
import { DTMF_DIGITS, addDtmf, addSine, amplitudeToDbm0, toPcm16 } from '../../src/media/dsp/tone-generator.js';
import { RECORDING_BEEP, recordingBeep } from '../../src/media/recording/beep.js';
import { SilenceTimer, type SpeechDecision } from '../../src/media/recording/silence-timer.js';
import { SpeechRangeFinder } from '../../src/media/recording/speech-range.js';
import { toneShare } from '../helpers/audio-analysis.js';

const RATE = 8000;
const FRAME = 160;

/** Harmonic, pitch-gliding, syllable-shaped test signal the detector takes for speech. */
function voice(seconds: number): Float64Array {
  const n = Math.round(seconds * RATE);
  const out = new Float64Array(n);
  let phase = 0;
  for (let i = 0; i < n; i++) {
    const t = i / RATE;
    const f0 = 130 + 25 * Math.sin(2 * Math.PI * 0.8 * t);
    phase += (2 * Math.PI * f0) / RATE;
    let v = 0;
    for (let h = 1; h * f0 < 3500; h++) v += Math.sin(h * phase) / (1 + ((h * f0 - 600) / 300) ** 2);
    out[i] = 4000 * v * Math.max(0, Math.sin(2 * Math.PI * 3 * t)) ** 0.5;
  }
  return out;
}

describe('recordingBeep', () => {
  it('is 250 ms of 1 kHz at −10 dBm0, with soft edges', () => {
    const beep = recordingBeep();
    assert.equal(beep.length, 2000);
    assert.deepEqual(RECORDING_BEEP, { frequencyHz: 1000, durationMs: 250, levelDbm0: -10, rampMs: 5 });
    assert.ok(toneShare(beep, 1000) > 0.98);
    let peak = 0;
    for (const v of beep) peak = Math.max(peak, Math.abs(v));
    assert.ok(Math.abs(amplitudeToDbm0(peak) + 10) < 0.1, `peak is ${amplitudeToDbm0(peak).toFixed(2)} dBm0`);
    // Ramped: the first and last samples are near zero, full level is reached after 5 ms.
    assert.ok(Math.abs(beep[0] as number) < 100 && Math.abs(beep[1999] as number) < 100);
    let early = 0;
    for (let i = 0; i < 20; i++) early = Math.max(early, Math.abs(beep[i] as number));
    assert.ok(early < peak / 2);
  });

  it('takes options, and returns a fresh array each time', () => {
    const a = recordingBeep({ frequencyHz: 440, durationMs: 100 });
    assert.equal(a.length, 800);
    assert.ok(toneShare(a, 440) > 0.95);
    assert.notEqual(recordingBeep(), recordingBeep());
  });
});

describe('SilenceTimer', () => {
  const decision = (speech: boolean, speechLike: boolean, talkspurtSpeechFrames: number): SpeechDecision => ({
    speech,
    speechLike,
    talkspurtSpeechFrames,
  });

  it('waits for speech, then fires after the timeout of silence, counting frames', () => {
    const timer = new SilenceTimer(1000);
    assert.equal(timer.timeoutFrames, 50);
    for (let i = 0; i < 500; i++) assert.equal(timer.update(decision(false, false, 0)), false);
    assert.equal(timer.speechHeard, false);
    for (let i = 1; i <= 10; i++) timer.update(decision(true, true, i));
    assert.equal(timer.speechHeard, true);
    for (let i = 1; i < 50; i++) assert.equal(timer.update(decision(i < 15, false, 10)), false, `frame ${i}`);
    assert.equal(timer.silenceMs, 980);
    assert.equal(timer.update(decision(false, false, 0)), true);
    assert.equal(timer.expired, true);
    assert.equal(timer.update(decision(true, true, 20)), true, 'stays fired');
    timer.reset();
    assert.equal(timer.expired, false);
    assert.equal(timer.speechHeard, false);
  });

  it('more speech restarts the count; blips shorter than 100 ms neither start nor restart it', () => {
    const timer = new SilenceTimer(400);
    for (let i = 1; i <= 3; i++) timer.update(decision(true, true, i)); // a tone's onset blip
    assert.equal(timer.speechHeard, false);
    for (let i = 1; i <= 6; i++) timer.update(decision(true, true, i));
    for (let i = 0; i < 15; i++) timer.update(decision(false, false, 0));
    for (let i = 1; i <= 4; i++) timer.update(decision(true, true, i)); // a click: still silence
    assert.equal(timer.silenceMs, 380);
    assert.equal(timer.update(decision(false, false, 0)), true);
  });

  it('driven by the detector: voice, then silence, with a DTMF digit in it', () => {
    const x = new Float64Array(6 * RATE);
    x.set(voice(1.5), RATE / 2);
    addDtmf(x, 3 * RATE, 800, DTMF_DIGITS[5] ?? '5');
    const pcm = toPcm16(x);
    const vad = new VoiceActivityDetector();
    const timer = new SilenceTimer(2000);
    let firedAt = -1;
    for (let f = 0; f < pcm.length / FRAME; f++) {
      vad.process(pcm, f * FRAME);
      if (timer.update(vad) && firedAt < 0) firedAt = f;
    }
    // The voice ends at 2.0 s (frame 100); the digit at 3.0 s does not restart the timer.
    assert.ok(firedAt >= 195 && firedAt <= 200, `fired at frame ${firedAt}`);
  });
});

describe('SpeechRangeFinder', () => {
  it('gives the same range however the audio is chunked', () => {
    const x = new Float64Array(5 * RATE);
    x.set(voice(1.2), Math.round(1.7 * RATE));
    addSine(x, 0, RATE, 1000, 3000); // a beep at the start is not speech
    const pcm = toPcm16(x);
    const ranges = [160, 1000, 1152, 7, 40_000].map((chunk) => {
      const finder = new SpeechRangeFinder(1);
      for (let at = 0; at < pcm.length; at += chunk) {
        const part = pcm.subarray(at, Math.min(pcm.length, at + chunk));
        finder.push(part, part.length);
      }
      return finder.range(pcm.length);
    });
    for (const r of ranges) assert.deepEqual(r, ranges[0]);
    const { start, end } = ranges[0] as { start: number; end: number };
    assert.ok(start >= 1.4 * RATE && start <= 1.7 * RATE, `start ${start / 8} ms`);
    assert.ok(end >= 2.9 * RATE && end <= 3.3 * RATE, `end ${end / 8} ms`);
  });

  it('keeps nothing when nothing is said', () => {
    const finder = new SpeechRangeFinder(2);
    const quiet = new Int16Array(2 * RATE * 2);
    finder.push(quiet, 2 * RATE);
    assert.deepEqual(finder.range(2 * RATE), { start: 0, end: 0 });
  });

  it('clamps the margin to the recording', () => {
    const pcm = toPcm16(voice(1));
    const finder = new SpeechRangeFinder(1, 500);
    finder.push(pcm, pcm.length);
    assert.deepEqual(finder.range(pcm.length), { start: 0, end: pcm.length });
  });
});
