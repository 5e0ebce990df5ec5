/**
 * Text-to-speech latency with the embedded flite engine. Prints one JSON object:
 *
 * - time to first audio (ms) for a 10-word sentence: cold (first request of the process,
 *   including reading and compiling flite.wasm and starting the worker), warm uncached (a new
 *   sentence each time, median) and cached (a repeat, median); per voice for warm;
 * - real-time factor of warm synthesis (synthesis time / audio duration; below 1 is faster
 *   than real time);
 * - a 3000-character payload: time to its first streamed piece versus to the whole audio, which
 *   is what splitting into sentences buys;
 * - the longest event-loop stall seen while synthesizing: flite runs on a worker thread, so
 *   what remains is decoding and resampling its output on the main thread.
 *
 *   npx tsx bench/tts.ts [warmRuns=12, at most 15]
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { FliteProvider } from '../src/speech/tts/flite.js';
import { TtsRegistry } from '../src/speech/tts/registry.js';
import { SpeechSynthesizer, type SpeakRequest } from '../src/speech/tts/speech-synthesizer.js';

const warmRuns = Math.min(15, Number(process.argv[2] ?? 12));
const SAMPLE_RATE = 8000;

// 8 two-word subjects × 4 eight-word predicates: 32 distinct ten-word sentences.
const SUBJECTS = ['Your order', 'The agent', 'Our office', 'The delivery', 'Your account', 'The desk', 'Our team', 'This line'];
const PREDICATES = [
  'will be ready in about ten more minutes.',
  'is open from nine until five on weekdays.',
  'has been updated with your latest payment details.',
  'can help you with billing and technical questions.',
];
let sentenceCounter = 0;
/** A fresh ten-word sentence each call, so that nothing is served from the cache. */
function freshSentence(): string {
  const n = sentenceCounter++;
  if (n >= SUBJECTS.length * PREDICATES.length) throw new Error('out of fresh sentences: lower warmRuns');
  return `${SUBJECTS[n % SUBJECTS.length]} ${PREDICATES[Math.floor(n / SUBJECTS.length)]}`;
}

async function firstAudio(synth: SpeechSynthesizer, request: SpeakRequest): Promise<{ firstMs: number; totalMs: number; samples: number }> {
  const start = performance.now();
  let firstMs = -1;
  let samples = 0;
  for await (const chunk of synth.stream(request)) {
    if (firstMs < 0) firstMs = performance.now() - start;
    samples += chunk.length;
  }
  return { firstMs, totalMs: performance.now() - start, samples };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const round = (value: number, digits = 1): number => Number(value.toFixed(digits));

const coldLoop = monitorEventLoopDelay({ resolution: 5 });
coldLoop.enable();

const flite = new FliteProvider({ workers: 1 });
const synth = new SpeechSynthesizer({ registry: new TtsRegistry({ flite, espeak: null }) });

const coldSentence = freshSentence();
const cold = await firstAudio(synth, { payload: coldSentence, voice: 'female' });
coldLoop.disable();
const warmLoop = monitorEventLoopDelay({ resolution: 5 });
warmLoop.enable();

const warm: Record<string, { ttfaMs: number[]; rtf: number[] }> = { female: { ttfaMs: [], rtf: [] }, male: { ttfaMs: [], rtf: [] } };
for (let i = 0; i < warmRuns; i++) {
  for (const voice of ['female', 'male'] as const) {
    const result = await firstAudio(synth, { payload: freshSentence(), voice });
    warm[voice]?.ttfaMs.push(result.firstMs);
    warm[voice]?.rtf.push(result.totalMs / ((result.samples / SAMPLE_RATE) * 1000));
  }
}

const cachedMs: number[] = [];
for (let i = 0; i < warmRuns; i++) cachedMs.push((await firstAudio(synth, { payload: coldSentence, voice: 'female' })).firstMs);

const paragraph = 'Thank you for calling the customer service line. Your call is important to us and will be answered shortly. ';
const longPayload = paragraph.repeat(Math.ceil(3000 / paragraph.length)).slice(0, 3000).replace(/\s+\S*$/, '.');
const long = await firstAudio(synth, { payload: longPayload, voice: 'female' });
warmLoop.disable();
await synth.close();

const all = [...(warm.female?.ttfaMs ?? []), ...(warm.male?.ttfaMs ?? [])];
process.stdout.write(
  `${JSON.stringify({
    engine: 'flite (wasm, worker thread)',
    sentence: coldSentence,
    warmRuns,
    timeToFirstAudioMs: {
      cold: round(cold.firstMs),
      warmUncached: round(median(all)),
      warmUncachedMax: round(Math.max(...all)),
      warmUncachedByVoice: {
        female_slt: round(median(warm.female?.ttfaMs ?? [])),
        male_rms: round(median(warm.male?.ttfaMs ?? [])),
      },
      cached: round(median(cachedMs), 3),
    },
    realTimeFactor: {
      female_slt: round(median(warm.female?.rtf ?? []), 3),
      male_rms: round(median(warm.male?.rtf ?? []), 3),
    },
    longPayload3000Chars: {
      audioSeconds: round(long.samples / SAMPLE_RATE),
      firstPieceMs: round(long.firstMs),
      wholeMs: round(long.totalMs),
    },
    eventLoopMaxStallMs: { cold: round(coldLoop.max / 1e6), warm: round(warmLoop.max / 1e6) },
  })}\n`,
);
