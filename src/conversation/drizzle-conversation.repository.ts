import { Injectable } from '@nestjs/common';
import {
  and,
  asc,
  desc,
  eq,
  gte,
  inArray,
  isNull,
  lt,
  ne,
  notInArray,
  sql,
} from 'drizzle-orm';
import { DatabaseConnection, Db } from '../database/database-connection';
import {
  ConversationRow,
  MessageRow,
  conversations,
  messages,
  statusEvents,
  webhookErrors,
} from '../database/schema';
import { ConversationRepository } from './conversation.repository';
import {
  Conversation,
  IngestBatch,
  IngestResult,
  InboundMessageInput,
  Message,
  OutboundDraft,
  StoredError,
} from './conversation.types';
import { KNOWN_STATUSES, nextStatus, settleStatus } from './message-status';

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

const toConversation = (row: ConversationRow): Conversation => ({
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

const toMessage = (row: MessageRow): Message => ({
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
});

/** Drizzle adapter: the same code on PGlite and on a PostgreSQL server. */
@Injectable()
export class DrizzleConversationRepository extends ConversationRepository {
  private readonly db: Db;

  constructor(connection: DatabaseConnection) {
    super();
    this.db = connection.db;
  }

  ingest(
    batch: IngestBatch,
    now: Date,
    sessionTimeoutMs: number,
  ): Promise<IngestResult> {
    return this.db.transaction(async (tx) => {
      const result = await this.ingestMessages(
        tx,
        batch.messages,
        now,
        sessionTimeoutMs,
      );
      await this.applyStatuses(tx, batch, now);
      if (batch.errors.length > 0) {
        await tx.insert(webhookErrors).values(
          batch.errors.map((e) => ({
            phoneNumberId: e.phoneNumberId,
            code: e.code,
            title: e.title,
            message: e.message,
            details: e.details,
            raw: e.raw,
          })),
        );
      }
      return result;
    });
  }

  private async ingestMessages(
    tx: Tx,
    inbound: InboundMessageInput[],
    now: Date,
    sessionTimeoutMs: number,
  ): Promise<IngestResult> {
    // One row per wamid, even when a batch holds the same message twice.
    const unique = [...new Map(inbound.map((m) => [m.wamid, m])).values()];
    if (unique.length === 0) {
      return {
        stored: 0,
        duplicates: inbound.length,
        conversationsToAnswer: [],
      };
    }
    const known = await tx
      .select({ wamid: messages.wamid })
      .from(messages)
      .where(
        inArray(
          messages.wamid,
          unique.map((m) => m.wamid),
        ),
      );
    const knownSet = new Set(known.map((k) => k.wamid));
    const fresh = unique.filter((m) => !knownSet.has(m.wamid));
    if (fresh.length === 0) {
      return {
        stored: 0,
        duplicates: inbound.length,
        conversationsToAnswer: [],
      };
    }

    const customers = new Map<string, string | null>();
    for (const m of fresh) {
      customers.set(
        m.customerWaId,
        m.customerName ?? customers.get(m.customerWaId) ?? null,
      );
    }
    const customerIds = [...customers.keys()];

    // A conversation idle longer than the session timeout ends here, so the
    // new message opens a fresh one even if the expiry job has not run yet.
    await tx
      .update(conversations)
      .set({ state: 'expired', stateReason: 'idle', stateChangedAt: now })
      .where(
        and(
          inArray(conversations.customerWaId, customerIds),
          eq(conversations.state, 'active'),
          lt(
            conversations.lastActivityAt,
            new Date(now.getTime() - sessionTimeoutMs),
          ),
        ),
      );

    const open = await tx
      .insert(conversations)
      .values(
        customerIds.map((customerWaId) => ({
          customerWaId,
          customerName: customers.get(customerWaId) ?? null,
          startedAt: now,
          lastActivityAt: now,
          stateChangedAt: now,
        })),
      )
      .onConflictDoUpdate({
        target: conversations.customerWaId,
        targetWhere: sql`${conversations.state} <> 'expired'`,
        set: {
          customerName: sql`coalesce(excluded.customer_name, ${conversations.customerName})`,
          lastActivityAt: now,
        },
      })
      .returning({
        id: conversations.id,
        customerWaId: conversations.customerWaId,
      });
    const conversationOf = new Map(open.map((c) => [c.customerWaId, c.id]));

    const inserted = await tx
      .insert(messages)
      .values(
        fresh.map((m) => ({
          conversationId: conversationOf.get(m.customerWaId)!,
          direction: 'inbound' as const,
          author: 'customer' as const,
          wamid: m.wamid,
          kind: m.kind,
          text: m.text,
          mediaId: m.mediaId,
          raw: m.raw,
          status: 'received' as const,
          sentAt: m.timestamp,
          replyAction: m.reply,
          // Kinds that get no reply are settled as soon as they are stored.
          answeredAt: m.reply === 'none' ? now : null,
        })),
      )
      .onConflictDoNothing({ target: messages.wamid })
      .returning({
        conversationId: messages.conversationId,
        replyAction: messages.replyAction,
      });

    const toAnswer = new Set(
      inserted
        .filter((m) => m.replyAction !== 'none')
        .map((m) => m.conversationId),
    );
    return {
      stored: inserted.length,
      duplicates: inbound.length - inserted.length,
      conversationsToAnswer: [...toAnswer],
    };
  }

  private async applyStatuses(tx: Tx, batch: IngestBatch, now: Date) {
    const statuses = batch.statuses.filter((s) => KNOWN_STATUSES.has(s.status));
    if (statuses.length === 0) return;
    await tx
      .insert(statusEvents)
      .values(
        statuses.map((s) => ({
          wamid: s.wamid,
          status: s.status,
          occurredAt: s.timestamp,
          error: s.error,
          raw: s.raw,
        })),
      )
      .onConflictDoNothing();
    const wamids = [...new Set(statuses.map((s) => s.wamid))];
    const rows = await tx
      .select({
        id: messages.id,
        wamid: messages.wamid,
        status: messages.status,
        error: messages.error,
      })
      .from(messages)
      .where(
        and(
          inArray(messages.wamid, wamids),
          eq(messages.direction, 'outbound'),
        ),
      )
      .for('update');
    for (const row of rows) {
      const reported = statuses.filter((s) => s.wamid === row.wamid);
      const status = settleStatus(
        row.status,
        reported.map((s) => s.status),
      );
      if (status === row.status) continue;
      const failure =
        reported.find((s) => s.status === 'failed')?.error ?? null;
      await tx
        .update(messages)
        .set({
          status,
          statusUpdatedAt: now,
          ...(status === 'failed' && { error: failure ?? row.error }),
        })
        .where(eq(messages.id, row.id));
    }
  }

  async getConversation(id: string): Promise<Conversation | null> {
    const [row] = await this.db
      .select()
      .from(conversations)
      .where(eq(conversations.id, id));
    return row ? toConversation(row) : null;
  }

  async findConversationsWithPendingWork(): Promise<string[]> {
    const rows = await this.db
      .selectDistinct({ id: messages.conversationId })
      .from(messages)
      .where(
        sql`(${messages.direction} = 'inbound' and ${messages.answeredAt} is null)
          or ${messages.status} in ('pending', 'sending')`,
      );
    return rows.map((r) => r.id);
  }

  async getUnanswered(conversationId: string): Promise<Message[]> {
    const rows = await this.db
      .select()
      .from(messages)
      .where(
        and(
          eq(messages.conversationId, conversationId),
          eq(messages.direction, 'inbound'),
          isNull(messages.answeredAt),
        ),
      )
      .orderBy(asc(messages.sentAt), asc(messages.id));
    return rows.map(toMessage);
  }

  async getUnsent(conversationId: string): Promise<Message[]> {
    const rows = await this.db
      .select()
      .from(messages)
      .where(
        and(
          eq(messages.conversationId, conversationId),
          eq(messages.direction, 'outbound'),
          inArray(messages.status, ['pending', 'sending']),
        ),
      )
      .orderBy(asc(messages.id));
    return rows.map(toMessage);
  }

  async getRecentMessages(
    conversationId: string,
    limit: number,
    excludeIds: number[] = [],
  ): Promise<Message[]> {
    if (limit <= 0) return [];
    const rows = await this.db
      .select()
      .from(messages)
      .where(
        and(
          eq(messages.conversationId, conversationId),
          sql`${messages.text} is not null`,
          ne(messages.status, 'failed'),
          excludeIds.length > 0
            ? notInArray(messages.id, excludeIds)
            : undefined,
        ),
      )
      .orderBy(desc(messages.sentAt), desc(messages.id))
      .limit(limit);
    return rows.reverse().map(toMessage);
  }

  recordReply(
    conversationId: string,
    answeredIds: number[],
    turnKey: string,
    drafts: OutboundDraft[],
    now: Date,
  ): Promise<Message[] | null> {
    return this.db
      .transaction(async (tx) => {
        const settled = await tx
          .update(messages)
          .set({ answeredAt: now })
          .where(
            and(inArray(messages.id, answeredIds), isNull(messages.answeredAt)),
          )
          .returning({ id: messages.id });
        if (settled.length !== answeredIds.length) {
          // Another turn got there first: undo and record nothing.
          throw new AlreadyAnswered();
        }
        const rows =
          drafts.length === 0
            ? []
            : await tx
                .insert(messages)
                .values(
                  drafts.map((d, index) => ({
                    conversationId,
                    direction: 'outbound' as const,
                    author: d.author,
                    kind: 'text',
                    text: d.text,
                    status: 'pending' as const,
                    sentAt: now,
                    turnKey,
                    chunkIndex: index,
                    llmModel: d.llm?.model ?? null,
                    promptTokens: d.llm?.promptTokens ?? null,
                    completionTokens: d.llm?.completionTokens ?? null,
                  })),
                )
                .returning();
        await tx
          .update(conversations)
          .set({ lastActivityAt: now })
          .where(eq(conversations.id, conversationId));
        return rows.map(toMessage);
      })
      .catch((error: unknown) => {
        if (error instanceof AlreadyAnswered) return null;
        throw error;
      });
  }

  async markAnswered(ids: number[], now: Date): Promise<void> {
    if (ids.length === 0) return;
    await this.db
      .update(messages)
      .set({ answeredAt: now })
      .where(and(inArray(messages.id, ids), isNull(messages.answeredAt)));
  }

  async recentTurnTimes(customerWaId: string, since: Date): Promise<Date[]> {
    const rows = await this.db
      .select({ startedAt: sql<string>`min(${messages.createdAt})` })
      .from(messages)
      .innerJoin(conversations, eq(conversations.id, messages.conversationId))
      .where(
        and(
          eq(conversations.customerWaId, customerWaId),
          eq(messages.direction, 'outbound'),
          inArray(messages.author, ['bot', 'fallback', 'notice']),
          gte(messages.createdAt, since),
        ),
      )
      .groupBy(messages.turnKey)
      .orderBy(sql`min(${messages.createdAt})`);
    return rows.map((r) => new Date(r.startedAt));
  }

  async markSending(messageId: number, now: Date): Promise<void> {
    await this.db
      .update(messages)
      .set({
        status: 'sending',
        statusUpdatedAt: now,
        attempts: sql`${messages.attempts} + 1`,
      })
      .where(eq(messages.id, messageId));
  }

  async markSent(messageId: number, wamid: string, now: Date): Promise<void> {
    await this.db.transaction(async (tx) => {
      const events = await tx
        .select({ status: statusEvents.status, error: statusEvents.error })
        .from(statusEvents)
        .where(eq(statusEvents.wamid, wamid));
      const status = settleStatus(
        nextStatus('sending', 'sent'),
        events.map((e) => e.status),
      );
      await tx
        .update(messages)
        .set({
          wamid,
          status,
          statusUpdatedAt: now,
          error:
            status === 'failed'
              ? (events.find((e) => e.status === 'failed')?.error ?? null)
              : null,
        })
        .where(eq(messages.id, messageId));
      await tx
        .update(conversations)
        .set({ lastActivityAt: now })
        .where(
          eq(
            conversations.id,
            sql`(select ${messages.conversationId} from ${messages} where ${messages.id} = ${messageId})`,
          ),
        );
    });
  }

  async markFailed(
    messageId: number,
    error: StoredError,
    now: Date,
  ): Promise<void> {
    await this.db
      .update(messages)
      .set({ status: 'failed', error, statusUpdatedAt: now })
      .where(eq(messages.id, messageId));
  }

  async expireIdle(cutoff: Date, now: Date): Promise<number> {
    const rows = await this.db
      .update(conversations)
      .set({ state: 'expired', stateReason: 'idle', stateChangedAt: now })
      .where(
        and(
          eq(conversations.state, 'active'),
          lt(conversations.lastActivityAt, cutoff),
        ),
      )
      .returning({ id: conversations.id });
    return rows.length;
  }
}

class AlreadyAnswered extends Error {}
