import { Injectable } from '@nestjs/common';
import { and, asc, eq, inArray, isNull, lt, lte, sql } from 'drizzle-orm';
import type {
  Message,
  OutboundDraft,
  StoredError,
} from '../conversation/conversation.types';
import { Json, messageFromJson, toMessage } from '../conversation/row-mappers';
import { DatabaseConnection, Db } from '../database/database-connection';
import { rowsOf } from '../database/executor';
import { GroupCommitter } from '../database/group-committer';
import { urgently } from '../database/priority-gate';
import { conversations, messages, statusEvents } from '../database/schema';
import { reconcileStatuses } from '../inbound/status-reconciliation';
import { OutboxStore } from './outbox.store';
import {
  CHUNK_COLUMNS,
  chunksJson,
  insertOutboundStatement,
} from './outbound-rows.statement';

/** Most send marks one statement writes. */
const SENT_MARK_ROWS = 48;

interface SentMark {
  messageId: number;
  wamid: string;
  now: Date;
}

/** Drizzle adapter: the same code on PGlite and on a PostgreSQL server. */
@Injectable()
export class DrizzleOutboxStore extends OutboxStore {
  private readonly db: Db;
  // A wamid not yet stored is a message resent after a crash (Meta has no
  // idempotency key), so a mark waits for nothing it need not: it goes ahead
  // of queued turn work on the embedded database, and never waits for an
  // earlier group to be written (only marks already queued share a
  // statement).
  private readonly sentMarks = new GroupCommitter<SentMark, void>(
    (marks) => urgently(() => this.markSentAll(marks)),
    {
      maxBatch: SENT_MARK_ROWS,
      maxInFlight: Number.POSITIVE_INFINITY,
      keysOf: (m) => [String(m.messageId)],
    },
  );

  constructor(connection: DatabaseConnection) {
    super();
    this.db = connection.db;
  }

  recordOperatorMessages(
    conversationId: string,
    batchKey: string,
    drafts: OutboundDraft[],
    now: Date,
  ): Promise<Message[]> {
    return this.db.transaction(async (tx) => {
      // A person answered what the customer wrote so far.
      await tx
        .update(messages)
        .set({ answeredAt: now })
        .where(
          and(
            eq(messages.conversationId, conversationId),
            eq(messages.direction, 'inbound'),
            isNull(messages.answeredAt),
            lte(messages.createdAt, now),
          ),
        );
      if (drafts.length === 0) return [];
      // Returned as JSON, as a turn's reply is: the same types from PGlite
      // and from node-postgres (which gives bigint ids as text).
      const [row] = rowsOf<{ messages: Json<Message>[] }>(
        await tx.execute(sql`
          with inserted as (
            ${insertOutboundStatement(sql`
              select ${conversationId}::uuid as conversation_id, d.author, d.text,
                     d.kind, d.content, 'pending' as status, ${now}::timestamptz as at,
                     ${batchKey}::text as turn_key, d.chunk_index,
                     null::bigint as reply_to_id, d.llm_model, d.prompt_tokens,
                     d.completion_tokens, d.chunk_index as ord
                from jsonb_to_recordset(${JSON.stringify(chunksJson(drafts))}::jsonb)
                     as d(${CHUNK_COLUMNS})`)}
          )
          select coalesce(json_agg(i order by i.id), '[]') as messages
            from inserted i`),
      );
      await tx
        .update(conversations)
        .set({ lastActivityAt: now })
        .where(eq(conversations.id, conversationId));
      return (row?.messages ?? []).map(messageFromJson);
    });
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

  async claimForSending(messageId: number, now: Date): Promise<boolean> {
    const claimed = await this.db
      .update(messages)
      .set({
        status: 'sending',
        statusUpdatedAt: now,
        attempts: sql`${messages.attempts} + 1`,
      })
      .where(and(eq(messages.id, messageId), eq(messages.status, 'pending')))
      .returning({ id: messages.id });
    return claimed.length === 1;
  }

  async releaseStaleSends(before: Date): Promise<Message[]> {
    const rows = await this.db
      .update(messages)
      .set({ status: 'pending' })
      .where(
        and(
          // Literals, not parameters: the database thread plans a statement
          // once, generically, and only a literal status lets that plan use
          // the index of unsent messages instead of reading every message.
          sql`${messages.direction} = 'outbound' and ${messages.status} = 'sending'`,
          lt(messages.statusUpdatedAt, before),
        ),
      )
      .returning();
    return rows.map(toMessage);
  }

  markSent(messageId: number, wamid: string, now: Date): Promise<void> {
    return this.sentMarks.submit({ messageId, wamid, now });
  }

  private async markSentAll(marks: SentMark[]): Promise<void[]> {
    // One statement: each message gets its wamid, its conversation the
    // activity time, and any status Meta reported for a wamid before it was
    // stored comes back (rare: a status usually follows the send).
    const input = marks.map((m) => ({
      id: m.messageId,
      wamid: m.wamid,
      at: m.now.toISOString(),
    }));
    const ids = marks.map((m) => m.messageId);
    const wamids = marks.map((m) => m.wamid);
    const reported = rowsOf<{
      wamid: string;
      status: string;
      error: StoredError | null;
    }>(
      await this.db.execute(sql`
      with input as (
        select * from jsonb_to_recordset(${JSON.stringify(input)}::jsonb)
               as i(id bigint, wamid text, at timestamptz)
      ), sent as (
        -- A message with its wamid already stored is left alone: when a
        -- group is written again after a failure, statuses Meta reported
        -- since are not undone.
        update ${messages} m
           set wamid = i.wamid, status = 'sent', status_updated_at = i.at,
               accepted_at = i.at, error = null
          from input i
         where m.id = any(${sql.param(ids)}::bigint[]) and m.id = i.id
           and m.wamid is null
        returning m.conversation_id, i.at
      ), locked as (
        -- In customer order, as ingest and reply records lock them.
        select id from ${conversations}
         where id in (select conversation_id from sent)
         order by customer_wa_id
           for update
      ), touched as (
        update ${conversations} c set last_activity_at = s.at
          from (select conversation_id, max(at) as at from sent
                 group by conversation_id) s
         where c.id = s.conversation_id
           and c.id in (select id from locked)
      )
      select wamid, status, error from ${statusEvents}
       where wamid = any(${sql.param(wamids)}::text[])`),
    );
    if (reported.length > 0) {
      await reconcileStatuses(this.db, reported, marks[0].now);
    }
    return marks.map(() => undefined);
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
}
