import type {
  Conversation,
  IngestBatch,
  IngestResult,
  Message,
  OutboundDraft,
  StateChange,
  StoredError,
  TurnSnapshot,
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

  /**
   * Conversations with unanswered inbound messages (outside a handoff) or
   * unsent outbound ones, recorded before `recordedBefore`.
   */
  abstract findConversationsWithPendingWork(
    recordedBefore?: Date,
  ): Promise<string[]>;

  /**
   * Everything a turn needs to decide and to build its prompt, read at once:
   * the conversation, its unsent and unanswered messages, the last
   * `historyLimit` messages of context, and the customer's turns since
   * `turnsSince` (flood control). Null when the conversation does not exist.
   */
  abstract loadTurn(
    conversationId: string,
    historyLimit: number,
    turnsSince: Date,
  ): Promise<TurnSnapshot | null>;

  /** Inbound messages no turn has answered yet, oldest first. */
  abstract getUnanswered(conversationId: string): Promise<Message[]>;

  /** Outbound messages recorded but not yet handed to the Graph API, in order. */
  abstract getUnsent(conversationId: string): Promise<Message[]>;

  /**
   * The last `limit` messages with text, in the order the service recorded
   * them (Meta's timestamps have only second resolution), that are not among
   * `excludeIds` and did not fail.
   */
  abstract getRecentMessages(
    conversationId: string,
    limit: number,
    excludeIds?: number[],
  ): Promise<Message[]>;

  /**
   * Atomically marks `answeredIds` answered and records the reply's chunks as
   * outbound messages already claimed for sending (`sending`, as
   * `claimForSending` would leave them): the caller sends them next (and,
   * with `handoff`, hands the conversation to a person). Returns null (and
   * changes nothing) when another turn answered any of those messages first.
   */
  abstract recordReply(
    conversationId: string,
    answeredIds: number[],
    turnKey: string,
    drafts: OutboundDraft[],
    now: Date,
    handoff?: StateChange,
  ): Promise<Message[] | null>;

  /**
   * Records messages from an operator (or a fixed notice) as pending outbound
   * messages, settling the customer's unanswered messages received up to
   * `now`: a person has answered them.
   */
  abstract recordOperatorMessages(
    conversationId: string,
    batchKey: string,
    drafts: OutboundDraft[],
    now: Date,
  ): Promise<Message[]>;

  /** Settles the inbound messages received at or before `upTo` without a reply. */
  abstract settleInbound(
    conversationId: string,
    upTo: Date,
    now: Date,
  ): Promise<void>;

  /** The customer's open conversation, unless it has been idle past the timeout. */
  abstract findOpenConversation(
    customerWaId: string,
    now: Date,
    sessionTimeoutMs: number,
  ): Promise<Conversation | null>;

  /** The open conversation, or a new one (expiring an idle one first). */
  abstract openConversation(
    customerWaId: string,
    now: Date,
    sessionTimeoutMs: number,
  ): Promise<Conversation>;

  /** Changes a conversation's state and records who did it and why. */
  abstract changeState(
    conversationId: string,
    change: StateChange,
    now: Date,
  ): Promise<Conversation>;

  /** Handoffs whose auto-resume time has passed go back to the bot; returns their ids. */
  abstract resumeDueHandoffs(now: Date): Promise<string[]>;

  /**
   * Claims a pending outbound message for sending (status `sending`).
   * Resolves false when someone else claimed it first, so no message is
   * handed to the Graph API twice.
   */
  abstract claimForSending(messageId: number, now: Date): Promise<boolean>;

  /**
   * Puts messages left in `sending` since before `before` (their sender died
   * mid-send) back to `pending`; returns them.
   */
  abstract releaseStaleSends(before: Date): Promise<Message[]>;

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
