/** A piece of a user message: text, or an image (a data URI or an http(s) URL). */
export type ContentPart =
  { type: 'text'; text: string } | { type: 'image'; url: string };

/** A call the model asked for. `arguments` is the model's JSON text, unparsed. */
export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

export type ChatMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string | ContentPart[] }
  | { role: 'assistant'; content: string | null; toolCalls?: ToolCall[] }
  | { role: 'tool'; toolCallId: string; content: string };

/** A tool the model may call: a name, what it does, and its JSON-Schema parameters. */
export interface ToolDefinition {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

export interface LlmReply {
  /** The answer; may be empty when the model only called tools. */
  text: string;
  /** The tools the model called, in order; empty when it only answered. */
  toolCalls: ToolCall[];
  model: string;
  promptTokens: number | null;
  completionTokens: number | null;
}

export type LlmFailureReason =
  | 'not-configured'
  | 'timeout'
  | 'rate-limited'
  | 'http-error'
  | 'network'
  | 'empty-answer';

export class LlmError extends Error {
  constructor(
    readonly reason: LlmFailureReason,
    message: string,
    readonly status: number | null = null,
  ) {
    super(message);
    this.name = 'LlmError';
  }
}

/** Port: turns a conversation into the assistant's next message. */
export abstract class LlmProvider {
  abstract readonly configured: boolean;
  abstract readonly model: string;
  /**
   * Resolves with the model's reply — text, tool calls, or both, never
   * neither — or rejects with an LlmError. `tools` are offered to the model;
   * with `toolChoice: 'none'` it is told to answer in text without calling any.
   */
  abstract complete(
    messages: ChatMessage[],
    options?: { tools?: ToolDefinition[]; toolChoice?: 'auto' | 'none' },
  ): Promise<LlmReply>;
}
