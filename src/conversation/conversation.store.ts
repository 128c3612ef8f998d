import type { Conversation, Message, StateChange } from './conversation.types';

/** Port: conversations, their lifecycle and their recent messages. */
export abstract class ConversationStore {
  abstract getConversation(id: string): Promise<Conversation | null>;

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

  /**
   * Handoffs whose auto-resume time has passed go back to the bot, in one
   * update (so with several instances each is resumed once); returns their ids.
   */
  abstract resumeDueHandoffs(now: Date): Promise<string[]>;

  /** Expires active conversations idle since before `cutoff`; returns how many. */
  abstract expireIdle(cutoff: Date, now: Date): Promise<number>;

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
}
