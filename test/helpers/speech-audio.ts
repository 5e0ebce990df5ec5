/**
 * Synthetic speech at 8 kHz for talk-off tests: a built-in text read by many espeak-ng voices
 * (and flite's, when installed), resampled to 8 kHz, levelled and concatenated.
 *
 * Generation takes a few seconds, so the result is cached in a file named by a hash of
 * everything that shapes it (texts, voices, tool versions); reruns just read that file.
 */
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const RATE = 8000;
/** Bump when the processing below changes, so stale caches are not reused. */
const FORMAT_VERSION = 2;

export interface SpeechCorpus {
  /** 16-bit PCM, 8 kHz, mono. */
  samples: Int16Array;
  seconds: number;
  /** e.g. "espeak-ng 1.51 + flite 2.2" */
  tools: string;
  chunks: number;
  fromCache: boolean;
  generationMs: number;
}

export type SpeechCorpusResult = SpeechCorpus | { skip: string };

interface ChunkSpec {
  tool: 'espeak-ng' | 'flite';
  voice: string;
  speed: number;
  pitch: number;
  /** Active-speech RMS level to normalise to, dB below a full-scale sine. */
  levelDb: number;
  text: string;
}

/**
 * Varied on purpose: prompts and chatter, long runs of digits, prices, dates, times, spelled
 * letters, lists, questions and exclamations, and drawn-out vowels (sung-like steady pitch is
 * the classic talk-off risk).
 */
export const SPEECH_TEXTS: readonly string[] = [
  'Thank you for calling. Your call is important to us. Please listen carefully, as our menu options have changed. For billing, press one. For technical support, press two. To hear these options again, press the star key.',
  'My phone number is five five five, zero one nine two, and my office line is 212 555 0147, extension 3309. If nobody answers, try the mobile: 917 555 8826.',
  'The order total comes to 1,284 dollars and 56 cents, including 97 dollars of tax. Your confirmation number is 7 7 4 0 2 9 1 8 3 6. Delivery is expected on Tuesday, March 14th, between 9 and 11 in the morning.',
  'One, two, three, four, five, six, seven, eight, nine, ten. Eleven, twelve, thirteen, fourteen, fifteen, sixteen, seventeen, eighteen, nineteen, twenty. Thirty, forty, fifty, sixty, seventy, eighty, ninety, one hundred.',
  'Alpha, bravo, charlie, delta, echo, foxtrot, golf, hotel, india, juliet, kilo, lima, mike, november, oscar, papa, quebec, romeo, sierra, tango, uniform, victor, whiskey, x-ray, yankee, zulu.',
  'Well, I told him that we would meet at the station around half past six, but the train was late again, so we ended up grabbing a coffee and talking about the weekend instead. Honestly, it was nicer that way.',
  'Ooooooh, aaaaaah, eeeeeee, ooooooo. Hmmmmmm. Laaaa, laaaa, laaaa, laaaaaaa. Noooooo way! Whoaaaaa, wheeeeee. Mmmmmmm, that is goooood. Yeeeeees. Heyyyyyy there!',
  'Please enter your sixteen digit card number, followed by the pound key. Now enter the expiry date as four digits, month then year. Finally, enter the three digit security code on the back of your card.',
  'Ingredients: two cups of flour, one teaspoon of salt, three eggs, half a cup of milk, and a quarter pound of butter. Mix, rest for twenty minutes, then bake at three hundred and fifty degrees for forty minutes.',
  'Do you really think so? I am not sure at all! What time is it in Tokyo right now? Could you repeat that, please? Absolutely not. Yes, yes, of course, no problem whatsoever. Wait, what did you just say?',
  'Flight 2417 to Chicago is now boarding at gate B 36. Passengers in zones 1 and 2 may board now. The 8 45 service to Boston has been cancelled. We apologise for any inconvenience this may cause.',
  'Peter Piper picked a peck of pickled peppers. She sells sea shells by the sea shore. How much wood would a woodchuck chuck if a woodchuck could chuck wood? Red lorry, yellow lorry, red lorry, yellow lorry.',
  'The quarterly results show revenue up 12.5 percent to 4.3 million, with operating costs of 2.9 million and a margin of 31 percent. Headcount grew from 48 to 63. Next quarter we expect between 4.5 and 4.8 million.',
  'Your appointment is confirmed for Friday the 22nd of November at 3 15 pm, with doctor Alvarez, in room 104. To cancel, press nine. To speak to the front desk, stay on the line.',
  'Account number 0 0 4 4 1 7 3 9 2 5. Sort code 20 45 77. Reference, A B C 1 2 3 X Y Z. Postcode, S W 1 A, 1 A A. Licence plate, K 7 7 4 L M P.',
  'Testing, testing, one two three. Can you hear me now? The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs. Sphinx of black quartz, judge my vow.',
  'Once upon a time, in a village by the sea, there lived an old fisherman who sang to the waves every morning. His voice was deep and slow, and the gulls would circle overhead, calling back to him.',
  'Zero. Zero zero. One one one. Two two two two. Three three three three three. Nine eight seven six five four three two one zero. Star. Pound. Hash. Star star. Pound pound.',
];

interface VoiceSpec {
  tool: ChunkSpec['tool'];
  voice: string;
}

const ESPEAK_VOICES: readonly string[] = [
  'en-us', 'en-gb', 'en-gb-scotland', 'en-029', 'en-gb-x-rp', 'en-us+f3', 'en-gb+f1', 'en-us+m3',
  'en+klatt', 'en-us+f5', 'en+croak', 'en-gb-x-gbclan+f2', 'en+m7', 'en-us+klatt2', 'en+f4', 'de',
  'fr-fr', 'es', 'it', 'en-us+Annie', 'en+Storm', 'en-gb+m1',
];
const FLITE_VOICES: readonly string[] = ['slt', 'awb', 'rms', 'kal'];

/**
 * "name x.y" for an installed tool, or null when it cannot be run. The exit status is ignored:
 * flite exits 1 after printing its version.
 */
function toolVersion(command: string, args: string[]): string | null {
  const out = spawnSync(command, args, { encoding: 'utf8', timeout: 10_000 });
  if (out.error) return null;
  const version = /\d+\.\d+(\.\d+)?/.exec(`${out.stdout}${out.stderr}`)?.[0];
  return version ? `${command} ${version}` : command;
}

function buildSpecs(espeak: boolean, flite: boolean): ChunkSpec[] {
  const voices: VoiceSpec[] = [];
  if (espeak) for (const voice of ESPEAK_VOICES) voices.push({ tool: 'espeak-ng', voice });
  if (flite) for (const voice of FLITE_VOICES) voices.push({ tool: 'flite', voice });
  const specs: ChunkSpec[] = [];
  // Every text is read by several voices at different speeds, pitches and levels; flite alone
  // has few voices and reads faster, so it gets an extra reading to stay above 10 minutes.
  const readings = flite && !espeak ? 4 : 3;
  SPEECH_TEXTS.forEach((text, i) => {
    for (let j = 0; j < readings; j++) {
      const v = voices[(i * readings + j * 7) % voices.length] as VoiceSpec;
      specs.push({
        ...v,
        text,
        speed: 110 + ((i * 37 + j * 53) % 100),
        pitch: 15 + ((i * 29 + j * 41) % 75),
        levelDb: -(8 + ((i * 5 + j * 7) % 20)),
      });
    }
  });
  return specs;
}

async function synthesize(spec: ChunkSpec, dir: string, n: number, haveSox: boolean): Promise<Int16Array> {
  const wav = join(dir, `chunk-${n}.wav`);
  if (spec.tool === 'espeak-ng') {
    await run('espeak-ng', ['-v', spec.voice, '-s', String(spec.speed), '-p', String(spec.pitch), '-w', wav, spec.text]);
  } else {
    // flite has no pitch option; its speed is a duration stretch factor.
    const stretch = (175 / spec.speed).toFixed(2);
    await run('flite', ['-voice', spec.voice, '--setf', `duration_stretch=${stretch}`, '-t', spec.text, '-o', wav]);
  }
  if (haveSox) {
    const raw = join(dir, `chunk-${n}.raw`);
    // -D: no dither, so the corpus (and its cache) is reproducible.
    await run('sox', ['-D', wav, '-t', 'raw', '-r', String(RATE), '-e', 'signed-integer', '-b', '16', '-c', '1', '-L', raw]);
    const buf = await readFile(raw);
    return new Int16Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + (buf.length & ~1)));
  }
  const { rate, samples } = parseWav(await readFile(wav));
  return resample(samples, rate, RATE);
}

/** Minimal RIFF/WAVE reader for the mono 16-bit files both synthesisers write. */
export function parseWav(buf: Buffer): { rate: number; samples: Float64Array } {
  if (buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') throw new Error('not a WAV file');
  let pos = 12;
  let rate = 0;
  let channels = 1;
  while (pos + 8 <= buf.length) {
    const id = buf.toString('ascii', pos, pos + 4);
    let size = buf.readUInt32LE(pos + 4);
    const body = pos + 8;
    if (id === 'fmt ') {
      channels = buf.readUInt16LE(body + 2);
      rate = buf.readUInt32LE(body + 4);
      if (buf.readUInt16LE(body + 14) !== 16) throw new Error('only 16-bit WAV is supported');
    } else if (id === 'data') {
      // Streaming writers leave the size at 0 or 0xFFFFFFFF: take the rest of the file.
      if (size === 0 || body + size > buf.length) size = buf.length - body;
      const frames = Math.floor(size / (2 * channels));
      const samples = new Float64Array(frames);
      for (let i = 0; i < frames; i++) samples[i] = buf.readInt16LE(body + i * 2 * channels);
      return { rate, samples };
    }
    pos = body + size + (size & 1);
  }
  throw new Error('WAV file has no data chunk');
}

/**
 * Windowed-sinc resampler (Blackman, 16 zero crossings a side), low-passed just below the output's
 * Nyquist. Only used when sox is missing. The kernel is tabulated (and linearly interpolated) so
 * that a quarter of an hour of speech resamples in a couple of seconds rather than minutes.
 */
export function resample(input: Float64Array, from: number, to: number): Int16Array {
  const ratio = from / to;
  const cutoff = Math.min(1, to / from) * 0.95;
  const half = 16 / cutoff; // kernel half-width in input samples
  const steps = 64; // table entries per input sample
  const table = new Float64Array(Math.ceil(2 * half * steps) + 2);
  for (let i = 0; i < table.length; i++) {
    const t = i / steps - half;
    const x = t * cutoff;
    const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
    const u = Math.min(1, Math.abs(t) / half);
    const win = 0.42 + 0.5 * Math.cos(Math.PI * u) + 0.08 * Math.cos(2 * Math.PI * u);
    table[i] = sinc * win * cutoff;
  }
  const out = new Int16Array(Math.floor(input.length / ratio));
  for (let i = 0; i < out.length; i++) {
    const center = i * ratio;
    const first = Math.max(0, Math.ceil(center - half));
    const last = Math.min(input.length - 1, Math.floor(center + half));
    let acc = 0;
    for (let k = first; k <= last; k++) {
      const pos = (k - center + half) * steps;
      const j = Math.floor(pos);
      const frac = pos - j;
      const w = (table[j] as number) * (1 - frac) + (table[j + 1] as number) * frac;
      acc += (input[k] as number) * w;
    }
    out[i] = Math.max(-32768, Math.min(32767, Math.round(acc)));
  }
  return out;
}

/**
 * Scales a chunk so that its active speech (20 ms frames within 30 dB of the loudest) has the
 * RMS of a sine `levelDb` below full scale, backing off if that would clip.
 */
function level(samples: Int16Array, levelDb: number): Int16Array {
  const frame = 160;
  const energies: number[] = [];
  let peak = 1;
  for (let i = 0; i + frame <= samples.length; i += frame) {
    let e = 0;
    for (let j = i; j < i + frame; j++) {
      const s = samples[j] as number;
      e += s * s;
      peak = Math.max(peak, Math.abs(s));
    }
    energies.push(e / frame);
  }
  const loudest = Math.max(1, ...energies);
  const active = energies.filter((e) => e > loudest / 1000);
  const rms = Math.sqrt(active.reduce((a, b) => a + b, 0) / Math.max(1, active.length));
  const targetRms = (32767 / Math.SQRT2) * 10 ** (levelDb / 20);
  const gain = Math.min(targetRms / Math.max(rms, 1), 32000 / peak);
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = Math.round((samples[i] as number) * gain);
  return out;
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Builds (or reads from cache) the speech corpus; `{ skip }` when no synthesiser is installed. */
export async function loadSpeechCorpus(): Promise<SpeechCorpusResult> {
  const started = Date.now();
  const espeak = toolVersion('espeak-ng', ['--version']);
  const flite = toolVersion('flite', ['--version']);
  if (!espeak && !flite) {
    return { skip: 'neither espeak-ng nor flite is installed (apt-get install espeak-ng flite sox)' };
  }
  const haveSox = toolVersion('sox', ['--version']) !== null;
  const specs = buildSpecs(espeak !== null, flite !== null);
  const tools = [espeak, flite].filter((v): v is string => v !== null).join(' + ');
  const key = createHash('sha256')
    .update(JSON.stringify({ FORMAT_VERSION, specs, espeak, flite, resampler: haveSox ? 'sox' : 'own' }))
    .digest('hex')
    .slice(0, 16);
  const cacheDir = process.env['SWITCHBOARD_TEST_CACHE'] ?? join(tmpdir(), 'switchboard-test-cache');
  const cacheFile = join(cacheDir, `speech-${key}.s16le`);
  if (existsSync(cacheFile)) {
    const buf = await readFile(cacheFile);
    const samples = new Int16Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + (buf.length & ~1)));
    return { samples, seconds: samples.length / RATE, tools, chunks: specs.length, fromCache: true, generationMs: Date.now() - started };
  }

  const work = await mkdtemp(join(tmpdir(), 'speech-'));
  try {
    const chunks = await mapLimit(specs, Math.max(2, availableParallelism()), async (spec, i) =>
      level(await synthesize(spec, work, i, haveSox), spec.levelDb),
    );
    // 150 ms of silence between chunks, as between utterances.
    const gap = 1200;
    const total = chunks.reduce((n, c) => n + c.length + gap, 0);
    const samples = new Int16Array(total);
    let pos = 0;
    for (const c of chunks) {
      samples.set(c, pos);
      pos += c.length + gap;
    }
    await mkdir(cacheDir, { recursive: true });
    // Write then rename, so a concurrent or interrupted run never reads a partial file.
    const partial = `${cacheFile}.${process.pid}.tmp`;
    await writeFile(partial, Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength));
    await rename(partial, cacheFile);
    return { samples, seconds: total / RATE, tools, chunks: specs.length, fromCache: false, generationMs: Date.now() - started };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
