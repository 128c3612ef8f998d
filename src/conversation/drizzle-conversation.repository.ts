import { Injectable } from '@nestjs/common';
import {
  and,
  asc,
  desc,
  eq,
  inArray,
  isNull,
  lt,
  lte,
  ne,
  notInArray,
  sql,
} from 'drizzle-orm';
import { DatabaseConnection, Db } from '../database/database-connection';
import { urgently } from '../database/priority-gate';
import {
  conversationEvents,
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
  StateChange,
  StoredError,
  TurnSnapshot,
} from './conversation.types';
import { GroupCommitter } from '../database/group-committer';
import { KNOWN_STATUSES, nextStatus, settleStatus } from '../inbound/message-status';
import {
  conversationFromJson,
  Json,
  messageFromJson,
  messageJsonColumns,
  toConversation,
  toMessage,
} from './row-mappers';

const MESSAGE_COLUMNS = sql.raw(messageJsonColumns('m'));
const RETURNED_MESSAGE_COLUMNS = sql.raw(messageJsonColumns());
/** Authors whose messages a turn wrote (flood control counts those turns). */
const TURN_AUTHORS = sql.raw(`'bot', 'fallback', 'notice'`);

const rowsOf = <T>(result: unknown) => (result as { rows: T[] }).rows;

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/**
 * How much work of concurrent turns one statement takes, in rows. Turns
 * running at once share their reads, reply records and send marks: on
 * PGlite one thread runs every statement, and each costs far more than a
 * row. The caps keep each statement about as short as a webhook batch's,
 * so acknowledgements never wait long behind turn work.
 */
const TURN_READ_ROWS = 128;
const TURN_WRITE_ROWS = 48;

interface TurnRead {
  conversationId: string;
  historyLimit: number;
  turnsSince: Date;
}

interface PlainReply {
  conversationId: string;
  answeredIds: number[];
  turnKey: string;
  drafts: OutboundDraft[];
  now: Date;
}

interface SentMark {
  messageId: number;
  wamid: string;
  now: Date;
}

/** Drizzle adapter: the same code on PGlite and on a PostgreSQL server. */
@Injectable()
export class DrizzleConversationRepository extends ConversationRepository {
  private readonly db: Db;
  // Concurrent turns share their statements; each is atomic, so a batch
  // that fails is retried turn by turn.
  private readonly turnReads = new GroupCommitter<
    TurnRead,
    TurnSnapshot | null
  >((reads) => this.loadTurns(reads), {
    maxBatch: TURN_READ_ROWS,
    // The context and a few unanswered messages.
    sizeOf: (r) => r.historyLimit + 2,
    maxInFlight: 2,
  });
  private readonly plainReplies = new GroupCommitter<
    PlainReply,
    Message[] | null
  >((replies) => this.recordPlainReplies(replies), {
    maxBatch: TURN_WRITE_ROWS,
    // Messages settled, chunks inserted.
    sizeOf: (r) => r.answeredIds.length + r.drafts.length,
    maxInFlight: 2,
    // Two turns of one conversation in one statement would both pass its
    // check: the second waits for a statement of its own.
    keysOf: (r) => [r.conversationId, ...r.answeredIds.map(String)],
  });
  // A wamid not yet stored is a message resent after a crash (Meta has no
  // idempotency key), so a mark waits for nothing it need not: it goes ahead
  // of queued turn work on the embedded database, and never waits for an
  // earlier group to be written (only marks already queued share a
  // statement).
  private readonly sentMarks = new GroupCommitter<SentMark, void>(
    (marks) => urgently(() => this.markSentAll(marks)),
    {
      maxBatch: TURN_WRITE_ROWS,
      maxInFlight: Number.POSITIVE_INFINITY,
      keysOf: (m) => [String(m.messageId)],
    },
  );

  constructor(private readonly connection: DatabaseConnection) {
    super();
    this.db = connection.db;
  }

  ingest(
    batch: IngestBatch,
    now: Date,
    sessionTimeoutMs: number,
  ): Promise<IngestResult> {
    // Webhooks wait on this: on PGlite it goes ahead of queued turn work.
    return urgently(async () => {
      const result = await this.ingestMessages(
        batch.messages,
        now,
        sessionTimeoutMs,
      );
      // Statuses and errors in a transaction of their own: if it fails, the
      // webhook is answered 503 and delivered again, and the messages
      // already stored are then duplicates (their turns come from the
      // pending-work sweep).
      if (batch.statuses.length > 0 || batch.errors.length > 0) {
        await this.db.transaction(async (tx) => {
          await this.applyStatuses(tx, batch, now);
          if (batch.errors.length > 0) {
            await tx.insert(webhookErrors).values(batch.errors);
          }
        });
      }
      return result;
    });
  }

  private async ingestMessages(
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
        messagesToAnswer: [],
      };
    }
    const rows = unique.map((m, n) => ({
      n,
      wamid: m.wamid,
      customer: m.customerWaId,
      name: m.customerName,
      kind: m.kind,
      body: m.text,
      media_id: m.mediaId,
      raw: m.raw,
      sent_at: m.timestamp.toISOString(),
      reply_action: m.reply,
    }));
    const customerIds = [...new Set(unique.map((m) => m.customerWaId))];

    const cutoff = new Date(now.getTime() - sessionTimeoutMs);
    // Two statements in one transaction, sent together. First, a
    // conversation idle longer than the session timeout ends, so the new
    // message opens a fresh one even if the expiry job has not run yet.
    // Then one statement, the batch as one jsonb parameter: messages not
    // stored yet open (or touch) their customer's conversation and are
    // inserted in arrival order. Far cheaper than a parameter per value.
    const [, insertedRows] = await this.connection.atomically([
      this.expireIdleIn(this.db, cutoff, now, customerIds).getSQL(),
      sql`
      with input as (
        select * from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(
          n int, wamid text, customer text, name text, kind text, body text,
          media_id text, raw jsonb, sent_at timestamptz, reply_action text)
      ), fresh as (
        -- A lookup per input row in the unique index. As NOT EXISTS, the
        -- planner, which guesses 100 rows for jsonb_to_recordset, would
        -- rather hash-join it with a scan of every stored message.
        select i.* from input i
         where (select m.id from messages m where m.wamid = i.wamid limit 1) is null
      ), customers as (
        select customer,
               (array_agg(name order by n desc) filter (where name is not null))[1] as name
          from fresh group by customer
      ), opened as (
        insert into conversations
               (customer_wa_id, customer_name, started_at, last_activity_at, state_changed_at)
        select customer, name, ${now}, ${now}, ${now} from customers
         -- The lock order of every statement that touches several
         -- conversations: none waits on another in a circle.
         order by customer
        on conflict (customer_wa_id) where state <> 'expired'
        do update set customer_name = coalesce(excluded.customer_name, conversations.customer_name),
                      last_activity_at = excluded.last_activity_at
        returning id, customer_wa_id
      )
      insert into messages
             (conversation_id, direction, author, wamid, kind, text, media_id, raw,
              status, sent_at, reply_action, answered_at)
      select o.id, 'inbound', 'customer', f.wamid, f.kind, f.body, f.media_id, f.raw,
             'received', f.sent_at, f.reply_action,
             case when f.reply_action not in ('llm', 'media-notice') then ${now}::timestamptz end
        from fresh f join opened o on o.customer_wa_id = f.customer
       order by f.n
      on conflict (wamid) do nothing
      returning conversation_id, reply_action, wamid`,
    ]);
    const inserted = insertedRows as Array<{
      conversation_id: string;
      reply_action: string | null;
      wamid: string;
    }>;

    const toAnswer = inserted.filter(
      (m) => m.reply_action === 'llm' || m.reply_action === 'media-notice',
    );
    return {
      stored: inserted.length,
      duplicates: inbound.length - inserted.length,
      conversationsToAnswer: [
        ...new Set(toAnswer.map((m) => m.conversation_id)),
      ],
      messagesToAnswer: toAnswer.map((m) => ({
        wamid: m.wamid,
        conversationId: m.conversation_id,
      })),
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

  async findConversationsWithPendingWork(
    recordedBefore?: Date,
  ): Promise<string[]> {
    const before = recordedBefore ?? new Date('9999-12-31T00:00:00Z');
    // Two queries the partial indexes answer, instead of one OR that scans
    // every message: the sweep runs every 10 s.
    const result = await this.db.execute<{ id: string }>(sql`
      select m.conversation_id as id
        from ${messages} m join ${conversations} c on c.id = m.conversation_id
       where m.direction = 'inbound' and m.answered_at is null
         and c.state <> 'handoff' and m.created_at < ${before}
      union
      select m.conversation_id as id
        from ${messages} m
       where m.status = 'pending'
         and m.created_at < ${before}`);
    return (result as unknown as { rows: Array<{ id: string }> }).rows.map(
      (r) => r.id,
    );
  }

  loadTurn(
    conversationId: string,
    historyLimit: number,
    turnsSince: Date,
  ): Promise<TurnSnapshot | null> {
    return this.turnReads.submit({ conversationId, historyLimit, turnsSince });
  }

  private async loadTurns(
    reads: TurnRead[],
  ): Promise<Array<TurnSnapshot | null>> {
    // One statement for all these turns, instead of five per turn: on PGlite
    // every statement costs its own thread hop and run. Each list is
    // answered by the index its own query used; `any` keeps the
    // conversations an index lookup however many are stored.
    const input = reads.map((r, n) => ({
      n,
      id: r.conversationId,
      history: Math.max(0, r.historyLimit),
      since: r.turnsSince.toISOString(),
    }));
    const ids = [...new Set(reads.map((r) => r.conversationId))];
    const rows = rowsOf<{
      n: number;
      turn: {
        conversation: Json<Conversation>;
        unsent: Json<Message>[];
        unanswered: Json<Message>[];
        history: Json<Message>[];
        turnTimes: string[];
      };
    }>(
      await this.db.execute(sql`
      select i.n, json_build_object(
        'conversation', json_build_object(
          'id', c.id, 'customerWaId', c.customer_wa_id,
          'customerName', c.customer_name, 'state', c.state,
          'stateReason', c.state_reason, 'stateChangedAt', c.state_changed_at,
          'handoffUntil', c.handoff_until, 'startedAt', c.started_at,
          'lastActivityAt', c.last_activity_at),
        'unsent', (
          select coalesce(json_agg(x order by x.id), '[]')
            from (select ${MESSAGE_COLUMNS} from ${messages} m
                   where m.conversation_id = c.id and m.direction = 'outbound'
                     and m.status in ('pending', 'sending')) x),
        'unanswered', (
          select coalesce(json_agg(x order by x."sentAt", x.id), '[]')
            from (select ${MESSAGE_COLUMNS} from ${messages} m
                   where m.conversation_id = c.id and m.direction = 'inbound'
                     and m.answered_at is null) x),
        'history', (
          select coalesce(json_agg(x order by x."createdAt", x.id), '[]')
            from (select ${MESSAGE_COLUMNS} from ${messages} m
                   where m.conversation_id = c.id and m.text is not null
                     and m.status <> 'failed'
                     and not (m.direction = 'inbound' and m.answered_at is null)
                     and m.reply_action is distinct from 'not-served'
                   order by m.created_at desc, m.id desc
                   limit i.history) x),
        'turnTimes', (
          select coalesce(json_agg(t.started order by t.started), '[]')
            from (select min(m.created_at) as started from ${messages} m
                   where m.conversation_id in (
                           select id from ${conversations}
                            where customer_wa_id = c.customer_wa_id)
                     and m.direction = 'outbound'
                     and m.author in (${TURN_AUTHORS})
                     and m.created_at >= i.since
                   group by m.turn_key) t)
      ) as turn
        from ${conversations} c
        join jsonb_to_recordset(${JSON.stringify(input)}::jsonb)
             as i(n int, id uuid, history int, since timestamptz)
          on i.id = c.id
       where c.id = any(${sql.param(ids)}::uuid[])`),
    );
    const turns = new Map(rows.map((r) => [r.n, r.turn]));
    return reads.map((_, n) => {
      const turn = turns.get(n);
      if (!turn) return null;
      return {
        conversation: conversationFromJson(turn.conversation),
        unsent: turn.unsent.map(messageFromJson),
        unanswered: turn.unanswered.map(messageFromJson),
        history: turn.history.map(messageFromJson),
        recentTurnTimes: turn.turnTimes.map((t) => new Date(t)),
      };
    });
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
      .orderBy(desc(messages.createdAt), desc(messages.id))
      .limit(limit);
    return rows.reverse().map(toMessage);
  }

  recordReply(
    conversationId: string,
    answeredIds: number[],
    turnKey: string,
    drafts: OutboundDraft[],
    now: Date,
    handoff?: StateChange,
  ): Promise<Message[] | null> {
    if (!handoff) {
      const ids = [...new Set(answeredIds)];
      if (ids.length === 0) return Promise.resolve(null);
      return this.plainReplies.submit({
        conversationId,
        answeredIds: ids,
        turnKey,
        drafts,
        now,
      });
    }
    // A reply that hands the conversation to a person (rare): a
    // transaction, since the state change and its event go with it.
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
        // Recorded already claimed for sending: the caller sends them next.
        const rows = await this.insertOutbound(
          tx,
          conversationId,
          turnKey,
          drafts,
          now,
          Math.max(...answeredIds),
          'sending',
        );
        // Also touches the conversation (and locks it).
        await this.applyStateChange(tx, conversationId, handoff, now);
        return rows;
      })
      .catch((error: unknown) => {
        if (error instanceof AlreadyAnswered) return null;
        throw error;
      });
  }

  /**
   * `recordReply` without a handoff, the case of almost every turn, for
   * several turns (of different conversations) in one statement. The
   * messages to settle and the conversations are locked, and PostgreSQL
   * re-checks a locked row that changed meanwhile: a turn whose messages
   * another turn answered first, or whose conversation an operator took
   * over, is left out of `open`, and nothing is written for it.
   */
  private async recordPlainReplies(
    replies: PlainReply[],
  ): Promise<Array<Message[] | null>> {
    const input = replies.map((r, n) => ({
      n,
      conversation_id: r.conversationId,
      ids: r.answeredIds,
      turn_key: r.turnKey,
      reply_to: Math.max(...r.answeredIds),
      at: r.now.toISOString(),
      chunks: r.drafts.map((d, index) => ({
        chunk_index: index,
        author: d.author,
        text: d.text,
        llm_model: d.llm?.model ?? null,
        prompt_tokens: d.llm?.promptTokens ?? null,
        completion_tokens: d.llm?.completionTokens ?? null,
      })),
    }));
    const messageIds = replies.flatMap((r) => r.answeredIds);
    const conversationIds = replies.map((r) => r.conversationId);
    const [row] = rowsOf<{
      recorded: number[];
      messages: Json<Message>[];
    }>(
      await this.db.execute(sql`
      with input as (
        select * from jsonb_to_recordset(${JSON.stringify(input)}::jsonb) as i(
               n int, conversation_id uuid, ids bigint[], turn_key text,
               reply_to bigint, at timestamptz, chunks jsonb)
      ), target as materialized (
        select id from ${messages}
         where id = any(${sql.param(messageIds)}::bigint[])
           and answered_at is null
           for update
      ), open as materialized (
        -- Locked after the messages (target is read first, as a transaction
        -- settling messages and then changing the conversation does) and in
        -- customer order, as ingest locks them: statements for several
        -- conversations at once never wait on each other in a circle.
        select id from ${conversations}
         where id = any(${sql.param(conversationIds)}::uuid[])
           and state <> 'handoff'
           and exists (select 1 from target)
         order by customer_wa_id
           for update
      ), ok as materialized (
        select i.* from input i
         where i.conversation_id in (select id from open)
           and (select count(*) from target t where t.id = any(i.ids))
               = cardinality(i.ids)
      ), settled as (
        update ${messages} m set answered_at = ok.at
          from ok
         where m.id = any(${sql.param(messageIds)}::bigint[])
           and m.id = any(ok.ids)
      ), touched as (
        update ${conversations} c set last_activity_at = ok.at
          from ok
         where c.id = any(${sql.param(conversationIds)}::uuid[])
           and c.id = ok.conversation_id
      ), inserted as (
        insert into ${messages}
               (conversation_id, direction, author, kind, text, status, attempts,
                status_updated_at, sent_at, turn_key, chunk_index, reply_to_id,
                llm_model, prompt_tokens, completion_tokens)
        select ok.conversation_id, 'outbound', d.author, 'text', d.text,
               'sending', 1, ok.at, ok.at, ok.turn_key, d.chunk_index,
               ok.reply_to, d.llm_model, d.prompt_tokens, d.completion_tokens
          from ok, jsonb_to_recordset(ok.chunks) as d(
               chunk_index smallint, author text, text text, llm_model text,
               prompt_tokens int, completion_tokens int)
         order by ok.n, d.chunk_index
        returning ${RETURNED_MESSAGE_COLUMNS}
      )
      select (select coalesce(json_agg(n), '[]') from ok) as recorded,
             (select coalesce(json_agg(i order by i.id), '[]')
                from inserted i) as messages`),
    );
    const recorded = new Set(row?.recorded ?? []);
    // Inserted turn by turn, chunk by chunk, and returned in id order: each
    // turn's chunks come out in order.
    const chunks = (row?.messages ?? []).map(messageFromJson);
    return replies.map((reply, n) =>
      recorded.has(n)
        ? chunks.filter((m) => m.turnKey === reply.turnKey)
        : null,
    );
  }

  recordOperatorMessages(
    conversationId: string,
    batchKey: string,
    drafts: OutboundDraft[],
    now: Date,
  ): Promise<Message[]> {
    return this.db.transaction(async (tx) => {
      await this.settleInboundIn(tx, conversationId, now, now);
      const rows = await this.insertOutbound(
        tx,
        conversationId,
        batchKey,
        drafts,
        now,
        null,
      );
      await tx
        .update(conversations)
        .set({ lastActivityAt: now })
        .where(eq(conversations.id, conversationId));
      return rows;
    });
  }

  async settleInbound(
    conversationId: string,
    upTo: Date,
    now: Date,
  ): Promise<void> {
    await this.settleInboundIn(this.db, conversationId, upTo, now);
  }

  private async settleInboundIn(
    tx: Tx | Db,
    conversationId: string,
    upTo: Date,
    now: Date,
  ) {
    await tx
      .update(messages)
      .set({ answeredAt: now })
      .where(
        and(
          eq(messages.conversationId, conversationId),
          eq(messages.direction, 'inbound'),
          isNull(messages.answeredAt),
          lte(messages.createdAt, upTo),
        ),
      );
  }

  private async insertOutbound(
    tx: Tx,
    conversationId: string,
    key: string,
    drafts: OutboundDraft[],
    now: Date,
    replyToId: number | null,
    status: 'pending' | 'sending' = 'pending',
  ): Promise<Message[]> {
    if (drafts.length === 0) return [];
    const rows = await tx
      .insert(messages)
      .values(
        drafts.map((d, index) => ({
          conversationId,
          direction: 'outbound' as const,
          author: d.author,
          kind: 'text',
          text: d.text,
          status,
          ...(status === 'sending' && { attempts: 1, statusUpdatedAt: now }),
          sentAt: now,
          turnKey: key,
          chunkIndex: index,
          replyToId,
          llmModel: d.llm?.model ?? null,
          promptTokens: d.llm?.promptTokens ?? null,
          completionTokens: d.llm?.completionTokens ?? null,
        })),
      )
      .returning();
    return rows.map(toMessage);
  }

  async findOpenConversation(
    customerWaId: string,
    now: Date,
    sessionTimeoutMs: number,
  ): Promise<Conversation | null> {
    const [row] = await this.db
      .select()
      .from(conversations)
      .where(
        and(
          eq(conversations.customerWaId, customerWaId),
          ne(conversations.state, 'expired'),
        ),
      );
    if (!row) return null;
    const idle =
      row.state === 'active' &&
      row.lastActivityAt.getTime() < now.getTime() - sessionTimeoutMs;
    return idle ? null : toConversation(row);
  }

  openConversation(
    customerWaId: string,
    now: Date,
    sessionTimeoutMs: number,
  ): Promise<Conversation> {
    return this.db.transaction(async (tx) => {
      await this.expireIdleIn(
        tx,
        new Date(now.getTime() - sessionTimeoutMs),
        now,
        [customerWaId],
      );
      const [row] = await tx
        .insert(conversations)
        .values({
          customerWaId,
          startedAt: now,
          lastActivityAt: now,
          stateChangedAt: now,
        })
        .onConflictDoUpdate({
          target: conversations.customerWaId,
          targetWhere: sql`${conversations.state} <> 'expired'`,
          set: { customerWaId },
        })
        .returning();
      return toConversation(row);
    });
  }

  changeState(
    conversationId: string,
    change: StateChange,
    now: Date,
  ): Promise<Conversation> {
    return this.db.transaction((tx) =>
      this.applyStateChange(tx, conversationId, change, now),
    );
  }

  private async applyStateChange(
    tx: Tx,
    conversationId: string,
    change: StateChange,
    now: Date,
  ): Promise<Conversation> {
    const [row] = await tx
      .update(conversations)
      .set({
        state: change.state,
        stateReason: change.reason,
        stateChangedAt: now,
        handoffUntil:
          change.state === 'handoff' ? (change.handoffUntil ?? null) : null,
        lastActivityAt: now,
      })
      .where(eq(conversations.id, conversationId))
      .returning();
    await tx.insert(conversationEvents).values({
      conversationId,
      type: change.state === 'handoff' ? 'handoff' : 'resume',
      actor: change.actor,
      reason: change.reason,
      createdAt: now,
    });
    return toConversation(row);
  }

  resumeDueHandoffs(now: Date): Promise<string[]> {
    return this.db.transaction(async (tx) => {
      const due = await tx
        .update(conversations)
        .set({
          state: 'active',
          stateReason: 'auto-resume',
          stateChangedAt: now,
          handoffUntil: null,
          lastActivityAt: now,
        })
        .where(
          and(
            eq(conversations.state, 'handoff'),
            lte(conversations.handoffUntil, now),
          ),
        )
        .returning({ id: conversations.id });
      if (due.length > 0) {
        await tx.insert(conversationEvents).values(
          due.map((d) => ({
            conversationId: d.id,
            type: 'resume',
            actor: 'system',
            reason: 'handoff time ended',
            createdAt: now,
          })),
        );
      }
      return due.map((d) => d.id);
    });
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
    const events = rowsOf<{
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
    for (const mark of marks) {
      const reported = events.filter((e) => e.wamid === mark.wamid);
      if (reported.length === 0) continue;
      const status = settleStatus(
        nextStatus('sending', 'sent'),
        reported.map((e) => e.status),
      );
      if (status === 'sent') continue;
      await this.db
        .update(messages)
        .set({
          status,
          error:
            status === 'failed'
              ? (reported.find((e) => e.status === 'failed')?.error ?? null)
              : null,
        })
        .where(eq(messages.id, mark.messageId));
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

  async expireIdle(cutoff: Date, now: Date): Promise<number> {
    return (await this.expireIdleIn(this.db, cutoff, now)).length;
  }

  /** Active conversations idle since before `cutoff` (of these customers) end. */
  private expireIdleIn(
    tx: Tx | Db,
    cutoff: Date,
    now: Date,
    customerWaIds?: string[],
  ) {
    return tx
      .update(conversations)
      .set({ state: 'expired', stateReason: 'idle', stateChangedAt: now })
      .where(
        and(
          // One statement text whatever the number of customers, so the
          // embedded database prepares it once.
          customerWaIds
            ? sql`${conversations.customerWaId} = any(${sql.param(customerWaIds)}::text[])`
            : undefined,
          eq(conversations.state, 'active'),
          lt(conversations.lastActivityAt, cutoff),
        ),
      )
      .returning({ id: conversations.id });
  }
}

class AlreadyAnswered extends Error {}
