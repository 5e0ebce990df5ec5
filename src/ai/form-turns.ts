import { formGrammarJsgf, type FormEngine, type FormOutcome, type FormTurn } from './forms/index.js';
import type { ExpectedSpeech, Reply, TurnHandler } from './voice-conversation.js';

/**
 * gather_using_ai with no language model: the offline form engine holds the conversation. Each
 * question constrains recognition to the answers it can take.
 */
export class FormTurns implements TurnHandler {
  private finished: FormOutcome | null = null;

  constructor(private readonly form: FormEngine, private readonly changed: () => void) {}

  get outcome(): FormOutcome | null {
    return this.finished;
  }

  async opening(): Promise<Reply> {
    return this.reply(this.form.start());
  }

  async heard(text: string): Promise<Reply> {
    return this.reply(this.form.hear(text));
  }

  keyed(key: string): Reply | null {
    const turn = this.form.pressKey(key);
    return turn ? this.reply(turn) : null;
  }

  expected(): ExpectedSpeech | undefined {
    const grammar = this.form.grammar();
    if (!grammar || grammar.mode === 'open') return undefined;
    if (grammar.mode === 'phrases' && grammar.phrases.length > 0) return { phrases: grammar.phrases };
    // Numbers and dates are any run of their words: a repeating grammar, with fillers allowed.
    const jsgf = formGrammarJsgf(grammar);
    return jsgf ? { jsgf } : undefined;
  }

  upcoming(): string[] {
    return this.form.upcoming();
  }

  partialResult(): Record<string, unknown> {
    return this.form.partialResult();
  }

  history(): { role: 'assistant' | 'user'; content: string }[] {
    return this.form.history();
  }

  private reply(turn: FormTurn): Reply {
    if (turn.done) this.finished = turn.done;
    this.changed();
    return { ...(turn.say ? { say: turn.say } : {}), ...(turn.done ? { done: true } : {}) };
  }
}
