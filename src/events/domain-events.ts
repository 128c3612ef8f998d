import type {
  ConversationState,
  EventActor,
} from '../conversation/conversation.types';

/** Webhook events stored together (one group commit). */
export interface MessagesStoredEvent {
  type: 'messages.stored';
  stored: number;
  duplicates: number;
  statuses: number;
  errors: number;
  /** Conversations that got messages a turn must answer. */
  conversationIds: string[];
}

/** A conversation went to a person, or back to the bot. */
export interface ConversationStateChangedEvent {
  type: 'conversation.state-changed';
  conversationId: string;
  state: ConversationState;
  actor: EventActor;
  reason: string | null;
}

/** The Graph API accepted an outbound message, or it failed for good. */
export interface MessageSendSettledEvent {
  type: 'message.sent' | 'message.failed';
  conversationId: string;
  messageId: number;
  author: string;
  wamid: string | null;
  /** With `message.failed`: Meta's error code, or the failure's kind. */
  code: string | null;
}

/** A turn ended. */
export interface TurnDoneEvent {
  type: 'turn.done';
  conversationId: string;
  /** replied | handoff | bot | fallback | notice | throttled | raced | … */
  outcome: string;
  /** From start to the last chunk sent; null for a turn that sent nothing. */
  durationMs: number | null;
}

/** The LLM answered (with its token use), or failed and the fallback went out. */
export interface LlmCalledEvent {
  type: 'llm.called';
  promptTokens: number;
  completionTokens: number;
  /** Why it failed; null when it answered. */
  failure: string | null;
}

/** A turn could not understand an inbound media file (download, type, transcription, extraction). */
export interface MediaFailedEvent {
  type: 'media.failed';
  conversationId: string;
  messageId: number;
  /** The message kind: audio, image, document, sticker. */
  kind: string;
  /** download-failed | too-large | timeout | wrong-type | unsupported-format | transcription-failed | … */
  reason: string;
}

/** A tool the model called returned (or failed). */
export interface ToolCalledEvent {
  type: 'tool.called';
  tool: string;
  ok: boolean;
  durationMs: number;
}

export type DomainEvent =
  | MessagesStoredEvent
  | ConversationStateChangedEvent
  | MessageSendSettledEvent
  | TurnDoneEvent
  | LlmCalledEvent
  | MediaFailedEvent
  | ToolCalledEvent;

export type DomainEventHandler = (event: DomainEvent) => void;

/**
 * Port: domain events are published once, here; metrics, logs and
 * whatever reacts to a change subscribe, instead of each service calling
 * each of them by hand. Delivery is synchronous and in-process; a handler
 * that throws is logged and does not reach the publisher.
 */
export abstract class DomainEvents {
  abstract publish(event: DomainEvent): void;
  /** Returns a function that unsubscribes. */
  abstract subscribe(handler: DomainEventHandler): () => void;
}
