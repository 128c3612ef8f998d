import type { ConversationRow, MessageRow } from '../database/schema';
import type { Conversation, Message } from './conversation.types';

/** Rows to domain types, at the edge of the Drizzle adapters. */
export const toConversation = (row: ConversationRow): Conversation => ({
  id: row.id,
  customerWaId: row.customerWaId,
  customerName: row.customerName,
  state: row.state,
  stateReason: row.stateReason,
  stateChangedAt: row.stateChangedAt,
  handoffUntil: row.handoffUntil,
  startedAt: row.startedAt,
  lastActivityAt: row.lastActivityAt,
});

export const toMessage = (row: MessageRow): Message => ({
  id: row.id,
  conversationId: row.conversationId,
  direction: row.direction,
  author: row.author,
  wamid: row.wamid,
  kind: row.kind,
  text: row.text,
  mediaId: row.mediaId,
  status: row.status,
  error: row.error ?? null,
  sentAt: row.sentAt,
  answeredAt: row.answeredAt,
  replyAction: (row.replyAction as Message['replyAction']) ?? null,
  turnKey: row.turnKey,
  chunkIndex: row.chunkIndex,
  replyToId: row.replyToId,
  acceptedAt: row.acceptedAt,
  createdAt: row.createdAt,
  llmModel: row.llmModel,
  promptTokens: row.promptTokens,
  completionTokens: row.completionTokens,
});
