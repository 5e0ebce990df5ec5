import type { ChatMessage, LlmProvider, ToolDefinition } from './llm/index.js';
import { describeIssues, toTelnyxHistory, validateJson } from './llm/index.js';
import type { ExpectedSpeech, Reply, TurnHandler } from './voice-conversation.js';

export interface HistoryMessage {
  role: 'assistant' | 'user';
  content: string;
}

const SPOKEN_STYLE = 'You are speaking on a phone call: keep every reply short, plain and easy to say aloud, with no lists, markup or emoji.';
const SAVE_RESULT = 'save_result';
const NOTE_ANSWERS = 'note_answers';
/** Tries the model gets to produce a result that satisfies the schema. */
const MAX_INVALID_RESULTS = 3;

/** The chat so far, in the model's terms, with what changed reported to a listener. */
abstract class LlmTurns implements TurnHandler {
  protected readonly messages: ChatMessage[];
  private keys = '';

  constructor(
    protected readonly llm: LlmProvider,
    system: string,
    seed: readonly ChatMessage[],
    protected readonly changed: () => void,
  ) {
    this.messages = [{ role: 'system', content: system }, ...seed];
  }

  abstract opening(): Promise<Reply>;
  protected abstract answer(): Promise<Reply>;

  async heard(text: string): Promise<Reply> {
    // Nothing heard in time: the model decides how to re-prompt.
    this.messages.push({ role: 'user', content: text === '' ? '(the caller said nothing)' : text });
    this.changed();
    return this.answer();
  }

  /** Keys are collected until `#`, then given to the model as the caller's answer. */
  keyed(key: string): Promise<Reply> | null {
    if (key !== '#') {
      this.keys += key;
      return null;
    }
    const keys = this.keys;
    this.keys = '';
    return this.heard(`${keys} (keyed on the phone keypad)`);
  }

  expected(): ExpectedSpeech | undefined {
    return undefined;
  }

  history(): HistoryMessage[] {
    return toTelnyxHistory(this.messages).map((m) => ({ role: m.role, content: m.content }));
  }

  protected say(text: string, done = false): Reply {
    const spoken = text.trim();
    if (spoken) {
      this.messages.push({ role: 'assistant', content: spoken });
      this.changed();
    }
    return { ...(spoken ? { say: spoken } : {}), ...(done ? { done } : {}) };
  }
}

/** gather_using_ai with a language model: it asks, and hands over the result through a tool. */
export class LlmGatherTurns extends LlmTurns {
  private result: Record<string, unknown> | null = null;
  private partial: Record<string, unknown> = {};
  private invalidResults = 0;
  private readonly tools: ToolDefinition[];

  constructor(
    llm: LlmProvider,
    private readonly options: {
      parameters: Record<string, unknown>;
      instructions?: string;
      greeting?: string;
      endedSpeech?: string;
      history: readonly ChatMessage[];
      partials: () => void;
    },
    changed: () => void,
  ) {
    super(llm, [
      options.instructions ?? 'You collect information from a caller.',
      SPOKEN_STYLE,
      'Ask for the information described by this JSON Schema, one item at a time, using each property description:',
      JSON.stringify(options.parameters),
      `Whenever the caller gives a value, call ${NOTE_ANSWERS} with everything known so far. Once every required value is known, call ${SAVE_RESULT} with the values.`,
    ].join('\n'), options.history, changed);
    this.tools = [
      { name: SAVE_RESULT, description: 'Hand over the collected information once it is complete.', parameters: options.parameters },
      { name: NOTE_ANSWERS, description: 'Record the values known so far.', parameters: { type: 'object' } },
    ];
  }

  get outcome(): { status: 'valid' | 'invalid'; result: Record<string, unknown> } | null {
    return this.result ? { status: 'valid', result: this.result } : null;
  }

  partialResult(): Record<string, unknown> {
    return this.partial;
  }

  async opening(): Promise<Reply> {
    if (this.options.greeting) return this.say(this.options.greeting);
    return this.answer();
  }

  protected async answer(): Promise<Reply> {
    for (let round = 0; round < 4; round++) {
      const response = await this.llm.complete({ messages: this.messages, tools: this.tools, toolChoice: 'auto' });
      if (response.toolCalls.length === 0) return this.say(response.text);
      this.messages.push({ role: 'assistant', content: response.text || null, toolCalls: response.toolCalls });
      for (const call of response.toolCalls) {
        if (call.name === NOTE_ANSWERS && call.arguments && typeof call.arguments === 'object') {
          this.partial = { ...this.partial, ...(call.arguments as Record<string, unknown>) };
          this.options.partials();
          this.messages.push({ role: 'tool', toolCallId: call.id, content: 'noted' });
          continue;
        }
        if (call.name !== SAVE_RESULT) {
          this.messages.push({ role: 'tool', toolCallId: call.id, content: `There is no tool named ${call.name}.` });
          continue;
        }
        const check = validateJson(this.options.parameters, call.arguments);
        if (check.ok) {
          this.result = call.arguments as Record<string, unknown>;
          return this.say(this.options.endedSpeech ?? response.text, true);
        }
        this.invalidResults++;
        this.messages.push({ role: 'tool', toolCallId: call.id, content: `The result does not fit the schema: ${describeIssues(check.issues)}` });
        if (this.invalidResults >= MAX_INVALID_RESULTS) return this.say(this.options.endedSpeech ?? '', true);
      }
    }
    return this.say('');
  }
}

/** ai_assistant_start: a free conversation with the model, which may end the call politely. */
export class LlmAssistantTurns extends LlmTurns {
  constructor(
    llm: LlmProvider,
    private readonly options: { instructions?: string; greeting?: string; history: readonly ChatMessage[] },
    changed: () => void,
  ) {
    super(llm, [options.instructions ?? 'You are a helpful voice assistant.', SPOKEN_STYLE].join('\n'), options.history, changed);
  }

  async opening(): Promise<Reply> {
    return this.options.greeting ? this.say(this.options.greeting) : {};
  }

  /** Messages added by the application (ai_assistant_add_messages). */
  add(messages: readonly ChatMessage[]): void {
    this.messages.push(...messages);
    this.changed();
  }

  /** A reply to the conversation as it stands (after added messages). */
  respond(): Promise<Reply> {
    return this.answer();
  }

  /** A summary of the conversation, for call.conversation_insights.generated. */
  async summary(): Promise<string> {
    const response = await this.llm.complete({
      messages: [...this.messages, { role: 'user', content: 'Summarise this conversation in two sentences for a call log.' }],
    });
    return response.text.trim();
  }

  protected async answer(): Promise<Reply> {
    const response = await this.llm.complete({ messages: this.messages });
    return this.say(response.text);
  }
}
