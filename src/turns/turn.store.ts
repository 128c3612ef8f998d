import type {
  MediaResult,
  Message,
  OutboundDraft,
  StateChange,
  TurnSnapshot,
} from '../conversation/conversation.types';

/** Port: what a turn reads and records. */
export abstract class TurnStore {
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

  /**
   * Atomically marks `answeredIds` answered and records the reply's chunks as
   * outbound messages already claimed for sending (`sending`): the caller
   * sends them next (and, with `handoff`, the conversation goes to a person
   * in the same transaction). Returns null, and changes nothing, when
   * another turn answered any of those messages first or an operator has
   * taken the conversation over.
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
   * Stores what a turn understood of inbound media (a transcript, a
   * document's text, a failure), before it composes, so a turn run again
   * reads it instead of downloading and transcribing again.
   */
  abstract saveMediaResults(results: MediaResult[]): Promise<void>;

  /**
   * Conversations with unanswered inbound messages (outside a handoff) or
   * unsent outbound ones, recorded before `recordedBefore`.
   */
  abstract findConversationsWithPendingWork(
    recordedBefore?: Date,
  ): Promise<string[]>;
}
