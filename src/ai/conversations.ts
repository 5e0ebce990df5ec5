import { errors, fieldError } from '../api/errors.js';
import type { CallEngine, DigitCollector } from '../calls/call-engine.js';
import type { LegRecord } from '../calls/leg-record.js';
import { aiEvents } from '../events/ai-events.js';
import type { BuiltEvent } from '../events/catalogue.js';
import type { AudioSources } from '../media/sources.js';
import { SpeechRequestError } from '../media/sources.js';
import type { SttStream } from '../speech/stt/provider.js';
import type { Clock } from '../util/clock.js';
import type { IdSource } from '../util/ids.js';
import { FormTurns } from './form-turns.js';
import { FormEngine, FormError, formLanguageSupported, type JsonSchemaObject } from './forms/index.js';
import { LlmAssistantTurns, LlmGatherTurns, type HistoryMessage } from './llm-turns.js';
import { checkGatherParameters, fromTelnyxMessages, resolveLlm, type LlmServerConfig, type ResolvedLlm } from './llm/index.js';
import { VoiceConversation, type ExpectedSpeech, type TurnTiming } from './voice-conversation.js';

/** Speech to text as conversations need it. */
export interface ConversationStt {
  transcribe(pcm: Int16Array, options: { language: string; grammar?: readonly string[]; jsgf?: string }): Promise<{ text: string }>;
  /** Live transcription with the engine `transcribe` would use, or null when it transcribes whole turns only. */
  listen?(options: { language: string; grammar?: readonly string[]; jsgf?: string; signal: AbortSignal }): SttStream | null;
  /** The model reported as stt_model. */
  modelFor(language: string): string | null;
}

export interface ConversationsDeps {
  engine: CallEngine;
  sources: AudioSources;
  stt: ConversationStt;
  llm: LlmServerConfig | null;
  /** Silence after speech that ends a caller's turn; the UtteranceDetector's default when absent. */
  endOfTurnSilenceMs?: number;
  publish: (leg: LegRecord, event: BuiltEvent) => void;
  clock: Clock;
  ids: IdSource;
  log: (message: string, fields?: object) => void;
}

const DEFAULT_VOICE = 'Telnyx.KokoroTTS.af';
const DEFAULT_RESPONSE_TIMEOUT_MS = 10_000;
/** Conversations kept for inspection after they end. */
const RETAINED = 500;

export interface ConversationView {
  conversation_id: string;
  call_control_id: string;
  kind: 'gather' | 'assistant';
  state: 'active' | 'ended';
  llm_model: string;
  stt_model: string;
  message_history: HistoryMessage[];
  /** Per turn: end of the caller's speech → first audio of the reply, split by stage. */
  turns: { stt_mode: 'live' | 'whole' | 'none'; stt_ms: number; llm_ms: number; tts_ms: number; total_ms: number }[];
}

interface Active {
  id: string;
  kind: 'gather' | 'assistant';
  leg: LegRecord;
  conversation: VoiceConversation;
  startedMs: number;
  llmModel: string;
  sttModel: string;
  voice: string;
  timings: TurnTiming[];
  history: () => HistoryMessage[];
  assistant: LlmAssistantTurns | null;
  insightGroupId: string | null;
  /** `assistant.id` of the request, reported as assistant_id. */
  assistantId: string;
  ended: boolean;
  cleanup: (() => void)[];
}

/**
 * Spoken AI conversations on calls: gather_using_ai (a language model, or the offline form engine
 * when none is configured) and the AI assistant. Each runs a VoiceConversation on the leg's audio
 * and reports through the call.ai_gather.* and call.conversation* events.
 */
export class Conversations {
  private readonly byId = new Map<string, Active>();
  private readonly assistants = new Map<string, Active>();

  constructor(private readonly deps: ConversationsDeps) {}

  /** gather_using_ai; returns the conversation_id. Refuses a bad schema or an unusable setup with a 422. */
  gather(leg: LegRecord, body: Record<string, unknown>): string {
    const check = checkGatherParameters(body['parameters']);
    if (!check.ok) throw errors.validation(check.issues.map((issue) => fieldError.invalid(issue.pointer, issue.message)));
    const parameters = body['parameters'] as JsonSchemaObject;
    const language = typeof body['language'] === 'string' ? body['language'] : 'en-US';
    const voice = voiceOf(body);
    this.checkVoice(voice, language);
    const history = Array.isArray(body['message_history']) ? (body['message_history'] as unknown[]) : [];
    const llm = this.llmFor(body['assistant'], false);
    const id = this.deps.ids.uuid();
    let active: Active | null = null;
    const changed = (): void => {
      if (active && body['send_message_history_updates'] === true) this.deps.publish(leg, aiEvents.messageHistoryUpdated(leg, active.history()));
    };
    const partials = (partial: () => Record<string, unknown>): (() => void) => () => {
      if (active && body['send_partial_results'] === true) this.deps.publish(leg, aiEvents.partialResults(leg, partial(), active.history()));
    };
    let handler: FormTurns | LlmGatherTurns;
    if (llm) {
      const turns: LlmGatherTurns = new LlmGatherTurns(llm.provider, {
        parameters,
        ...(llm.instructions ? { instructions: llm.instructions } : {}),
        ...(typeof body['greeting'] === 'string' ? { greeting: body['greeting'] } : {}),
        ...(typeof body['gather_ended_speech'] === 'string' ? { endedSpeech: body['gather_ended_speech'] } : {}),
        history: fromTelnyxMessages(history),
        partials: partials(() => turns.partialResult()),
      }, changed);
      handler = turns;
    } else {
      if (!formLanguageSupported(language)) {
        throw errors.validation([fieldError.invalid('/language',
          `With no language model configured, gather_using_ai runs the offline form engine, which speaks English only. ${llmHint()}`)]);
      }
      let form: FormEngine;
      try {
        form = new FormEngine(parameters, {
          language,
          ...(typeof body['greeting'] === 'string' ? { greeting: body['greeting'] } : {}),
          ...(typeof body['gather_ended_speech'] === 'string' ? { endedSpeech: body['gather_ended_speech'] } : {}),
          messageHistory: historyMessages(history),
          now: () => this.deps.clock.now(),
        });
      } catch (error) {
        if (error instanceof FormError) throw errors.validation([fieldError.invalid('/parameters', error.message)]);
        throw error;
      }
      const turns: FormTurns = new FormTurns(form, () => {
        changed();
        partials(() => turns.partialResult())();
      });
      handler = turns;
    }
    active = this.run(id, 'gather', leg, handler, body, {
      voice, language, llmModel: llm?.model ?? 'switchboard/offline-form',
      onDone: () => {
        const outcome = handler.outcome;
        const record = active as Active;
        this.deps.publish(leg, aiEvents.gatherEnded(leg, {
          status: outcome?.status ?? 'invalid', result: outcome?.result ?? {}, history: record.history(),
        }));
        this.finish(record, 'completed');
      },
    });
    active.history = () => handler.history();
    return id;
  }

  /** ai_assistant_start; needs a language model. One assistant per leg (90061). */
  startAssistant(leg: LegRecord, body: Record<string, unknown>): string {
    if (this.assistants.has(leg.callControlId)) throw errors.assistantInProgress();
    const llm = this.llmFor(body['assistant'], true) as ResolvedLlm;
    const language = transcriptionLanguage(body);
    const voice = voiceOf(body);
    this.checkVoice(voice, language);
    const assistant = (typeof body['assistant'] === 'object' && body['assistant'] !== null ? body['assistant'] : {}) as Record<string, unknown>;
    const id = this.deps.ids.uuid();
    let active: Active | null = null;
    const turns = new LlmAssistantTurns(llm.provider, {
      ...(llm.instructions ? { instructions: llm.instructions } : {}),
      ...(typeof body['greeting'] === 'string' ? { greeting: body['greeting'] } : {}),
      history: fromTelnyxMessages(Array.isArray(body['message_history']) ? body['message_history'] : []),
    }, () => {
      if (active && body['send_message_history_updates'] === true) this.deps.publish(leg, aiEvents.messageHistoryUpdated(leg, active.history()));
    });
    active = this.run(id, 'assistant', leg, turns, body, {
      voice, language, llmModel: llm.model,
      onDone: () => this.finish(active as Active, 'assistant_ended'),
    });
    active.history = () => turns.history();
    active.assistant = turns;
    const insights = assistant['insight_settings'];
    if (insights && typeof insights === 'object') {
      const group = (insights as Record<string, unknown>)['insight_group_id'];
      active.insightGroupId = typeof group === 'string' ? group : 'default';
    }
    this.assistants.set(leg.callControlId, active);
    return id;
  }

  /** ai_assistant_stop: ends the leg's assistant; false when none runs. */
  stopAssistant(callControlId: string): boolean {
    const active = this.assistants.get(callControlId);
    if (!active) return false;
    this.finish(active, 'stopped');
    return true;
  }

  /** ai_assistant_add_messages: injects messages; a reply follows when asked for. False when no assistant runs. */
  addMessages(callControlId: string, messages: readonly unknown[], triggerResponse: boolean): boolean {
    const active = this.assistants.get(callControlId);
    if (!active?.assistant) return false;
    const turns = active.assistant;
    turns.add(fromTelnyxMessages(messages));
    if (triggerResponse) active.conversation.prompt(() => turns.respond());
    return true;
  }

  view(id: string): ConversationView | undefined {
    const active = this.byId.get(id);
    if (!active) return undefined;
    return {
      conversation_id: active.id, call_control_id: active.leg.callControlId, kind: active.kind, state: active.ended ? 'ended' : 'active',
      llm_model: active.llmModel, stt_model: active.sttModel, message_history: active.history(),
      turns: active.timings.map((t) => ({ stt_mode: t.sttMode, stt_ms: t.sttMs, llm_ms: t.thinkMs, tts_ms: t.ttsMs, total_ms: t.totalMs })),
    };
  }

  /** Turn latency over every conversation kept: where time goes, stage by stage. */
  latency(): Record<'stt_ms' | 'llm_ms' | 'tts_ms' | 'total_ms', { p50: number; p99: number }> & { turns: number } {
    const timings = [...this.byId.values()].flatMap((a) => a.timings);
    const pct = (values: number[], q: number): number => {
      if (values.length === 0) return 0;
      const sorted = [...values].sort((a, b) => a - b);
      return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
    };
    const stage = (pick: (t: TurnTiming) => number) => ({ p50: pct(timings.map(pick), 0.5), p99: pct(timings.map(pick), 0.99) });
    return { turns: timings.length, stt_ms: stage((t) => t.sttMs), llm_ms: stage((t) => t.thinkMs), tts_ms: stage((t) => t.ttsMs), total_ms: stage((t) => t.totalMs) };
  }

  private run(
    id: string, kind: 'gather' | 'assistant', leg: LegRecord, handler: FormTurns | LlmGatherTurns | LlmAssistantTurns,
    body: Record<string, unknown>, options: { voice: string; language: string; llmModel: string; onDone: () => void },
  ): Active {
    const { engine, stt, sources } = this.deps;
    const interruption = body['interruption_settings'];
    const interruptible = !(interruption && typeof interruption === 'object' && (interruption as Record<string, unknown>)['enable'] === false);
    const timeout = body['user_response_timeout_ms'];
    const timings: TurnTiming[] = [];
    const conversation = new VoiceConversation(handler, {
      clock: this.deps.clock,
      play: (request) => engine.play(leg.callControlId, request),
      speech: (request) => sources.prepareSpeech(request),
      transcribe: async (pcm, { language, expected }) => (await stt.transcribe(pcm, { language, ...grammarOf(expected) })).text,
      ...(stt.listen ? { listen: ({ language, expected, signal }) => stt.listen?.({ language, signal, ...grammarOf(expected) }) ?? null } : {}),
      ...(this.deps.endOfTurnSilenceMs !== undefined ? { endSilenceMs: this.deps.endOfTurnSilenceMs } : {}),
      voice: options.voice,
      language: options.language,
      interruptible,
      responseTimeoutMs: typeof timeout === 'number' ? timeout : DEFAULT_RESPONSE_TIMEOUT_MS,
      onTiming: (timing) => timings.push(timing),
      onDone: options.onDone,
      log: this.deps.log,
    });
    const active: Active = {
      id, kind, leg, conversation, startedMs: this.deps.clock.now(), llmModel: options.llmModel,
      sttModel: stt.modelFor(options.language) ?? 'none', voice: options.voice, timings, history: () => [],
      assistant: null, insightGroupId: null, ended: false, cleanup: [],
      assistantId: assistantIdOf(body['assistant']) ?? `${kind}-${id}`,
    };
    // The conversation takes the leg's keys (a running gather is cancelled) and listens to its audio.
    const collector: DigitCollector = {
      digit: (key) => conversation.key(key),
      stop: () => this.finish(active, 'cancelled'),
      hangup: () => this.finish(active, 'hangup'),
    };
    if (kind === 'gather') {
      engine.startCollector(leg.callControlId, () => collector);
      active.cleanup.push(() => engine.releaseCollector(leg.callControlId, collector));
    }
    active.cleanup.push(engine.addAudioTap(leg.callControlId, {
      frame: (inbound) => conversation.frame(inbound),
      closed: () => this.finish(active, 'hangup'),
    }));
    this.keep(active);
    conversation.start();
    return active;
  }

  /** The one way a conversation ends: stop it, free the leg, report call.conversation.ended. */
  private finish(active: Active, reason: string): boolean {
    if (active.ended) return false;
    active.ended = true;
    active.conversation.close();
    for (const undo of active.cleanup) undo();
    if (this.assistants.get(active.leg.callControlId) === active) this.assistants.delete(active.leg.callControlId);
    const leg = this.deps.engine.find(active.leg.callControlId) ?? active.leg;
    this.deps.publish(leg, aiEvents.conversationEnded(leg, {
      conversationId: active.id,
      assistantId: active.assistantId,
      durationSec: Math.round((this.deps.clock.now() - active.startedMs) / 1000),
      reason: reason === 'hangup' ? 'customer_disconnect' : reason,
      llmModel: active.llmModel, sttModel: active.sttModel,
      ttsProvider: 'switchboard', ttsModelId: 'local', ttsVoiceId: active.voice,
    }));
    if (active.insightGroupId && active.assistant) void this.insights(active, leg);
    return true;
  }

  private async insights(active: Active, leg: LegRecord): Promise<void> {
    try {
      const summary = await (active.assistant as LlmAssistantTurns).summary();
      this.deps.publish(leg, aiEvents.insightsGenerated(leg, active.insightGroupId as string, [{ insight_id: 'summary', result: summary }]));
    } catch (error) {
      this.deps.log('conversation insights failed', { conversation_id: active.id, error: String(error) });
    }
  }

  private keep(active: Active): void {
    this.byId.set(active.id, active);
    if (this.byId.size <= RETAINED) return;
    for (const [id, old] of this.byId) {
      if (old.ended) {
        this.byId.delete(id);
        return;
      }
    }
  }

  /** A language model for this request, or null (gather) / a 422 saying how to configure one (assistant). */
  private llmFor(assistant: unknown, required: boolean): ResolvedLlm | null {
    if (!this.deps.llm?.baseUrl && !required) return null;
    const resolution = resolveLlm(this.deps.llm, assistant);
    if (resolution.ok) return resolution.value;
    if (!required && resolution.error.code === 'not_configured' && !this.deps.llm?.baseUrl) return null;
    throw errors.validation([fieldError.invalid(resolution.error.pointer ?? '/assistant', resolution.error.message)]);
  }

  private checkVoice(voice: string, language: string): void {
    try {
      this.deps.sources.prepareSpeech({ payload: '.', payloadType: 'text', voice, language });
    } catch (error) {
      if (error instanceof SpeechRequestError) throw errors.validation([fieldError.invalid(error.pointer === '/language' ? '/language' : '/voice', error.message)]);
      throw error;
    }
  }
}

function assistantIdOf(assistant: unknown): string | undefined {
  const id = assistant && typeof assistant === 'object' ? (assistant as Record<string, unknown>)['id'] : undefined;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

function voiceOf(body: Record<string, unknown>): string {
  return typeof body['voice'] === 'string' ? body['voice'] : DEFAULT_VOICE;
}

function transcriptionLanguage(body: Record<string, unknown>): string {
  const transcription = body['transcription'];
  const language = transcription && typeof transcription === 'object' ? (transcription as Record<string, unknown>)['language'] : undefined;
  return typeof language === 'string' && language !== 'auto' ? language : 'en-US';
}

function historyMessages(history: readonly unknown[]): HistoryMessage[] {
  return history.flatMap((m) => {
    if (!m || typeof m !== 'object') return [];
    const { role, content } = m as Record<string, unknown>;
    return (role === 'assistant' || role === 'user') && typeof content === 'string' ? [{ role, content }] : [];
  });
}

function grammarOf(expected: ExpectedSpeech | undefined): { grammar?: readonly string[]; jsgf?: string } {
  if (!expected) return {};
  return 'phrases' in expected ? { grammar: expected.phrases } : { jsgf: expected.jsgf };
}

function llmHint(): string {
  return 'Configure an OpenAI-compatible language model (ai.llm.baseUrl and ai.llm.model in switchboard.json, or SWITCHBOARD_LLM_BASE_URL and SWITCHBOARD_LLM_MODEL) for other languages.';
}
