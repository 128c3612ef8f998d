import type { ToolCall, ToolDefinition } from '../../llm/llm.provider';

/** The tool the model calls when the customer wants a person. */
export const HANDOFF_TOOL: ToolDefinition = {
  name: 'request_human',
  description:
    'Hand the conversation to a human member of staff. Call this only when the customer clearly asks to talk to a person, or when they are upset and a person is needed.',
  parameters: {
    type: 'object',
    properties: {
      reason: {
        type: 'string',
        description: 'One short sentence on why a person is needed',
      },
    },
    required: [],
    additionalProperties: false,
  },
};

/** The handoff the model asked for, if it called the tool: its reason (or null). */
export function findHandoffCall(
  calls: ToolCall[],
): { reason: string | null } | null {
  const call = calls.find((c) => c.name === HANDOFF_TOOL.name);
  if (!call) return null;
  try {
    const args = JSON.parse(call.arguments || '{}') as { reason?: unknown };
    return { reason: typeof args.reason === 'string' ? args.reason : null };
  } catch {
    return { reason: null };
  }
}
