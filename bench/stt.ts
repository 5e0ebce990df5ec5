/**
 * Speech-to-text with pocketsphinx. Prints one JSON object:
 *
 * - transcription time for 5 s and 30 s of speech (flite's rms voice, at 8 kHz as on a call),
 *   median of three runs, and the real-time factor (time / audio duration; below 1 is faster
 *   than real time); the same 5 s with a grammar; the fixed cost of a run (half a second of
 *   silence: starting the program and loading the model);
 * - with `--accuracy` (about a quarter of an hour on two cores): word error rate of dictation on
 *   22 call-centre sentences read by four flite voices, for the original 16 kHz audio, the
 *   same audio at 8 kHz upsampled plainly, 8 kHz with the mirrored upper band (the default),
 *   and 8 kHz through G.711 µ-law; then a grammar of ten of the sentences, on G.711 audio: its
 *   word error rate on those ten, how many it recognised exactly, and how many of the twelve
 *   others it took for one of the ten (a grammar cannot answer "none of these"). The fold gain
 *   was chosen on the ten grammar sentences; the twelve others are the check that it holds.
 *
 * Synthetic speech is far cleaner than callers are: read the numbers as an upper bound and as
 * a comparison between the conditions, not as what real calls will see.
 *
 *   npx tsx bench/stt.ts [--accuracy]
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { PCMU } from '../src/media/dsp/g711.js';
import { resample, toEngineFormat } from '../src/media/audio/resample.js';
import { parseWav } from '../src/media/audio/wav.js';
import { PocketsphinxProvider } from '../src/speech/stt/pocketsphinx.js';
import { corpusWordErrorRate } from '../src/speech/stt/word-error-rate.js';

const run = promisify(execFile);
const RATE = 8000;
const withAccuracy = process.argv.includes('--accuracy');

const IN_GRAMMAR = [
  'I would like to check the balance on my account',
  'Please transfer me to the billing department',
  'My order number is four five seven two nine',
  'I need to speak with someone about my bill',
  'Can you tell me when the store opens tomorrow',
  'I want to cancel my appointment for next week',
  'Yes that is correct',
  'No I do not want to leave a message',
  'The package was delivered to the wrong address',
  'Please call me back at five five five one two three four',
];
const OUT_OF_GRAMMAR = [
  'Hello I am calling about the invoice you sent last month',
  'Could you please repeat the last option',
  'I lost my credit card and need a new one',
  'The internet connection at my house keeps dropping',
  'What are your opening hours on Saturday',
  'I would like to book a table for two people',
  'My name is John Smith and I live in Chicago',
  'Can I pay with a different card today',
  'The technician never showed up this morning',
  'Thank you very much for your help goodbye',
  'I want to change the delivery date',
  'Is there a fee for late payments',
];
const VOICES = ['slt', 'rms', 'awb', 'kal16'];

const detected = await PocketsphinxProvider.detect();
if (detected === null) {
  process.stdout.write(`${JSON.stringify({ skipped: 'pocketsphinx is not installed (apt-get install pocketsphinx pocketsphinx-en-us)' })}\n`);
  process.exit(0);
}
// One process each, so that the two never compete for more CPUs than a small host has.
const provider = new PocketsphinxProvider({ command: detected.files.command, concurrency: 1 });
const plain = new PocketsphinxProvider({ command: detected.files.command, concurrency: 1, foldGain: 0 });

const dir = await mkdtemp(join(tmpdir(), 'stt-bench-'));
let fileCounter = 0;

/** `text` read by a flite voice: its own 16 kHz audio and the 8 kHz engine audio. */
async function speak(text: string, voice: string): Promise<{ wide: Int16Array; narrow: Int16Array }> {
  const file = join(dir, `s${fileCounter++}.wav`);
  await run('flite', ['-voice', voice, '-t', text, '-o', file]);
  const audio = parseWav(await readFile(file));
  const mono = audio.samples[0] as Float32Array;
  const at16k = audio.sampleRate === 16_000 ? mono : resample(mono, audio.sampleRate, 16_000);
  const wide = new Int16Array(at16k.length);
  for (let i = 0; i < at16k.length; i++) wide[i] = Math.max(-32768, Math.min(32767, Math.round((at16k[i] as number) * 32768)));
  return { wide, narrow: toEngineFormat(audio.samples, audio.sampleRate) };
}

function mulaw(pcm: Int16Array): Int16Array {
  const out = new Int16Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = PCMU.decodeSample(PCMU.encodeSample(pcm[i] as number));
  return out;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const round = (value: number, digits = 1): number => Number(value.toFixed(digits));

/** About `seconds` of continuous speech at 8 kHz: sentences in turn, cut to length. */
async function speechOf(seconds: number): Promise<Int16Array> {
  const want = seconds * RATE;
  const out = new Int16Array(want);
  let at = 0;
  for (let i = 0; at < want; i++) {
    const { narrow } = await speak(IN_GRAMMAR[i % IN_GRAMMAR.length] as string, 'rms');
    out.set(narrow.subarray(0, Math.min(narrow.length, want - at)), at);
    at += narrow.length + RATE / 4;
  }
  return out;
}

async function timed(pcm: Int16Array, grammar?: readonly string[]): Promise<{ ms: number; realTimeFactor: number }> {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const start = performance.now();
    await provider.transcribe(pcm, grammar === undefined ? { language: 'en-US' } : { language: 'en-US', grammar });
    times.push(performance.now() - start);
  }
  const ms = median(times);
  return { ms: round(ms), realTimeFactor: round(ms / ((pcm.length / RATE) * 1000), 3) };
}

try {
  // Once untimed, so that the model files are in the page cache for every timed run.
  await provider.transcribe(new Int16Array(RATE / 2), { language: 'en' });
  const startupMs = (await timed(new Int16Array(RATE / 2))).ms;
  const five = await speechOf(5);
  const thirty = await speechOf(30);
  const timing = {
    speech5s: await timed(five),
    speech30s: await timed(thirty),
    speech5sWithGrammar: await timed(five, IN_GRAMMAR),
  };

  let accuracy: Record<string, unknown> | undefined;
  if (withAccuracy) {
    type Pair = { reference: string; hypothesis: string };
    const dictation: Record<string, Pair[]> = {
      wideband16k: [],
      narrowband8kPlainUpsampling: [],
      narrowband8k: [],
      narrowband8kG711: [],
    };
    const withGrammar: Pair[] = [];
    let exact = 0;
    let accepted = 0;
    const jobs: Promise<void>[] = [];
    const grammar = IN_GRAMMAR;
    for (const voice of VOICES) {
      for (const sentence of [...IN_GRAMMAR, ...OUT_OF_GRAMMAR]) {
        const { wide, narrow } = await speak(sentence, voice);
        const telephone = mulaw(narrow);
        const add = (condition: string, pending: Promise<{ text: string }>): void => {
          jobs.push(pending.then(({ text }) => void dictation[condition]?.push({ reference: sentence, hypothesis: text })));
        };
        add('wideband16k', provider.transcribeAtModelRate(wide, { language: 'en' }));
        add('narrowband8kPlainUpsampling', plain.transcribe(narrow, { language: 'en' }));
        add('narrowband8k', provider.transcribe(narrow, { language: 'en' }));
        add('narrowband8kG711', provider.transcribe(telephone, { language: 'en' }));
        const inGrammar = grammar.includes(sentence);
        jobs.push(
          provider.transcribe(telephone, { language: 'en', grammar }).then((t) => {
            if (inGrammar) {
              withGrammar.push({ reference: sentence, hypothesis: t.text });
              if (t.phrase === sentence) exact++;
            } else if (t.phrase !== undefined) accepted++;
          }),
        );
      }
    }
    await Promise.all(jobs);
    accuracy = {
      speech: `${IN_GRAMMAR.length + OUT_OF_GRAMMAR.length} sentences x ${VOICES.length} flite voices (${VOICES.join(', ')})`,
      dictationWordErrorRate: Object.fromEntries(Object.entries(dictation).map(([name, pairs]) => [name, round(corpusWordErrorRate(pairs), 3)])),
      grammar: {
        phrases: IN_GRAMMAR.length,
        wordErrorRateG711: round(corpusWordErrorRate(withGrammar), 3),
        inGrammarRecognisedExactly: `${exact}/${IN_GRAMMAR.length * VOICES.length}`,
        outOfGrammarTakenForAPhrase: `${accepted}/${OUT_OF_GRAMMAR.length * VOICES.length}`,
      },
    };
  }

  process.stdout.write(
    `${JSON.stringify({
      engine: 'pocketsphinx_continuous (Debian 0.8+5prealpha), en-us model, 8 kHz upsampled to 16 kHz',
      startupMs,
      transcription: timing,
      ...(accuracy === undefined ? {} : { accuracy }),
    })}\n`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
