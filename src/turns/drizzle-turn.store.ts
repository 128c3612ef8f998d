import { Injectable } from '@nestjs/common';
import { sql } from 'drizzle-orm';
import type {
  Conversation,
  MediaResult,
  Message,
  OutboundDraft,
  StateChange,
  TurnSnapshot,
} from '../conversation/conversation.types';
import {
  conversationFromJson,
  Json,
  messageFromJson,
  messageJsonColumns,
} from '../conversation/row-mappers';
import { applyStateChange } from '../conversation/state-change.statement';
import { DatabaseConnection, Db } from '../database/database-connection';
import { Executor, rowsOf } from '../database/executor';
import { GroupCommitter } from '../database/group-committer';
import { conversations, messages } from '../database/schema';
import {
  CHUNK_COLUMNS,
  chunksJson,
  insertOutboundStatement,
} from '../outbound/outbound-rows.statement';
import { TurnStore } from './turn.store';

const MESSAGE_COLUMNS = sql.raw(messageJsonColumns('m'));
/** Authors whose messages a turn wrote (flood control counts those turns). */
const TURN_AUTHORS = sql.raw(`'bot', 'fallback', 'notice'`);

/**
 * How much work of concurrent turns one statement takes, in rows. Turns
 * running at once share their reads and reply records: on PGlite one thread
 * runs every statement, and each costs far more than a row. The caps keep
 * each statement about as short as a webhook batch's, so acknowledgements
 * never wait long behind turn work.
 */
const TURN_READ_ROWS = 128;
const TURN_WRITE_ROWS = 48;

interface TurnRead {
  conversationId: string;
  historyLimit: number;
  turnsSince: Date;
}

interface Reply {
  conversationId: string;
  answeredIds: number[];
  turnKey: string;
  drafts: OutboundDraft[];
  now: Date;
}

/** Drizzle adapter: the same code on PGlite and on a PostgreSQL server. */
@Injectable()
export class DrizzleTurnStore extends TurnStore {
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
  private readonly replies = new GroupCommitter<Reply, Message[] | null>(
    (replies) => recordReplies(this.db, replies),
    {
      maxBatch: TURN_WRITE_ROWS,
      // Messages settled, chunks inserted.
      sizeOf: (r) => r.answeredIds.length + r.drafts.length,
      maxInFlight: 2,
      // Two turns of one conversation in one statement would both pass its
      // check: the second waits for a statement of its own.
      keysOf: (r) => [r.conversationId, ...r.answeredIds.map(String)],
    },
  );

  constructor(connection: DatabaseConnection) {
    super();
    this.db = connection.db;
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
    return rowsOf<{ id: string }>(result).map((r) => r.id);
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
                   where m.conversation_id = c.id
                     and (m.text is not null or m.media_text is not null)
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

  async saveMediaResults(results: MediaResult[]): Promise<void> {
    if (results.length === 0) return;
    const input = results.map((r) => ({
      id: r.messageId,
      status: r.status,
      text: r.text,
      failure: r.failure,
    }));
    await this.db.execute(sql`
      update ${messages} m
         set media_status = i.status, media_text = i.text,
             media_failure = i.failure
        from jsonb_to_recordset(${JSON.stringify(input)}::jsonb)
             as i(id bigint, status text, text text, failure text)
       where m.id = i.id and m.direction = 'inbound'`);
  }

  recordReply(
    conversationId: string,
    answeredIds: number[],
    turnKey: string,
    drafts: OutboundDraft[],
    now: Date,
    handoff?: StateChange,
  ): Promise<Message[] | null> {
    const ids = [...new Set(answeredIds)];
    if (ids.length === 0) return Promise.resolve(null);
    const reply: Reply = {
      conversationId,
      answeredIds: ids,
      turnKey,
      drafts,
      now,
    };
    // Almost every turn: shared with the turns running at once.
    if (!handoff) return this.replies.submit(reply);
    // A reply that hands the conversation to a person (rare): the state
    // change and its event go in the same transaction as the reply.
    return this.db.transaction(async (tx) => {
      const [recorded] = await recordReplies(tx, [reply]);
      if (recorded) await applyStateChange(tx, conversationId, handoff, now);
      return recorded;
    });
  }
}

/**
 * The one way a reply is recorded, for one turn or for several (of
 * different conversations) in one statement: the answered messages are
 * settled, the conversation touched, and the chunks inserted already claimed
 * for sending. The messages to settle and the conversations are locked, and
 * PostgreSQL re-checks a locked row that changed meanwhile: a turn whose
 * messages another turn answered first, or whose conversation an operator
 * took over, is left out, and nothing is written for it (its result is null).
 */
async function recordReplies(
  tx: Executor,
  replies: Reply[],
): Promise<Array<Message[] | null>> {
  const input = replies.map((r, n) => ({
    n,
    conversation_id: r.conversationId,
    ids: r.answeredIds,
    turn_key: r.turnKey,
    reply_to: Math.max(...r.answeredIds),
    at: r.now.toISOString(),
    chunks: chunksJson(r.drafts),
  }));
  const messageIds = replies.flatMap((r) => r.answeredIds);
  const conversationIds = replies.map((r) => r.conversationId);
  const [row] = rowsOf<{
    recorded: number[];
    messages: Json<Message>[];
  }>(
    await tx.execute(sql`
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
      ${insertOutboundStatement(sql`
        select ok.conversation_id, d.author, d.text, d.kind, d.content,
               'sending' as status,
               ok.at, ok.turn_key, d.chunk_index, ok.reply_to as reply_to_id,
               d.llm_model, d.prompt_tokens, d.completion_tokens,
               row_number() over (order by ok.n, d.chunk_index) as ord
          from ok, jsonb_to_recordset(ok.chunks) as d(${CHUNK_COLUMNS})`)}
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
    recorded.has(n) ? chunks.filter((m) => m.turnKey === reply.turnKey) : null,
  );
}
