import type { TurnStep } from '../turns/tool-journal';
import type {
  Conversation,
  ConversationState,
  Message,
} from '../conversation/conversation.types';

export interface ConversationSummary extends Conversation {
  messageCount: number;
  unansweredCount: number;
}

export interface ConversationEvent {
  type: string;
  actor: string;
  reason: string | null;
  at: Date;
}

export interface Page<T> {
  items: T[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

export interface ConversationFilter {
  state?: ConversationState;
  /** Exact wa_id digits. */
  customerWaId?: string;
  /** Part of the customer's profile name, any case. */
  customerName?: string;
  limit: number;
  cursor?: string;
}

export interface Stats {
  from: Date;
  to: Date;
  inboundMessages: number;
  outboundMessages: number;
  conversationsOpened: number;
  handoffs: number;
  fallbackReplies: number;
  llmTokens: { prompt: number; completion: number; total: number };
  /** From a customer's message arriving to the Graph API accepting the reply. */
  replyLatencyMs: {
    median: number | null;
    p95: number | null;
    samples: number;
  };
  sendFailures: Array<{ code: string; count: number }>;
}

/** Port: the read side operators look at (inbox, history, analytics). */
export abstract class InboxQueries {
  abstract listConversations(
    filter: ConversationFilter,
  ): Promise<Page<ConversationSummary>>;
  abstract getConversation(
    id: string,
  ): Promise<(ConversationSummary & { events: ConversationEvent[] }) | null>;
  /**
   * A page of a conversation's messages, with what each reply's turn did
   * before it answered (on the reply's first message; empty otherwise).
   */
  abstract listMessages(
    conversationId: string,
    page: { limit: number; cursor?: string },
  ): Promise<Page<Message & { steps: TurnStep[] }>>;
  abstract stats(from: Date, to: Date): Promise<Stats>;
}

export class InvalidCursorError extends Error {}
