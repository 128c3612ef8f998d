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
  content: row.content ?? null,
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
  mediaText: row.mediaText,
  mediaStatus: row.mediaStatus,
  mediaFailure: row.mediaFailure,
  mediaFilename: documentFilename(row.raw),
});

/** A document message's `document.filename` in Meta's payload. */
function documentFilename(raw: unknown): string | null {
  const document = (raw as { document?: { filename?: unknown } } | null)
    ?.document;
  return typeof document?.filename === 'string' ? document.filename : null;
}

/**
 * Columns of a message under the names of `Message`, for statements that
 * return messages as JSON (one round trip for several lists). `alias` is the
 * table's alias in the statement, or empty in a RETURNING clause.
 */
export function messageJsonColumns(alias = ''): string {
  const of = alias ? `${alias}.` : '';
  return [
    'id',
    'conversation_id as "conversationId"',
    'direction',
    'author',
    'wamid',
    'kind',
    'text',
    'media_id as "mediaId"',
    'content',
    'status',
    'error',
    'sent_at as "sentAt"',
    'answered_at as "answeredAt"',
    'reply_action as "replyAction"',
    'turn_key as "turnKey"',
    'chunk_index as "chunkIndex"',
    'reply_to_id as "replyToId"',
    'accepted_at as "acceptedAt"',
    'created_at as "createdAt"',
    'llm_model as "llmModel"',
    'prompt_tokens as "promptTokens"',
    'completion_tokens as "completionTokens"',
    'media_text as "mediaText"',
    'media_status as "mediaStatus"',
    'media_failure as "mediaFailure"',
  ]
    .map((column) => of + column)
    .concat(`${of}raw->'document'->>'filename' as "mediaFilename"`)
    .join(', ');
}

/** A row as JSON carries it: timestamps become strings. */
export type Json<T> = {
  [K in keyof T]: T[K] extends Date
    ? string
    : T[K] extends Date | null
      ? string | null
      : T[K];
};

const dateOrNull = (value: string | null) => (value ? new Date(value) : null);

/** A message selected with `messageJsonColumns`, as PostgreSQL's JSON gives it. */
export const messageFromJson = (json: Json<Message>): Message => ({
  ...json,
  error: json.error ?? null,
  sentAt: new Date(json.sentAt),
  answeredAt: dateOrNull(json.answeredAt),
  acceptedAt: dateOrNull(json.acceptedAt),
  createdAt: new Date(json.createdAt),
});

export const conversationFromJson = (
  json: Json<Conversation>,
): Conversation => ({
  ...json,
  stateChangedAt: new Date(json.stateChangedAt),
  handoffUntil: dateOrNull(json.handoffUntil),
  startedAt: new Date(json.startedAt),
  lastActivityAt: new Date(json.lastActivityAt),
});
