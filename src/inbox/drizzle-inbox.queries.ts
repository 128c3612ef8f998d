import { Injectable } from '@nestjs/common';
import { and, asc, desc, eq, gt, ilike, inArray, sql, SQL } from 'drizzle-orm';
import type { TurnStep } from '../turns/tool-journal';
import { DatabaseConnection, Db } from '../database/database-connection';
import {
  conversationEvents,
  conversations,
  messages,
  turnSteps,
} from '../database/schema';
import {
  ConversationEvent,
  ConversationFilter,
  ConversationSummary,
  InboxQueries,
  InvalidCursorError,
  Page,
  Stats,
} from './inbox.queries';
import { Message } from '../conversation/conversation.types';
import { toConversation, toMessage } from '../conversation/row-mappers';

const encodeCursor = (value: object) =>
  Buffer.from(JSON.stringify(value)).toString('base64url');

function decodeCursor<T>(cursor: string, check: (v: unknown) => v is T): T {
  try {
    const value: unknown = JSON.parse(
      Buffer.from(cursor, 'base64url').toString('utf8'),
    );
    if (check(value)) return value;
  } catch {
    // fall through
  }
  throw new InvalidCursorError('cursor is not valid');
}

const isActivityCursor = (v: unknown): v is { t: string; id: string } =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as { t?: unknown }).t === 'string' &&
  !Number.isNaN(Date.parse((v as { t: string }).t)) &&
  typeof (v as { id?: unknown }).id === 'string' &&
  /^[0-9a-f-]{36}$/i.test((v as { id: string }).id);

const isIdCursor = (v: unknown): v is { id: number } =>
  typeof v === 'object' &&
  v !== null &&
  Number.isSafeInteger((v as { id?: unknown }).id);

// Written out: Drizzle drops table names inside a selected subquery, which
// would make `id` ambiguous.
const messageCount = sql<number>`(select count(*)::int from messages m where m.conversation_id = conversations.id)`;
const unansweredCount = sql<number>`(select count(*)::int from messages m where m.conversation_id = conversations.id and m.direction = 'inbound' and m.answered_at is null)`;

/** Drizzle adapter of the operators' read side. */
@Injectable()
export class DrizzleInboxQueries extends InboxQueries {
  private readonly db: Db;

  constructor(connection: DatabaseConnection) {
    super();
    this.db = connection.db;
  }

  async listConversations(
    filter: ConversationFilter,
  ): Promise<Page<ConversationSummary>> {
    const conditions: Array<SQL | undefined> = [
      filter.state ? eq(conversations.state, filter.state) : undefined,
      filter.customerWaId
        ? eq(conversations.customerWaId, filter.customerWaId)
        : undefined,
      filter.customerName
        ? ilike(
            conversations.customerName,
            `%${filter.customerName.replace(/[%_\\]/g, '\\$&')}%`,
          )
        : undefined,
    ];
    if (filter.cursor) {
      const { t, id } = decodeCursor(filter.cursor, isActivityCursor);
      conditions.push(
        sql`(${conversations.lastActivityAt}, ${conversations.id}) < (${new Date(t)}, ${id})`,
      );
    }
    const rows = await this.db
      .select({ conversation: conversations, messageCount, unansweredCount })
      .from(conversations)
      .where(and(...conditions))
      .orderBy(desc(conversations.lastActivityAt), desc(conversations.id))
      .limit(filter.limit + 1);
    const items = rows.slice(0, filter.limit).map((r) => ({
      ...toConversation(r.conversation),
      messageCount: Number(r.messageCount),
      unansweredCount: Number(r.unansweredCount),
    }));
    const last = items.at(-1);
    return {
      items,
      nextCursor:
        rows.length > filter.limit && last
          ? encodeCursor({ t: last.lastActivityAt.toISOString(), id: last.id })
          : null,
    };
  }

  async getConversation(id: string) {
    const [row] = await this.db
      .select({ conversation: conversations, messageCount, unansweredCount })
      .from(conversations)
      .where(eq(conversations.id, id));
    if (!row) return null;
    const events = await this.db
      .select()
      .from(conversationEvents)
      .where(eq(conversationEvents.conversationId, id))
      .orderBy(asc(conversationEvents.id));
    return {
      ...toConversation(row.conversation),
      messageCount: Number(row.messageCount),
      unansweredCount: Number(row.unansweredCount),
      events: events.map((e): ConversationEvent => ({
        type: e.type,
        actor: e.actor,
        reason: e.reason,
        at: e.createdAt,
      })),
    };
  }

  async listMessages(
    conversationId: string,
    page: { limit: number; cursor?: string },
  ): Promise<Page<Message & { steps: TurnStep[] }>> {
    const after = page.cursor ? decodeCursor(page.cursor, isIdCursor).id : 0;
    const rows = await this.db
      .select()
      .from(messages)
      .where(
        and(
          eq(messages.conversationId, conversationId),
          gt(messages.id, after),
        ),
      )
      .orderBy(asc(messages.id))
      .limit(page.limit + 1);
    const found = rows.slice(0, page.limit).map(toMessage);
    const steps = await this.stepsOf(found);
    const items = found.map((m) => ({
      ...m,
      steps: (m.chunkIndex === 0 && m.turnKey && steps.get(m.turnKey)) || [],
    }));
    const last = items.at(-1);
    return {
      items,
      nextCursor:
        rows.length > page.limit && last ? encodeCursor({ id: last.id }) : null,
    };
  }

  /** The steps of the turns whose replies start on this page, by turn key. */
  private async stepsOf(page: Message[]): Promise<Map<string, TurnStep[]>> {
    const keys = page.flatMap((m) =>
      m.chunkIndex === 0 && m.turnKey ? [m.turnKey] : [],
    );
    const byKey = new Map<string, TurnStep[]>();
    if (keys.length === 0) return byKey;
    const rows = await this.db
      .select()
      .from(turnSteps)
      .where(inArray(turnSteps.turnKey, keys))
      .orderBy(asc(turnSteps.round), asc(turnSteps.position));
    for (const row of rows) {
      const list = byKey.get(row.turnKey) ?? [];
      list.push({
        round: row.round,
        position: row.position,
        kind: row.kind as TurnStep['kind'],
        callId: row.callId,
        name: row.name,
        arguments: row.arguments,
        result: row.result,
        ok: row.ok,
        durationMs: row.durationMs,
      });
      byKey.set(row.turnKey, list);
    }
    return byKey;
  }

  async stats(from: Date, to: Date): Promise<Stats> {
    const inRange = (column: SQL | typeof messages.createdAt) =>
      sql`${column} >= ${from} and ${column} < ${to}`;
    const [counts] = await this.db
      .select({
        inbound: sql<number>`count(*) filter (where ${messages.direction} = 'inbound')::int`,
        outbound: sql<number>`count(*) filter (where ${messages.direction} = 'outbound')::int`,
        fallback: sql<number>`count(distinct ${messages.turnKey}) filter (where ${messages.author} = 'fallback')::int`,
        prompt: sql<number>`coalesce(sum(${messages.promptTokens}), 0)::bigint`,
        completion: sql<number>`coalesce(sum(${messages.completionTokens}), 0)::bigint`,
      })
      .from(messages)
      .where(inRange(messages.createdAt));
    const [opened] = await this.db
      .select({ count: sql<number>`count(*)::int` })
      .from(conversations)
      .where(
        sql`${conversations.startedAt} >= ${from} and ${conversations.startedAt} < ${to}`,
      );
    const [handoffs] = await this.db
      .select({ count: sql<number>`count(*)::int` })
      .from(conversationEvents)
      .where(
        and(
          eq(conversationEvents.type, 'handoff'),
          sql`${conversationEvents.createdAt} >= ${from} and ${conversationEvents.createdAt} < ${to}`,
        ),
      );
    const latency = await this.db.execute<{
      median: number | null;
      p95: number | null;
      samples: number;
    }>(sql`
      select
        percentile_cont(0.5) within group (order by ms) as median,
        percentile_cont(0.95) within group (order by ms) as p95,
        count(*)::int as samples
      from (
        select extract(epoch from (reply.accepted_at - inbound.created_at)) * 1000 as ms
        from ${messages} reply
        join ${messages} inbound on inbound.id = reply.reply_to_id
        where reply.direction = 'outbound' and reply.chunk_index = 0
          and reply.accepted_at is not null
          and reply.created_at >= ${from} and reply.created_at < ${to}
      ) t`);
    const failures = await this.db
      .select({
        code: sql<string>`coalesce(${messages.error}->>'code', 'unknown')`,
        count: sql<number>`count(*)::int`,
      })
      .from(messages)
      .where(
        and(
          eq(messages.direction, 'outbound'),
          eq(messages.status, 'failed'),
          inRange(messages.createdAt),
        ),
      )
      .groupBy(sql`1`)
      .orderBy(sql`2 desc`);
    const latencyRow = (
      latency as unknown as {
        rows: Array<{ median: unknown; p95: unknown; samples: unknown }>;
      }
    ).rows[0];
    const round = (v: unknown) =>
      v === null || v === undefined ? null : Math.round(Number(v));
    const prompt = Number(counts.prompt);
    const completion = Number(counts.completion);
    return {
      from,
      to,
      inboundMessages: Number(counts.inbound),
      outboundMessages: Number(counts.outbound),
      conversationsOpened: Number(opened.count),
      handoffs: Number(handoffs.count),
      fallbackReplies: Number(counts.fallback),
      llmTokens: { prompt, completion, total: prompt + completion },
      replyLatencyMs: {
        median: round(latencyRow?.median),
        p95: round(latencyRow?.p95),
        samples: Number(latencyRow?.samples ?? 0),
      },
      sendFailures: failures.map((f) => ({
        code: String(f.code),
        count: Number(f.count),
      })),
    };
  }
}
