import type {
  ConversationState,
  MediaStatus,
  OutboundContent,
  MessageAuthor,
  MessageDirection,
  MessageStatus,
  StoredError,
} from '../database/schema';

export type {
  ConversationState,
  MediaStatus,
  OutboundContent,
  MessageAuthor,
  MessageDirection,
  MessageStatus,
  StoredError,
};

/**
 * How the bot answers an inbound message: `llm`, the `media-notice`, or
 * not at all (`none`: nothing to answer). `not-served`: the message reached
 * a business number this app does not answer; it is stored, shown, settled
 * at once and kept out of the context of later turns.
 */
export type ReplyAction = 'llm' | 'media-notice' | 'none' | 'not-served';

export interface Conversation {
  id: string;
  customerWaId: string;
  customerName: string | null;
  state: ConversationState;
  stateReason: string | null;
  stateChangedAt: Date;
  handoffUntil: Date | null;
  startedAt: Date;
  lastActivityAt: Date;
}

export interface Message {
  id: number;
  conversationId: string;
  direction: MessageDirection;
  author: MessageAuthor;
  wamid: string | null;
  kind: string;
  text: string | null;
  mediaId: string | null;
  /** Outbound media, template or interactive messages: what is sent (`text` is how it reads). */
  content: OutboundContent | null;
  status: MessageStatus;
  error: StoredError | null;
  sentAt: Date;
  answeredAt: Date | null;
  replyAction: ReplyAction | null;
  turnKey: string | null;
  chunkIndex: number | null;
  replyToId: number | null;
  acceptedAt: Date | null;
  createdAt: Date;
  llmModel: string | null;
  promptTokens: number | null;
  completionTokens: number | null;
  /** Inbound media: a transcript, a document's text, or an image's caption, once understood. */
  mediaText: string | null;
  /** Inbound media: null until a turn has looked at it. */
  mediaStatus: MediaStatus | null;
  /** Why understanding the media failed. */
  mediaFailure: string | null;
  /** An inbound document's file name, as the customer's phone gave it. */
  mediaFilename: string | null;
}

/** What understanding one inbound message's media gave, stored on the message. */
export interface MediaResult {
  messageId: number;
  status: MediaStatus;
  text: string | null;
  failure: string | null;
}

/** What a turn reads about its conversation, in one consistent read. */
export interface TurnSnapshot {
  conversation: Conversation;
  /** Outbound messages recorded but not yet sent (`pending` or `sending`), in order. */
  unsent: Message[];
  /** Inbound messages no turn has answered yet, oldest first. */
  unanswered: Message[];
  /**
   * The context: the last messages with text, in the order the service
   * recorded them, that are neither unanswered nor failed.
   */
  history: Message[];
  /** When each turn that replied to this customer since the given time started, oldest first. */
  recentTurnTimes: Date[];
}

/** A message a turn or an operator is about to send. */
export interface OutboundDraft {
  author: Exclude<MessageAuthor, 'customer'>;
  /** What the message says, as the context of later turns reads it. */
  text: string;
  /** A media, template or interactive message to send instead of `text`. */
  content?: OutboundContent;
  llm?: {
    model: string;
    promptTokens: number | null;
    completionTokens: number | null;
  };
}

export type EventActor = 'operator' | 'customer' | 'system';

export interface StateChange {
  state: 'active' | 'handoff';
  actor: EventActor;
  reason: string | null;
  /** With `handoff`: give the conversation back to the bot at this time. */
  handoffUntil?: Date | null;
}
