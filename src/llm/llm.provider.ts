export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface LlmReply {
  /** The answer; empty only when `handoff` is set. */
  text: string;
  /** Set when the model called the request_human tool. */
  handoff: { reason: string | null } | null;
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
   * Resolves with a non-empty reply (or a handoff request, when
   * `offerHandoff` lets the model ask for a person) or rejects with an
   * LlmError.
   */
  abstract complete(
    messages: ChatMessage[],
    options?: { offerHandoff?: boolean },
  ): Promise<LlmReply>;
}
