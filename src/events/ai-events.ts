import type { LegRecord } from '../calls/leg-record.js';

export interface HistoryMessage {
  role: 'assistant' | 'user';
  content: string;
}

/** A SIP leg is reached by sip: URI; numbers are PSTN-like (virtual phones hold numbers). */
export function callingPartyType(leg: LegRecord): 'sip' | 'pstn' {
  return /^sips?:/.test(leg.from) || /^sips?:/.test(leg.to) ? 'sip' : 'pstn';
}

/** call.ai_gather.* and call.conversation* payloads, beyond the five fields every call event carries. */
export const aiEvents = {
  messageHistoryUpdated: (leg: LegRecord, history: readonly HistoryMessage[]) => ({
    type: 'call.ai_gather.message_history_updated',
    payload: { from: leg.from, to: leg.to, message_history: history },
  }),
  partialResults: (leg: LegRecord, partial: Record<string, unknown>, history: readonly HistoryMessage[]) => ({
    type: 'call.ai_gather.partial_results',
    payload: { from: leg.from, to: leg.to, partial_results: partial, message_history: history },
  }),
  gatherEnded: (leg: LegRecord, outcome: { status: 'valid' | 'invalid'; result: Record<string, unknown>; history: readonly HistoryMessage[] }) => ({
    type: 'call.ai_gather.ended',
    payload: { from: leg.from, to: leg.to, status: outcome.status, result: outcome.result, message_history: outcome.history },
  }),
  conversationEnded: (leg: LegRecord, c: {
    conversationId: string; assistantId: string; durationSec: number; reason: string | null;
    llmModel: string; sttModel: string; ttsProvider: string; ttsModelId: string; ttsVoiceId: string;
  }) => ({
    type: 'call.conversation.ended',
    payload: {
      from: leg.from, to: leg.to, conversation_id: c.conversationId, assistant_id: c.assistantId, duration_sec: c.durationSec,
      calling_party_type: callingPartyType(leg), llm_model: c.llmModel, stt_model: c.sttModel, tts_provider: c.ttsProvider,
      tts_model_id: c.ttsModelId, tts_voice_id: c.ttsVoiceId, reason: c.reason,
    },
  }),
  insightsGenerated: (leg: LegRecord, insightGroupId: string, results: readonly { insight_id: string; result: unknown }[]) => ({
    type: 'call.conversation_insights.generated',
    payload: { insight_group_id: insightGroupId, calling_party_type: callingPartyType(leg), results },
  }),
};
