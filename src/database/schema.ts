import { sql } from 'drizzle-orm';
import {
  bigint,
  customType,
  bigserial,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  smallint,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import type { OutboundMessage } from '../whatsapp/outbound-message';

/** An outbound message that is not plain text, stored as it is sent. */
export type OutboundContent = Exclude<OutboundMessage, { type: 'text' }>;

export type ConversationState = 'active' | 'handoff' | 'expired';
export type MessageDirection = 'inbound' | 'outbound';
/** Who wrote a message: the customer, the LLM, the fallback text, a fixed notice, or an operator. */
export type MessageAuthor =
  'customer' | 'bot' | 'fallback' | 'notice' | 'operator';
/**
 * Inbound: `received`. Outbound: `pending` (recorded, not sent yet), `sending`
 * (handed to the Graph API), then Meta's `sent` < `delivered` < `read`
 * (`played` for voice), or `failed` (final).
 */
export type MessageStatus =
  | 'received'
  | 'pending'
  | 'sending'
  | 'sent'
  | 'delivered'
  | 'read'
  | 'played'
  | 'failed';

/** What became of an inbound media file: understood, failed, or not looked at (vision off, video). */
export type MediaStatus = 'understood' | 'failed' | 'skipped';

export interface StoredError {
  code: number | string | null;
  title: string | null;
  message: string | null;
  details: string | null;
}

const createdAt = () =>
  timestamp('created_at', { withTimezone: true }).notNull().defaultNow();

export const conversations = pgTable(
  'conversations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    customerWaId: text('customer_wa_id').notNull(),
    customerName: text('customer_name'),
    state: text('state').$type<ConversationState>().notNull().default('active'),
    stateReason: text('state_reason'),
    stateChangedAt: timestamp('state_changed_at', { withTimezone: true })
      .notNull()
      .defaultNow(),
    handoffUntil: timestamp('handoff_until', { withTimezone: true }),
    startedAt: timestamp('started_at', { withTimezone: true })
      .notNull()
      .defaultNow(),
    lastActivityAt: timestamp('last_activity_at', { withTimezone: true })
      .notNull()
      .defaultNow(),
  },
  (t) => [
    // At most one open conversation per customer: concurrent ingests cannot
    // open two.
    uniqueIndex('conversations_open_customer_uq')
      .on(t.customerWaId)
      .where(sql`${t.state} <> 'expired'`),
    index('conversations_customer_idx').on(t.customerWaId, t.startedAt),
    index('conversations_state_activity_idx').on(t.state, t.lastActivityAt),
    index('conversations_activity_idx').on(t.lastActivityAt, t.id),
    index('conversations_started_idx').on(t.startedAt),
  ],
);

export const messages = pgTable(
  'messages',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    conversationId: uuid('conversation_id')
      .notNull()
      .references(() => conversations.id),
    direction: text('direction').$type<MessageDirection>().notNull(),
    author: text('author').$type<MessageAuthor>().notNull(),
    wamid: text('wamid'),
    kind: text('kind').notNull(),
    text: text('text'),
    mediaId: text('media_id'),
    raw: jsonb('raw'),
    /** Outbound messages other than text: the message as it is sent (media, template, interactive). */
    content: jsonb('content').$type<OutboundContent>(),
    status: text('status').$type<MessageStatus>().notNull(),
    error: jsonb('error').$type<StoredError>(),
    /** Meta's timestamp for inbound messages; the creation time for outbound ones. */
    sentAt: timestamp('sent_at', { withTimezone: true }).notNull(),
    createdAt: createdAt(),
    statusUpdatedAt: timestamp('status_updated_at', { withTimezone: true }),
    /** Inbound: when a turn (or ingest, for kinds that get no reply) settled it. */
    answeredAt: timestamp('answered_at', { withTimezone: true }),
    /** Inbound: 'llm' | 'media-notice' | 'none'. */
    replyAction: text('reply_action'),
    /** Outbound: the turn that produced it and its place in the reply; unique so a re-run records nothing new. */
    turnKey: text('turn_key'),
    chunkIndex: smallint('chunk_index'),
    attempts: integer('attempts').notNull().default(0),
    /** Outbound: the newest inbound message this reply answers. */
    replyToId: bigint('reply_to_id', { mode: 'number' }),
    /** Outbound: when the Graph API accepted it. */
    acceptedAt: timestamp('accepted_at', { withTimezone: true }),
    /**
     * Inbound media: what the turn understood of it, read by later turns
     * without downloading again (a transcript, a document's text, an image's
     * caption), and whether that worked (`understood` | `failed` | `skipped`).
     */
    mediaText: text('media_text'),
    mediaStatus: text('media_status').$type<MediaStatus>(),
    /** Why understanding the media failed (`download-failed`, `wrong-type`, …). */
    mediaFailure: text('media_failure'),
    llmModel: text('llm_model'),
    promptTokens: integer('prompt_tokens'),
    completionTokens: integer('completion_tokens'),
  },
  (t) => [
    uniqueIndex('messages_wamid_uq').on(t.wamid),
    uniqueIndex('messages_turn_chunk_uq').on(t.turnKey, t.chunkIndex),
    index('messages_conversation_idx').on(t.conversationId, t.sentAt, t.id),
    index('messages_unanswered_idx')
      .on(t.conversationId, t.sentAt)
      .where(sql`${t.direction} = 'inbound' and ${t.answeredAt} is null`),
    index('messages_created_idx').on(t.createdAt),
    index('messages_unsent_idx')
      .on(t.conversationId, t.id)
      .where(sql`${t.status} in ('pending', 'sending')`),
  ],
);

/**
 * Every status Meta reported, deduplicated on (wamid, status). A status can
 * arrive before the send that created the wamid has been recorded; the
 * message's status is then taken from here when the wamid is stored.
 */
export const statusEvents = pgTable(
  'status_events',
  {
    wamid: text('wamid').notNull(),
    status: text('status').notNull(),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull(),
    error: jsonb('error').$type<StoredError>(),
    raw: jsonb('raw'),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('status_events_wamid_status_uq').on(t.wamid, t.status)],
);

/** Every change of a conversation's state, with who did it and why. */
export const conversationEvents = pgTable(
  'conversation_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    conversationId: uuid('conversation_id')
      .notNull()
      .references(() => conversations.id),
    /** handoff | resume | expire */
    type: text('type').notNull(),
    /** operator | customer | system */
    actor: text('actor').notNull(),
    reason: text('reason'),
    createdAt: createdAt(),
  },
  (t) => [
    index('conversation_events_conversation_idx').on(t.conversationId, t.id),
    index('conversation_events_type_time_idx').on(t.type, t.createdAt),
  ],
);

/** `value.errors[]` of a webhook: account- or system-level problems Meta reports. */
export const webhookErrors = pgTable('webhook_errors', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  phoneNumberId: text('phone_number_id'),
  code: integer('code'),
  title: text('title'),
  message: text('message'),
  details: text('details'),
  raw: jsonb('raw'),
  createdAt: createdAt(),
});

/**
 * What a turn did before it answered: the knowledge it retrieved (round 0)
 * and each tool call the model asked for (rounds 1…), recorded before the
 * call runs and completed with its result when it returns. A turn run again
 * after a crash replays what is here and calls nothing that already
 * returned. `opened_by` (the oldest unanswered inbound message) keys the
 * turn across re-runs; `turn_key` is the reply's, re-tagged when newer
 * messages join the turn, so the admin API shows the steps with the reply.
 */
export const turnSteps = pgTable(
  'turn_steps',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    conversationId: uuid('conversation_id')
      .notNull()
      .references(() => conversations.id),
    openedBy: bigint('opened_by', { mode: 'number' }).notNull(),
    turnKey: text('turn_key').notNull(),
    round: smallint('round').notNull(),
    position: smallint('position').notNull(),
    /** `tool` | `knowledge` */
    kind: text('kind').notNull(),
    /** The model's id of the call (tool steps). */
    callId: text('call_id'),
    name: text('name').notNull(),
    /** The model's arguments as it wrote them (bound values are never here). */
    arguments: text('arguments').notNull(),
    /** Null until the call returned. */
    result: text('result'),
    ok: boolean('ok'),
    durationMs: integer('duration_ms'),
    createdAt: createdAt(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('turn_steps_turn_uq').on(t.openedBy, t.round, t.position),
    index('turn_steps_turn_key_idx').on(t.turnKey),
  ],
);

/** A PostgreSQL `tsvector`, written and read as SQL (never as a JS value). */
const tsvector = customType<{ data: string }>({
  dataType: () => 'tsvector',
});

/** `bytea` as a Uint8Array (PGlite) or a Buffer (node-postgres), both Uint8Arrays. */
const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType: () => 'bytea',
});

/** A document of the knowledge base, as an operator loaded it. */
export const knowledgeDocuments = pgTable('knowledge_documents', {
  id: uuid('id').primaryKey().defaultRandom(),
  title: text('title').notNull(),
  /** The uploaded file's name and verified type; null for text given as JSON. */
  filename: text('filename'),
  mimeType: text('mime_type'),
  chars: integer('chars').notNull(),
  createdAt: createdAt(),
});

/**
 * A piece of a document (a heading with its text), the unit retrieval
 * ranks. `search` holds the full-text index of the accent-folded title and
 * text (exact words and the `tsConfig` stems); `embedding` is the vector
 * `embeddingModel` gave (little-endian float32), null until embedded.
 */
export const knowledgeChunks = pgTable(
  'knowledge_chunks',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    documentId: uuid('document_id')
      .notNull()
      .references(() => knowledgeDocuments.id, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
    text: text('text').notNull(),
    search: tsvector('search').notNull(),
    tsConfig: text('ts_config').notNull(),
    embedding: bytea('embedding'),
    embeddingModel: text('embedding_model'),
  },
  (t) => [
    uniqueIndex('knowledge_chunks_document_position_uq').on(
      t.documentId,
      t.position,
    ),
    index('knowledge_chunks_search_idx').using('gin', t.search),
    index('knowledge_chunks_embedding_model_idx').on(t.embeddingModel),
  ],
);

/**
 * One row, bumped by every change to the knowledge base: instances compare
 * it with the revision of the vectors they hold in memory.
 */
export const knowledgeRevision = pgTable('knowledge_revision', {
  id: smallint('id').primaryKey(),
  revision: bigint('revision', { mode: 'number' }).notNull(),
});

export const schema = {
  conversations,
  messages,
  statusEvents,
  conversationEvents,
  webhookErrors,
  turnSteps,
  knowledgeDocuments,
  knowledgeChunks,
  knowledgeRevision,
};

export type ConversationRow = typeof conversations.$inferSelect;
export type MessageRow = typeof messages.$inferSelect;
export type ConversationEventRow = typeof conversationEvents.$inferSelect;
