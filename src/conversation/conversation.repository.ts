import type {
  Conversation,
  IngestBatch,
  IngestResult,
  Message,
  OutboundDraft,
  StoredError,
} from './conversation.types';

/**
 * Port: conversations and their messages. Transactions stay inside the
 * adapter; every method is one unit of work.
 */
export abstract class ConversationRepository {
  /**
   * Stores what webhooks carried in one transaction: new inbound messages
   * (a known wamid inserts nothing), the customer's open conversation (idle
   * ones expire first), status updates (never downgraded) and account errors.
   */
  abstract ingest(
    batch: IngestBatch,
    now: Date,
    sessionTimeoutMs: number,
  ): Promise<IngestResult>;

  abstract getConversation(id: string): Promise<Conversation | null>;

  /** Conversations with unanswered inbound messages or unsent outbound ones. */
  abstract findConversationsWithPendingWork(): Promise<string[]>;

  /** Inbound messages no turn has answered yet, oldest first. */
  abstract getUnanswered(conversationId: string): Promise<Message[]>;

  /** Outbound messages recorded but not yet handed to the Graph API, in order. */
  abstract getUnsent(conversationId: string): Promise<Message[]>;

  /** The last `limit` messages with text, oldest first, that are not among `excludeIds` and did not fail. */
  abstract getRecentMessages(
    conversationId: string,
    limit: number,
    excludeIds?: number[],
  ): Promise<Message[]>;

  /**
   * Atomically marks `answeredIds` answered and records the reply's chunks as
   * pending outbound messages. Returns null (and changes nothing) when
   * another turn answered any of those messages first.
   */
  abstract recordReply(
    conversationId: string,
    answeredIds: number[],
    turnKey: string,
    drafts: OutboundDraft[],
    now: Date,
  ): Promise<Message[] | null>;

  /** Marks inbound messages as settled without a reply (e.g. the bot is paused). */
  abstract markAnswered(ids: number[], now: Date): Promise<void>;

  /** When each turn that replied to this customer since `since` started, oldest first. */
  abstract recentTurnTimes(customerWaId: string, since: Date): Promise<Date[]>;

  /** An outbound message is about to be handed to the Graph API. */
  abstract markSending(messageId: number, now: Date): Promise<void>;

  /** The Graph API accepted the message; statuses that raced ahead are applied. */
  abstract markSent(messageId: number, wamid: string, now: Date): Promise<void>;

  abstract markFailed(
    messageId: number,
    error: StoredError,
    now: Date,
  ): Promise<void>;

  /** Expires active conversations idle since before `cutoff`; returns how many. */
  abstract expireIdle(cutoff: Date, now: Date): Promise<number>;
}
