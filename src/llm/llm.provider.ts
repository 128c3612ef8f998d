export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface LlmReply {
  text: string;
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
  /** Resolves with a non-empty reply or rejects with an LlmError. */
  abstract complete(messages: ChatMessage[]): Promise<LlmReply>;
}
