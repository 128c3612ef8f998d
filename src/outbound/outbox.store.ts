import type {
  Message,
  OutboundDraft,
  StoredError,
} from '../conversation/conversation.types';

/** Port: outbound messages from recorded to sent (or failed). */
export abstract class OutboxStore {
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

  /** Outbound messages recorded but not yet handed to the Graph API, in order. */
  abstract getUnsent(conversationId: string): Promise<Message[]>;

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
}
