/**
 * CMU pocketsphinx, when the host has it installed (Debian/Ubuntu:
 * `apt-get install pocketsphinx pocketsphinx-en-us`), as the embedded English recogniser. It runs
 * as a separate program (`pocketsphinx_continuous`), one per transcription, on a temporary 16 kHz
 * WAV. The en-us acoustic model is a 16 kHz model: telephone audio upsampled plainly has nothing
 * above 4 kHz, where the model expects energy, and loses most of its words (word error rate 0.84
 * on synthetic speech against 0.10 for the same speech at 16 kHz). A mirror image of the
 * telephone band put up there (`foldGain`, see audio.ts) brings it back to 0.19 (0.24 through
 * G.711 µ-law).
 * `bench/stt.ts --accuracy` measures all of this.
 *
 * A grammar of the expected phrases (a menu, a form field) is much more accurate than free
 * dictation, and its answer is one of them or nothing. It cannot say "none of these" reliably:
 * speech outside the grammar usually gives nothing, but sometimes the closest phrase.
 */
import { execFile, spawn, type ChildProcessByStdio } from 'node:child_process';
import { closeSync, constants, open } from 'node:fs';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir, totalmem } from 'node:os';
import { delimiter, join } from 'node:path';
import { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { encodeWav } from '../../media/audio/wav.js';
import { isEnglish } from '../tts/voices.js';
import { StreamingUpsampler, engineAudioAt } from './audio.js';
import { SttError } from './errors.js';
import { compileGrammar, loadDictionaryWords, type CompiledGrammar } from './grammar.js';
import type { SttProvider, SttStream, SttStreamOptions, SttStreamResult, TranscribeOptions, Transcript } from './provider.js';

export const POCKETSPHINX_MODEL_DIR = '/usr/share/pocketsphinx/model/en-us';
/** The rate the en-us acoustic model was trained on. */
const MODEL_RATE = 16_000;
const DEFAULT_FOLD_GAIN = 0.5;
/** What one live recogniser holds with the general English model (bench/ai-turns.ts). */
const STREAM_BYTES = 100 * 1024 * 1024;

export interface PocketsphinxOptions {
  /** The program to run; defaults to `pocketsphinx_continuous` on PATH. */
  command?: string;
  /** Where the model lives; `hmm`, `lm` and `dict` default to the en-us files in it. */
  modelDir?: string;
  /** Acoustic model directory (`-hmm`). */
  hmm?: string;
  /** Language model (`-lm`), used when there is no grammar. */
  lm?: string;
  /** Pronouncing dictionary (`-dict`); grammar words must be in it. */
  dict?: string;
  /**
   * Longest a transcription may take; default 30 s plus twice the audio's duration. pocketsphinx
   * alone takes about a quarter of the audio's duration plus half a second to load its model, but
   * on a busy host it shares the CPUs with everything else.
   */
  timeoutMs?: number;
  /** Transcriptions run at once; more wait their turn. Default: one per CPU. */
  concurrency?: number;
  /**
   * Live transcriptions (streams) open at once; more are refused with `busy`, and their audio
   * can be transcribed whole instead. Each is a process holding its model, about 100 MB with the
   * general English model, so the default keeps them within a quarter of the machine's memory.
   */
  maxStreams?: number;
  /**
   * How loud a mirror image of the telephone band to put in the empty band above 4 kHz, as a
   * fraction of the band's level (see `engineAudioAt`); 0 for plain upsampling. Default 0.5,
   * which measured best on synthetic speech.
   */
  foldGain?: number;
}

interface ModelFiles {
  command: string;
  hmm: string;
  lm: string;
  dict: string;
}

function modelFiles(options: PocketsphinxOptions): ModelFiles {
  const dir = options.modelDir ?? POCKETSPHINX_MODEL_DIR;
  return {
    command: options.command ?? 'pocketsphinx_continuous',
    hmm: options.hmm ?? join(dir, 'en-us'),
    lm: options.lm ?? join(dir, 'en-us.lm.bin'),
    dict: options.dict ?? join(dir, 'cmudict-en-us.dict'),
  };
}

// Fillers and sentence markers in word-time lines; not words anyone said.
const FILLER = /^(<.*>|\[.*\]|\+\+.*\+\+)$/;
// With `-time yes`, each word of an utterance follows its hypothesis line as "word start end posterior".
const WORD_TIME = /^(\S+) (\d+\.\d+) (\d+\.\d+) (\d+(?:\.\d+)?(?:e-?\d+)?)$/;

/** Text and confidence from `pocketsphinx_continuous -time yes` output. */
export function parsePocketsphinxOutput(stdout: string, withConfidence: boolean): Transcript {
  const hypotheses: string[] = [];
  const posteriors: number[] = [];
  for (const line of stdout.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '') continue;
    const word = WORD_TIME.exec(trimmed);
    if (word === null) hypotheses.push(trimmed);
    else if (!FILLER.test(word[1] as string)) posteriors.push(Number(word[4]));
  }
  const transcript: Transcript = { text: hypotheses.join(' ') };
  if (withConfidence && posteriors.length > 0) {
    transcript.confidence = Number((posteriors.reduce((a, b) => a + b, 0) / posteriors.length).toFixed(3));
  }
  return transcript;
}

/** A limit on transcriptions running at once. */
class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];

  constructor(count: number) {
    this.free = Math.max(1, count);
  }

  async acquire(signal?: AbortSignal): Promise<() => void> {
    if (this.free > 0) {
      this.free--;
      return () => this.release();
    }
    await new Promise<void>((resolve, reject) => {
      const go = (): void => {
        signal?.removeEventListener('abort', abandon);
        resolve();
      };
      const abandon = (): void => {
        const at = this.waiting.indexOf(go);
        if (at >= 0) this.waiting.splice(at, 1);
        reject(abortReason(signal));
      };
      this.waiting.push(go);
      signal?.addEventListener('abort', abandon, { once: true });
    });
    return () => this.release();
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new DOMException('The operation was aborted', 'AbortError');
}

const detections = new Map<string, Promise<PocketsphinxProvider | null>>();

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function findCommand(command: string): Promise<string | null> {
  if (command.includes('/')) return (await isExecutable(command)) ? command : null;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && (await isExecutable(join(dir, command)))) return join(dir, command);
  }
  return null;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

export class PocketsphinxProvider implements SttProvider {
  readonly name = 'pocketsphinx';
  readonly model = 'pocketsphinx-en-us';
  readonly files: Readonly<ModelFiles>;
  readonly foldGain: number;
  private readonly timeoutMs: number | undefined;
  private readonly slots: Slots;
  private readonly maxStreams: number;
  private openStreams = 0;

  constructor(options: PocketsphinxOptions = {}) {
    this.files = modelFiles(options);
    this.timeoutMs = options.timeoutMs;
    this.foldGain = options.foldGain ?? DEFAULT_FOLD_GAIN;
    this.slots = new Slots(options.concurrency ?? availableParallelism());
    this.maxStreams = options.maxStreams ?? Math.max(4, Math.floor(totalmem() / 4 / STREAM_BYTES));
  }

  /**
   * A provider when the program and the model files are there, else null. Nothing is run:
   * the checks are file lookups, made once per set of options and remembered.
   */
  static detect(options: PocketsphinxOptions = {}): Promise<PocketsphinxProvider | null> {
    const files = modelFiles(options);
    const key = JSON.stringify({ ...options, ...files });
    let detection = detections.get(key);
    if (detection === undefined) {
      detection = (async () => {
        const command = await findCommand(files.command);
        if (command === null) return null;
        const present = await Promise.all([exists(join(files.hmm, 'mdef')), exists(files.lm), exists(files.dict)]);
        return present.every(Boolean) ? new PocketsphinxProvider({ ...options, command }) : null;
      })();
      detections.set(key, detection);
    }
    return detection;
  }

  /** English only: the installed model is US English (other accents do worse, but do). */
  supports(language: string): boolean {
    return isEnglish(language);
  }

  async transcribe(pcm: Int16Array, options: TranscribeOptions): Promise<Transcript> {
    this.checkLanguage(options.language);
    options.signal?.throwIfAborted();
    if (pcm.length === 0) return { text: '' };
    return this.transcribeAtModelRate(engineAudioAt(pcm, MODEL_RATE, this.foldGain), options);
  }

  /**
   * `transcribe` for audio already at the model's rate (16-bit mono 16 kHz): wideband audio,
   * which pocketsphinx recognises better than upsampled telephone audio.
   */
  async transcribeAtModelRate(pcm16k: Int16Array, options: TranscribeOptions): Promise<Transcript> {
    this.checkLanguage(options.language);
    options.signal?.throwIfAborted();
    if (pcm16k.length === 0) return { text: '' };
    const grammar = options.jsgf !== undefined || options.grammar === undefined ? null : await this.compileGrammar(options.grammar);
    const jsgf = options.jsgf ?? grammar?.jsgf ?? null;

    const release = await this.slots.acquire(options.signal);
    let dir: string | null = null;
    try {
      dir = await mkdtemp(join(tmpdir(), 'switchboard-stt-')).catch(temporaryFileError);
      const wav = join(dir, 'audio.wav');
      const log = join(dir, 'pocketsphinx.log');
      await writeFile(wav, encodeWav(pcm16k, MODEL_RATE)).catch(temporaryFileError);
      const args = ['-infile', wav, '-logfn', log, '-hmm', this.files.hmm, '-dict', this.files.dict, '-time', 'yes'];
      if (jsgf === null) args.push('-lm', this.files.lm);
      else {
        await writeFile(join(dir, 'grammar.jsgf'), jsgf).catch(temporaryFileError);
        args.push('-jsgf', join(dir, 'grammar.jsgf'));
      }
      const timeoutMs = this.timeoutMs ?? 30_000 + (2 * pcm16k.length * 1000) / MODEL_RATE;
      const { code, stdout, timedOut } = await runProgram(this.files.command, args, timeoutMs, options.signal);
      if (timedOut) throw new SttError('provider_timeout', `pocketsphinx took longer than ${Math.round(timeoutMs)} ms`);
      if (code !== 0) {
        const detail = await logErrors(log);
        throw new SttError('provider_error', `pocketsphinx exited with code ${code}${detail ? `: ${detail}` : ''}`);
      }
      // A grammar's posteriors are all 1: the search never weighs other words against them.
      const transcript = parsePocketsphinxOutput(stdout, jsgf === null);
      const phrase = grammar === null ? undefined : matchedPhrase(grammar, transcript.text);
      return phrase === undefined ? transcript : { ...transcript, phrase };
    } finally {
      release();
      if (dir !== null) await rm(dir, { recursive: true, force: true });
    }
  }

  /**
   * Live transcription: one pocketsphinx process for the whole stream, reading upsampled audio
   * as it arrives, so the model loads while the caller is still silent and the words are
   * decoded while they are spoken. pocketsphinx finds the utterances itself (voice activity
   * detection) and writes each one's text half a second after it ends, or as soon as the audio
   * ends; those are the stream's results, all final (it gives no partial results).
   */
  stream(options: SttStreamOptions): SttStream {
    this.checkLanguage(options.language);
    if (this.openStreams >= this.maxStreams) {
      throw new SttError('busy', `pocketsphinx already runs ${this.maxStreams} live transcriptions (maxStreams)`);
    }
    this.openStreams++;
    return new PocketsphinxStream(this, options, () => this.openStreams--);
  }

  /** The grammar for `phrases`; `invalid_grammar` when none of them can be recognised. */
  async compileGrammar(phrases: readonly string[]): Promise<CompiledGrammar & { jsgf: string }> {
    const words = await loadDictionaryWords(this.files.dict).catch((error: unknown) => {
      throw new SttError('provider_error', `cannot read the pocketsphinx dictionary ${this.files.dict}`, { cause: error });
    });
    const grammar = compileGrammar(phrases, (word) => words.has(word));
    if (grammar.jsgf === null && grammar.rejected.length === 0) {
      throw new SttError('invalid_grammar', 'the grammar has no phrases');
    }
    if (grammar.jsgf === null) {
      const why = grammar.unknownWords.length > 0 ? `; the dictionary lacks ${grammar.unknownWords.map((w) => `"${w}"`).join(', ')}` : '';
      throw new SttError('invalid_grammar', `no phrase of the grammar can be recognised by pocketsphinx${why}`);
    }
    return { ...grammar, jsgf: grammar.jsgf };
  }

  /**
   * The arguments for a stream reading raw 16 kHz audio from `input`. Only the first search
   * pass runs: the two later passes (flat lexicon, best path) rescan the whole utterance after
   * its end, which with the language model took 0.3–0.5 s of a turn's latency and changed few
   * words (bench/stt.ts).
   */
  streamArgs(input: string, grammarFile: string | null): string[] {
    const args = ['-infile', input, '-logfn', '/dev/null', '-hmm', this.files.hmm, '-dict', this.files.dict, '-fwdflat', 'no', '-bestpath', 'no', '-vad_postspeech', '25'];
    if (grammarFile === null) args.push('-lm', this.files.lm);
    else args.push('-jsgf', grammarFile);
    return args;
  }

  private checkLanguage(language: string): void {
    if (!this.supports(language)) {
      throw new SttError('unsupported_language', `pocketsphinx transcribes English only, not "${language}"`);
    }
  }
}

function temporaryFileError(error: unknown): never {
  throw new SttError('provider_error', `cannot write pocketsphinx's input files: ${describe(error)}`, { cause: error });
}

/** The caller's phrase that a grammar run recognised, when the text is exactly one. */
function matchedPhrase(grammar: CompiledGrammar, text: string): string | undefined {
  const at = grammar.phrases.indexOf(text);
  return at < 0 ? undefined : grammar.given[at];
}

/** The ERROR lines of a pocketsphinx log, for the message of a failed run. */
async function logErrors(path: string): Promise<string> {
  try {
    const text = await readFile(path, 'utf8');
    return text
      .split('\n')
      .filter((line) => line.startsWith('ERROR'))
      .slice(0, 3)
      .map((line) => line.replace(/^ERROR: "[^"]*", line \d+: /, ''))
      .join('; ')
      .slice(0, 300);
  } catch {
    return '';
  }
}

interface ProgramResult {
  code: number | null;
  stdout: string;
  timedOut: boolean;
}

/** Runs a program to its end, killing it after `timeoutMs` or when `signal` aborts. */
function runProgram(command: string, args: string[], timeoutMs: number, signal?: AbortSignal): Promise<ProgramResult> {
  return new Promise<ProgramResult>((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'ignore'], signal, killSignal: 'SIGKILL' });
    const stdout: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.on('error', (error) => {
      clearTimeout(timer);
      if (signal?.aborted) reject(abortReason(signal));
      else reject(new SttError('provider_error', `cannot run ${command}: ${error.message}`, { cause: error }));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (signal?.aborted) reject(abortReason(signal));
      else resolve({ code, stdout: Buffer.concat(stdout).toString('utf8'), timedOut });
    });
  });
}

/** How long pocketsphinx may take to finish after the end of the audio. */
const STREAM_DRAIN_MS = 15_000;

/**
 * The audio reaches pocketsphinx through a named pipe: it reads only files, and the pipes Node
 * gives a child as stdin are sockets, which `/dev/stdin` cannot open. The pipe is opened here
 * for reading and writing, which never blocks (Linux), so a pocketsphinx that fails before
 * opening it leaves nothing waiting; pocketsphinx sees the end of the audio when it is closed.
 */
class PocketsphinxStream implements SttStream {
  private readonly upsampler: StreamingUpsampler;
  private child: ChildProcessByStdio<null, Readable, null> | null = null;
  private input: Socket | null = null;
  /** Upsampled audio written before the pipe was open. */
  private pending: Buffer[] = [];
  private readonly results: SttStreamResult[] = [];
  private waiter: (() => void) | null = null;
  private failure: SttError | null = null;
  private done = false;
  private ended = false;
  private closed = false;
  private dir: string | null = null;
  private grammar: CompiledGrammar | null = null;
  private drainTimer: NodeJS.Timeout | null = null;
  private timedOut = false;
  private partialLine = '';
  private readonly onAbort = (): void => this.close();

  constructor(
    private readonly provider: PocketsphinxProvider,
    private readonly options: SttStreamOptions,
    /** Called once, when the stream is over, to give its place back. */
    private release: (() => void) | null,
  ) {
    this.upsampler = new StreamingUpsampler(MODEL_RATE, provider.foldGain);
    if (options.signal?.aborted) {
      this.closed = true;
      this.finish();
      return;
    }
    options.signal?.addEventListener('abort', this.onAbort, { once: true });
    this.start().catch((error: unknown) => {
      this.fail(error instanceof SttError ? error : new SttError('provider_error', `cannot start pocketsphinx: ${describe(error)}`, { cause: error }));
    });
  }

  write(pcm: Int16Array): void {
    if (this.ended || this.closed) return;
    this.send(this.upsampler.push(pcm));
  }

  end(): void {
    if (this.ended || this.closed) return;
    this.send(this.upsampler.flush());
    this.ended = true;
    if (this.input !== null) this.finishInput();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.results.length = 0;
    this.stopProcess();
    this.finish();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<SttStreamResult> {
    for (;;) {
      const next = this.results.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (this.failure !== null) throw this.failure;
      if (this.done) return;
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
    }
  }

  private async start(): Promise<void> {
    const { jsgf: givenJsgf, grammar: phrases } = this.options;
    const grammar = givenJsgf !== undefined || phrases === undefined ? null : await this.provider.compileGrammar(phrases);
    this.grammar = grammar;
    const jsgf = givenJsgf ?? grammar?.jsgf ?? null;
    const dir = await mkdtemp(join(tmpdir(), 'switchboard-stt-'));
    this.dir = dir;
    if (this.closed) return void this.removeDir();
    let grammarFile: string | null = null;
    if (jsgf !== null) {
      grammarFile = join(dir, 'grammar.jsgf');
      await writeFile(grammarFile, jsgf);
    }
    const fifo = join(dir, 'audio.pcm');
    await makeFifo(fifo);
    const fd = await openFile(fifo, constants.O_RDWR | constants.O_NONBLOCK);
    if (this.closed) {
      closeSync(fd);
      return void this.removeDir();
    }
    const input = new Socket({ fd, readable: false, writable: true });
    // Write errors end in the process's exit, which is reported instead.
    input.on('error', () => {});
    this.input = input;

    const command = this.provider.files.command;
    const child = spawn(command, this.provider.streamArgs(fifo, grammarFile), { stdio: ['ignore', 'pipe', 'ignore'] });
    this.child = child;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text: string) => this.onOutput(text));
    child.on('error', (error) => this.fail(new SttError('provider_error', `cannot run ${command}: ${error.message}`, { cause: error })));
    child.on('close', (code) => {
      this.child = null;
      this.addResult(this.partialLine);
      this.partialLine = '';
      if (this.closed) return;
      if (this.timedOut) {
        this.fail(new SttError('provider_timeout', `pocketsphinx took longer than ${STREAM_DRAIN_MS} ms to finish after the end of the audio`));
      } else if (code !== 0 || !this.ended) {
        this.fail(new SttError('provider_error', `pocketsphinx stopped with ${code === null ? 'a signal' : `code ${code}`} while transcribing a stream`));
      } else this.finish();
    });
    for (const chunk of this.pending) input.write(chunk);
    this.pending = [];
    if (this.ended) this.finishInput();
  }

  private send(pcm: Int16Array): void {
    if (pcm.length === 0) return;
    const bytes = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
    if (this.input === null) this.pending.push(bytes);
    else this.input.write(bytes);
  }

  private finishInput(): void {
    this.input?.end();
    this.drainTimer = setTimeout(() => {
      this.timedOut = true;
      this.child?.kill('SIGKILL');
    }, STREAM_DRAIN_MS);
  }

  private onOutput(text: string): void {
    const lines = (this.partialLine + text).split('\n');
    this.partialLine = lines.pop() ?? '';
    for (const line of lines) this.addResult(line);
    this.wake();
  }

  private addResult(line: string): void {
    const text = line.trim();
    if (text === '' || this.closed) return;
    const phrase = this.grammar === null ? undefined : matchedPhrase(this.grammar, text);
    this.results.push(phrase === undefined ? { text, final: true } : { text, final: true, phrase });
  }

  private fail(error: SttError): void {
    if (this.done) return;
    this.failure = error;
    this.stopProcess();
    this.finish();
  }

  private stopProcess(): void {
    this.child?.kill('SIGKILL');
    this.input?.destroy();
    this.pending = [];
  }

  private finish(): void {
    this.done = true;
    this.release?.();
    this.release = null;
    if (this.drainTimer !== null) clearTimeout(this.drainTimer);
    this.options.signal?.removeEventListener('abort', this.onAbort);
    this.input?.destroy();
    if (this.child === null) void this.removeDir();
    else this.child.once('close', () => void this.removeDir());
    this.wake();
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.();
  }

  private async removeDir(): Promise<void> {
    const dir = this.dir;
    this.dir = null;
    if (dir !== null) await rm(dir, { recursive: true, force: true });
  }
}

function makeFifo(path: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    execFile('mkfifo', ['-m', '600', path], { timeout: 5000 }, (error) => {
      if (error) reject(new SttError('provider_error', `cannot create a pipe for pocketsphinx (mkfifo): ${error.message}`, { cause: error }));
      else resolve();
    });
  });
}

function openFile(path: string, flags: number): Promise<number> {
  return new Promise<number>((resolve, reject) => open(path, flags, (error, fd) => (error ? reject(error) : resolve(fd))));
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
