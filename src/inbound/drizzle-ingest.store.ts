import { Injectable } from '@nestjs/common';
import { sql } from 'drizzle-orm';
import { expireIdleStatement } from '../conversation/expire-idle.statement';
import { DatabaseConnection, Db } from '../database/database-connection';
import type { Tx } from '../database/executor';
import { GroupCommitter } from '../database/group-committer';
import { urgently } from '../database/priority-gate';
import { statusEvents, webhookErrors } from '../database/schema';
import { IngestStore } from './ingest.store';
import type {
  IngestBatch,
  IngestResult,
  InboundMessageInput,
} from './ingest.types';
import { KNOWN_STATUSES } from './message-status';
import { reconcileStatuses } from './status-reconciliation';

interface Submission {
  batch: IngestBatch;
  now: Date;
  sessionTimeoutMs: number;
}

/** Stored message rows, as the insert returns them. */
interface StoredRow {
  conversation_id: string;
  reply_action: string | null;
  wamid: string;
}

/**
 * Drizzle adapter: the same code on PGlite and on a PostgreSQL server.
 * Webhooks that arrive together share one transaction (group commit); each
 * caller gets the result for its own events.
 */
@Injectable()
export class DrizzleIngestStore extends IngestStore {
  private readonly db: Db;
  // Two groups in flight: one being written while the next waits at the
  // database, so it never idles between groups.
  private readonly groups = new GroupCommitter<Submission, IngestResult>(
    (items) => this.write(items),
    { maxBatch: 256, maxInFlight: 2 },
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
    return this.groups.submit({ batch, now, sessionTimeoutMs });
  }

  private async write(items: Submission[]): Promise<IngestResult[]> {
    const last = items[items.length - 1];
    const merged: IngestBatch = {
      messages: items.flatMap((i) => i.batch.messages),
      statuses: items.flatMap((i) => i.batch.statuses),
      errors: items.flatMap((i) => i.batch.errors),
    };
    const stored = await this.store(merged, last.now, last.sessionTimeoutMs);
    // Each caller's share: a message two webhooks of the group carried is
    // stored for the first and a duplicate for the second.
    const fresh = new Map(stored.map((row) => [row.wamid, row]));
    return items.map(({ batch }) => {
      const mine = batch.messages.flatMap((m) => {
        const row = fresh.get(m.wamid);
        if (!row) return [];
        fresh.delete(m.wamid);
        return [row];
      });
      return resultOf(mine, batch.messages.length);
    });
  }

  private store(
    batch: IngestBatch,
    now: Date,
    sessionTimeoutMs: number,
  ): Promise<StoredRow[]> {
    // Webhooks wait on this: on PGlite it goes ahead of queued turn work.
    return urgently(async () => {
      const stored = await this.ingestMessages(
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
      return stored;
    });
  }

  private async ingestMessages(
    inbound: InboundMessageInput[],
    now: Date,
    sessionTimeoutMs: number,
  ): Promise<StoredRow[]> {
    // One row per wamid, even when a batch holds the same message twice.
    const unique = [...new Map(inbound.map((m) => [m.wamid, m])).values()];
    if (unique.length === 0) return [];
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
      expireIdleStatement(this.db, cutoff, now, customerIds).getSQL(),
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
    return insertedRows as unknown as StoredRow[];
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
    await reconcileStatuses(tx, statuses, now);
  }
}

/** What one caller's events came to: `stored` of its `received` messages were new. */
function resultOf(stored: StoredRow[], received: number): IngestResult {
  const toAnswer = stored.filter(
    (m) => m.reply_action === 'llm' || m.reply_action === 'media-notice',
  );
  return {
    stored: stored.length,
    duplicates: received - stored.length,
    conversationsToAnswer: [...new Set(toAnswer.map((m) => m.conversation_id))],
    messagesToAnswer: toAnswer.map((m) => ({
      wamid: m.wamid,
      conversationId: m.conversation_id,
    })),
  };
}
