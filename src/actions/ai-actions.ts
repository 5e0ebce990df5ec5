import type { Conversations } from '../ai/conversations.js';
import type { CallAction } from '../calls/command-router.js';

const ok = { result: 'ok' };

/** gather_using_ai and the AI assistant: ai_assistant_start, ai_assistant_stop, ai_assistant_add_messages. */
export function aiActions(conversations: Conversations): Record<string, CallAction> {
  return {
    gather_using_ai: {
      precondition: 'answered',
      run: ({ leg, body }) => ({ ...ok, conversation_id: conversations.gather(leg, body) }),
    },
    ai_assistant_start: {
      precondition: 'answered',
      run: ({ leg, body }) => ({ ...ok, conversation_id: conversations.startAssistant(leg, body) }),
    },
    ai_assistant_stop: {
      precondition: 'answered',
      run: ({ leg }) => {
        // Stopping when no assistant runs is harmless, as for gather_stop.
        conversations.stopAssistant(leg.callControlId);
        return { ...ok };
      },
    },
    ai_assistant_add_messages: {
      precondition: 'answered',
      run: ({ leg, body }) => {
        const messages = Array.isArray(body['messages']) ? body['messages'] : [];
        conversations.addMessages(leg.callControlId, messages, body['trigger_response'] === true);
        return { ...ok };
      },
    },
  };
}
