import type { AudioTap, PlayRequest } from '../calls/leg-audio.js';
import type { PlaybackEndStatus, PlaybackHandle } from '../media/player/prompt-player.js';
import type { PreparedSpeech, SpeechRequest } from '../media/sources.js';
import type { SttStream } from '../speech/stt/provider.js';
import { speechChunks } from '../speech/sentences.js';
import { UtteranceDetector } from '../speech/utterances.js';
import type { Clock, Timer } from '../util/clock.js';

/** Whole-answer phrases (one per answer), or a JSGF grammar for answers that are runs of words. */
export type ExpectedSpeech = { phrases: readonly string[] } | { jsgf: string };

/** What the conversation does with each turn of the caller. */
export interface TurnHandler {
  /** The first thing said (greeting, first question); null to wait for the caller. */
  opening(): Promise<Reply>;
  /** The caller said `text` (empty: nothing intelligible, or no answer in time). */
  heard(text: string): Promise<Reply>;
  /** A key the caller pressed; null when it completes no answer yet. */
  keyed(key: string): Reply | Promise<Reply> | null;
  /**
   * What would answer the current question, to constrain recognition.
   */
  expected(): ExpectedSpeech | undefined;
  /** What will likely be said after the caller's next answer, to synthesise while they speak. */
  upcoming?(): string[];
}

export interface Reply {
  /** Said to the caller next. */
  say?: string;
  /** The conversation is over once `say` has been heard. */
  done?: boolean;
}

/** Where a turn's time went: end of the caller's speech → first audio of the reply. */
export interface TurnTiming {
  /**
   * Whether the caller's turn was transcribed while spoken (`live`) or after its end (`whole`);
   * `none` for replies that answer no speech (greeting, keys, a timeout).
   */
  sttMode: 'live' | 'whole' | 'none';
  sttMs: number;
  thinkMs: number;
  ttsMs: number;
  totalMs: number;
}

export interface VoiceConversationDeps {
  clock: Clock;
  /** Plays on the leg (the engine's play). */
  play: (request: PlayRequest) => PlaybackHandle;
  /** Synthesis of what the assistant says. */
  speech: (request: SpeechRequest) => PreparedSpeech;
  /** Speech to text of one turn; rejects when no engine can. */
  transcribe: (pcm: Int16Array, options: { language: string; expected?: ExpectedSpeech }) => Promise<string>;
  /**
   * Live speech to text, when the engine that transcribes the language can: turns are then
   * transcribed while the caller speaks, and only the end of a turn waits for the engine.
   * Null, or throwing, falls back to `transcribe`.
   */
  listen?: (options: { language: string; expected?: ExpectedSpeech; signal: AbortSignal }) => SttStream | null;
  /** Silence after speech that ends the caller's turn (see UtteranceDetector). */
  endSilenceMs?: number;
  voice: string;
  language: string;
  /** Caller speech stops the assistant mid-sentence (interruption_settings.enable). */
  interruptible: boolean;
  /** No answer this long after the assistant stops talking counts as an empty answer. */
  responseTimeoutMs: number;
  onTiming?: (timing: TurnTiming) => void;
  /** The conversation ended by itself (the handler said done). */
  onDone: () => void;
  log: (message: string, fields?: object) => void;
}

/** Replies that answer no turn of the caller (greeting, keys, timeouts): nothing to wait for. */
const IMMEDIATE: Omit<TurnTiming, 'ttsMs' | 'totalMs'> = { sttMode: 'none', sttMs: 0, thinkMs: 0 };

/**
 * A spoken conversation on one leg: it speaks replies, listens for the caller's turns (cut by the
 * voice activity detector from the leg's inbound audio), transcribes them and hands the text to a
 * TurnHandler (the offline form engine, or a language model). Caller speech interrupts the
 * assistant when allowed (barge-in). Turns are handled one at a time, in order.
 */
export class VoiceConversation implements AudioTap {
  private readonly utterances: UtteranceDetector;
  /** What the assistant is saying: how to cut it short (and settle its promise, even before it starts). */
  private speaking: { stop: (status: PlaybackEndStatus) => void } | null = null;
  private waiting: Timer | null = null;
  private queue: Promise<void> = Promise.resolve();
  private over = false;
  private readonly abort = new AbortController();
  /**
   * A live transcription started for the caller's next turn, so the engine has loaded by the
   * time they speak, and what it was started for; then the one of the turn in progress.
   */
  private armed: { stream: SttStream; expected: string } | null = null;
  private hearing: SttStream | null = null;

  constructor(private readonly handler: TurnHandler, private readonly deps: VoiceConversationDeps) {
    this.utterances = new UtteranceDetector({
      ...(deps.endSilenceMs !== undefined ? { endSilenceMs: deps.endSilenceMs } : {}),
      onSpeechStart: (preRoll) => this.callerStarted(preRoll),
      onTurnAudio: (frame) => this.hearing?.write(frame),
      onUtterance: (pcm) => {
        const live = this.hearing;
        this.hearing = null;
        this.enqueue(() => this.callerSaid(pcm, live));
      },
    });
  }

  start(): void {
    this.enqueue(async () => this.respond(await this.handler.opening(), this.deps.clock.now()));
  }

  /** AudioTap: the caller's side of each tick feeds the turn detector. */
  frame(inbound: Int16Array | null): void {
    if (!this.over) this.utterances.push(inbound);
  }

  /** A DTMF key from the caller. */
  key(digit: string): void {
    if (this.over) return;
    const reply = this.handler.keyed(digit);
    if (!reply) return;
    this.stopSpeaking();
    this.waiting?.cancel();
    this.enqueue(async () => this.respond(await reply, this.deps.clock.now()));
  }

  /** Something outside the caller's turns wants a reply now (e.g. messages added by the app). */
  prompt(reply: () => Promise<Reply>): void {
    this.enqueue(async () => this.respond(await reply(), this.deps.clock.now()));
  }

  /** Ends it without a word (stop, hangup). */
  close(): void {
    if (this.over) return;
    this.over = true;
    this.abort.abort();
    this.waiting?.cancel();
    this.stopSpeaking();
  }

  get ended(): boolean {
    return this.over;
  }

  private enqueue(work: () => Promise<void>): void {
    this.queue = this.queue.then(async () => {
      if (!this.over) await work();
    }).catch((error: unknown) => this.deps.log('conversation turn failed', { error: String(error) }));
  }

  private callerStarted(preRoll: Int16Array): void {
    this.waiting?.cancel();
    this.waiting = null;
    if (this.speaking && this.deps.interruptible) this.stopSpeaking();
    this.hearing = this.armed?.stream ?? this.openListener(this.handler.expected());
    this.armed = null;
    this.hearing?.write(preRoll);
  }

  private async callerSaid(pcm: Int16Array, live: SttStream | null): Promise<void> {
    const endOfSpeech = this.deps.clock.now();
    const expected = this.handler.expected();
    let text = '';
    let sttMode: TurnTiming['sttMode'] = 'whole';
    try {
      const heard = live ? await this.finishLive(live) : null;
      if (heard !== null) sttMode = 'live';
      text = heard ?? (await this.deps.transcribe(pcm, { language: this.deps.language, ...(expected ? { expected } : {}) }));
    } catch (error) {
      this.deps.log('could not transcribe the caller', { error: String(error) });
    }
    if (this.over) return;
    const sttDone = this.deps.clock.now();
    const reply = await this.handler.heard(text.trim());
    await this.respond(reply, endOfSpeech, { sttMode, sttMs: sttDone - endOfSpeech, thinkMs: this.deps.clock.now() - sttDone });
  }

  /** The text of a live transcription once its audio has ended; null when the engine failed. */
  private async finishLive(live: SttStream): Promise<string | null> {
    live.end();
    const parts: string[] = [];
    try {
      for await (const result of live) if (result.final && result.text !== '') parts.push(result.text);
    } catch (error) {
      this.deps.log('live transcription failed; transcribing the turn whole', { error: String(error) });
      return null;
    }
    return parts.join(' ');
  }

  /** Starts the live transcription of the caller's next turn, unless one for the same answer waits already. */
  private arm(): void {
    const expected = this.handler.expected();
    const key = JSON.stringify(expected ?? null);
    if (this.armed?.expected === key) return;
    this.armed?.stream.close();
    const stream = this.openListener(expected);
    this.armed = stream ? { stream, expected: key } : null;
    // Synthesis is cached: the likely reply is then ready when the answer comes.
    for (const chunk of (this.handler.upcoming?.() ?? []).flatMap(speechChunks)) {
      this.synthesize(chunk)().catch((error: unknown) => this.deps.log('cannot prepare speech ahead', { error: String(error) }));
    }
  }

  private synthesize(text: string): PreparedSpeech {
    return this.deps.speech({ payload: text, payloadType: 'text', voice: this.deps.voice, language: this.deps.language });
  }

  private openListener(expected: ExpectedSpeech | undefined): SttStream | null {
    if (!this.deps.listen || this.over) return null;
    try {
      return this.deps.listen({ language: this.deps.language, ...(expected ? { expected } : {}), signal: this.abort.signal });
    } catch (error) {
      this.deps.log('cannot transcribe live; turns will be transcribed whole', { error: String(error) });
      return null;
    }
  }

  private async respond(reply: Reply, since: number, timing: Omit<TurnTiming, 'ttsMs' | 'totalMs'> = IMMEDIATE): Promise<void> {
    if (this.over) return;
    if (!reply.done) this.arm();
    if (reply.say) {
      const ttsStart = this.deps.clock.now();
      const heard = await this.say(reply.say, () => {
        const now = this.deps.clock.now();
        this.deps.onTiming?.({ ...timing, ttsMs: now - ttsStart, totalMs: now - since });
      });
      if (heard === 'call_hangup') return;
    }
    if (reply.done) {
      this.close();
      this.deps.onDone();
      return;
    }
    this.awaitAnswer();
  }

  /**
   * Speaks and resolves when it has been heard, interrupted or cut by the hangup. Each piece (a
   * sentence, or an opening clause) is synthesised and queued on its own, so the first is heard
   * while the others are made.
   */
  private say(text: string, firstAudio: () => void): Promise<PlaybackEndStatus> {
    return new Promise((resolve) => {
      const pieces = speechChunks(text);
      let left = pieces.length;
      let settled = false;
      const handles: PlaybackHandle[] = [];
      const finish = (status: PlaybackEndStatus): void => {
        if (settled) return;
        settled = true;
        if (this.speaking?.stop === finish) this.speaking = null;
        // Pieces still queued are dropped; stopping those already over does nothing.
        for (const handle of handles) handle.stop('cancelled');
        resolve(status);
      };
      this.speaking = { stop: finish };
      if (pieces.length === 0) finish('completed');
      for (const [index, piece] of pieces.entries()) {
        if (settled) break;
        const synthesis = this.synthesize(piece)();
        const audio = index > 0 ? synthesis : synthesis.then((pcm) => {
          firstAudio();
          return pcm;
        });
        handles.push(this.deps.play({
          kind: 'speak', overlay: false, loops: 1, audio, source: { text: piece }, events: false,
          onEnded: (status) => {
            if (status !== 'completed') finish(status);
            else if (--left === 0) finish('completed');
          },
        }));
      }
    });
  }

  /** Stops the assistant mid-sentence; what had not started yet is dropped. */
  private stopSpeaking(): void {
    this.speaking?.stop('cancelled');
  }

  /** user_response_timeout_ms: silence after the question counts as no answer. */
  private awaitAnswer(): void {
    this.waiting?.cancel();
    this.waiting = this.deps.clock.setTimer(this.deps.responseTimeoutMs, () => {
      this.waiting = null;
      if (this.over || this.utterances.speaking) return;
      this.enqueue(async () => this.respond(await this.handler.heard(''), this.deps.clock.now()));
    });
  }
}
