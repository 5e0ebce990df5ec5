/**
 * Between Telnyx message lists and chat messages: `message_history` of ai_assistant_start and
 * gather_using_ai, `messages` of ai_assistant_add_messages (roles user, assistant, tool, system,
 * developer), and the `message_history` reported in `call.ai_gather.*` events (user and
 * assistant turns with their text).
 */
import type { ChatMessage } from './provider.js';

/** A Telnyx message as reported in events. */
export interface TelnyxHistoryMessage {
  role: 'assistant' | 'user';
  content: string;
}

/**
 * Chat messages for request messages (already schema-checked; anything unusable is skipped).
 * `developer` messages become `system` ones, which every OpenAI-compatible server knows. Tool
 * calls in Telnyx history carry no arguments; they are sent as `{}` unless given.
 */
export function fromTelnyxMessages(messages: readonly unknown[] | undefined): ChatMessage[] {
  const out: ChatMessage[] = [];
  for (const item of messages ?? []) {
    if (!isRecord(item)) continue;
    const content = typeof item.content === 'string' ? item.content : undefined;
    switch (item.role) {
      case 'system':
      case 'developer':
        if (content !== undefined) out.push({ role: 'system', content });
        break;
      case 'user':
        if (content !== undefined) out.push({ role: 'user', content });
        break;
      case 'tool':
        if (content !== undefined && typeof item.tool_call_id === 'string') out.push({ role: 'tool', toolCallId: item.tool_call_id, content });
        break;
      case 'assistant': {
        const calls = Array.isArray(item.tool_calls) ? item.tool_calls.flatMap(toolCallOf) : [];
        if (content === undefined && calls.length === 0) break;
        out.push(calls.length > 0 ? { role: 'assistant', content: content ?? null, toolCalls: calls } : { role: 'assistant', content: content ?? '' });
        break;
      }
      default:
        break;
    }
  }
  return out;
}

function toolCallOf(call: unknown): { id: string; name: string; arguments: unknown; rawArguments?: string }[] {
  if (!isRecord(call) || typeof call.id !== 'string' || !isRecord(call.function) || typeof call.function.name !== 'string') return [];
  const args = call.function.arguments;
  if (typeof args === 'string') {
    try {
      return [{ id: call.id, name: call.function.name, arguments: JSON.parse(args) as unknown, rawArguments: args }];
    } catch {
      return [{ id: call.id, name: call.function.name, arguments: null, rawArguments: args }];
    }
  }
  return [{ id: call.id, name: call.function.name, arguments: args ?? {} }];
}

/** The user and assistant turns that said something, as events report them. */
export function toTelnyxHistory(messages: readonly ChatMessage[]): TelnyxHistoryMessage[] {
  const history: TelnyxHistoryMessage[] = [];
  for (const message of messages) {
    if (message.role !== 'user' && message.role !== 'assistant') continue;
    const content = message.content ?? '';
    if (content.trim() !== '') history.push({ role: message.role, content });
  }
  return history;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
