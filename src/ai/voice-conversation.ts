import type { AudioTap, PlayRequest } from '../calls/leg-audio.js';
import type { PlaybackEndStatus, PlaybackHandle } from '../media/player/prompt-player.js';
import type { PreparedSpeech, SpeechRequest } from '../media/sources.js';
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
}

export interface Reply {
  /** Said to the caller next. */
  say?: string;
  /** The conversation is over once `say` has been heard. */
  done?: boolean;
}

/** Where a turn's time went: end of the caller's speech → first audio of the reply. */
export interface TurnTiming {
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

/**
 * A spoken conversation on one leg: it speaks replies, listens for the caller's turns (cut by the
 * voice activity detector from the leg's inbound audio), transcribes them and hands the text to a
 * TurnHandler (the offline form engine, or a language model). Caller speech interrupts the
 * assistant when allowed (barge-in). Turns are handled one at a time, in order.
 */
export class VoiceConversation implements AudioTap {
  private readonly utterances: UtteranceDetector;
  /** What the assistant is saying, and how to settle its promise if it is cut before it starts. */
  private speaking: { handle: PlaybackHandle; settle: (status: PlaybackEndStatus) => void } | null = null;
  private waiting: Timer | null = null;
  private queue: Promise<void> = Promise.resolve();
  private over = false;
  private readonly abort = new AbortController();

  constructor(private readonly handler: TurnHandler, private readonly deps: VoiceConversationDeps) {
    this.utterances = new UtteranceDetector({
      onSpeechStart: () => this.callerStarted(),
      onUtterance: (pcm) => this.enqueue(() => this.callerSaid(pcm)),
    });
  }

  start(): void {
    this.enqueue(async () => this.respond(await this.handler.opening(), this.deps.clock.now(), 0, 0));
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
    this.enqueue(async () => this.respond(await reply, this.deps.clock.now(), 0, 0));
  }

  /** Something outside the caller's turns wants a reply now (e.g. messages added by the app). */
  prompt(reply: () => Promise<Reply>): void {
    this.enqueue(async () => this.respond(await reply(), this.deps.clock.now(), 0, 0));
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

  private callerStarted(): void {
    this.waiting?.cancel();
    this.waiting = null;
    if (this.speaking && this.deps.interruptible) this.stopSpeaking();
  }

  private async callerSaid(pcm: Int16Array): Promise<void> {
    const endOfSpeech = this.deps.clock.now();
    let text = '';
    try {
      const expected = this.handler.expected();
      text = await this.deps.transcribe(pcm, { language: this.deps.language, ...(expected ? { expected } : {}) });
    } catch (error) {
      this.deps.log('could not transcribe the caller', { error: String(error) });
    }
    if (this.over) return;
    const sttDone = this.deps.clock.now();
    const reply = await this.handler.heard(text.trim());
    await this.respond(reply, endOfSpeech, sttDone - endOfSpeech, this.deps.clock.now() - sttDone);
  }

  private async respond(reply: Reply, since: number, sttMs: number, thinkMs: number): Promise<void> {
    if (this.over) return;
    if (reply.say) {
      const ttsStart = this.deps.clock.now();
      const heard = await this.say(reply.say, () => {
        const now = this.deps.clock.now();
        this.deps.onTiming?.({ sttMs, thinkMs, ttsMs: now - ttsStart, totalMs: now - since });
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

  /** Speaks and resolves when it has been heard, interrupted or cut by the hangup. */
  private say(text: string, firstAudio: () => void): Promise<PlaybackEndStatus> {
    return new Promise((resolve) => {
      let settled = false;
      const settle = (status: PlaybackEndStatus): void => {
        if (settled) return;
        settled = true;
        if (this.speaking?.settle === settle) this.speaking = null;
        resolve(status);
      };
      const synthesize = this.deps.speech({ payload: text, payloadType: 'text', voice: this.deps.voice, language: this.deps.language });
      const audio = synthesize().then((pcm) => {
        firstAudio();
        return pcm;
      });
      const handle = this.deps.play({ kind: 'speak', overlay: false, loops: 1, audio, source: { text }, events: false, onEnded: settle });
      this.speaking = { handle, settle };
    });
  }

  /** Stops the assistant mid-sentence; a sentence that had not started yet is dropped. */
  private stopSpeaking(): void {
    const speaking = this.speaking;
    if (!speaking) return;
    speaking.handle.stop('cancelled');
    speaking.settle('cancelled');
  }

  /** user_response_timeout_ms: silence after the question counts as no answer. */
  private awaitAnswer(): void {
    this.waiting?.cancel();
    this.waiting = this.deps.clock.setTimer(this.deps.responseTimeoutMs, () => {
      this.waiting = null;
      if (this.over || this.utterances.speaking) return;
      this.enqueue(async () => this.respond(await this.handler.heard(''), this.deps.clock.now(), 0, 0));
    });
  }
}
