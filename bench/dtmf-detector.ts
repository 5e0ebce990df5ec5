/**
 * In-band DTMF detector throughput on one core: many detectors (one per simulated leg) each fed
 * 20 ms frames in turn, as the media path does. Prints one JSON object: frames/s and the number
 * of real-time legs (50 frames/s each) one core sustains, per kind of audio, plus the number of
 * garbage collections seen while measuring (the per-frame path should not allocate).
 *
 *   npx tsx bench/dtmf-detector.ts [secondsPerScenario=2] [legs=1000]
 */
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { DtmfDetector } from '../src/media/dsp/dtmf-detector.js';
import { DTMF_DIGITS, addDtmf, dbm0ToAmplitude, toPcm16 } from '../src/media/dsp/tone-generator.js';
import { loadSpeechCorpus } from '../test/helpers/speech-audio.js';

const secondsPerScenario = Number(process.argv[2] ?? 2);
const legCount = Number(process.argv[3] ?? 1000);
const FRAME = 160;
const FRAMES_PER_SECOND = 50;

function noise(samples: number, rms: number, seed: number): Float64Array {
  const out = new Float64Array(samples);
  let s = seed >>> 0;
  const next = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 1) / 4294967297;
  };
  for (let i = 0; i < samples; i++) out[i] = rms * Math.sqrt(-2 * Math.log(next())) * Math.cos(2 * Math.PI * next());
  return out;
}

/** 10 s of each kind of audio (the speech corpus when a synthesiser is installed). */
async function scenarios(): Promise<Record<string, Int16Array>> {
  const n = 10 * 8000;
  const out: Record<string, Int16Array> = {
    silence: new Int16Array(n),
    noise: toPcm16(noise(n, dbm0ToAmplitude(-20) / Math.SQRT2, 1)),
  };
  // Digits back to back, 50 ms on / 50 ms off, over noise at 20 dB SNR: the most work per
  // frame, since every tone window runs the full analysis.
  const dtmf = noise(n, dbm0ToAmplitude(-30) / Math.SQRT2, 2);
  for (let i = 0, pos = 0; pos + 800 <= n; i++, pos += 800) addDtmf(dtmf, pos, 400, DTMF_DIGITS[i % 16] ?? '1', { levelDbm0: -13 });
  out['dtmf'] = toPcm16(dtmf);
  const speech = await loadSpeechCorpus();
  if (!('skip' in speech)) out['speech'] = speech.samples.subarray(0, Math.min(speech.samples.length, 60 * 8000));
  return out;
}

function measure(pcm: Int16Array): { framesPerSecond: number; realTimeLegs: number; gcs: number } {
  const frames = Math.floor(pcm.length / FRAME);
  const views = Array.from({ length: frames }, (_, f) => pcm.subarray(f * FRAME, (f + 1) * FRAME));
  let digits = 0;
  const detectors = Array.from({ length: legCount }, () => new DtmfDetector({ onDigit: () => { digits++; } }));
  // Warm up the JIT, then measure whole rounds (one frame to every leg) until time is up.
  for (let f = 0; f < 200; f++) for (const d of detectors) d.process(views[f % frames] as Int16Array);
  let gcs = 0;
  const observer = new PerformanceObserver((list) => { gcs += list.getEntries().length; });
  observer.observe({ entryTypes: ['gc'] });
  let processed = 0;
  const start = performance.now();
  const deadline = start + secondsPerScenario * 1000;
  for (let round = 0; performance.now() < deadline; round++) {
    for (let l = 0; l < legCount; l++) {
      // Legs are out of step, as real calls are.
      (detectors[l] as DtmfDetector).process(views[(round + l * 7) % frames] as Int16Array);
    }
    processed += legCount;
  }
  const elapsed = (performance.now() - start) / 1000;
  observer.disconnect();
  const framesPerSecond = processed / elapsed;
  return { framesPerSecond: Math.round(framesPerSecond), realTimeLegs: Math.floor(framesPerSecond / FRAMES_PER_SECOND), gcs };
}

const results: Record<string, ReturnType<typeof measure>> = {};
for (const [name, pcm] of Object.entries(await scenarios())) results[name] = measure(pcm);
const worst = Math.min(...Object.values(results).map((r) => r.framesPerSecond));
process.stdout.write(
  `${JSON.stringify({
    benchmark: 'dtmf-detector',
    node: process.version,
    frameMs: 20,
    legsSimulated: legCount,
    secondsPerScenario,
    scenarios: results,
    worstFramesPerSecond: worst,
    worstRealTimeLegsPerCore: Math.floor(worst / FRAMES_PER_SECOND),
  })}\n`,
);
