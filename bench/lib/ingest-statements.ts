/**
 * Diagnostic for part 1: what the ingest transaction costs in PGlite, per
 * batch of webhooks, as the app writes it (its own IngestStore from dist/,
 * through Drizzle) and as a proposed statement shape would (the batch as
 * one jsonb parameter: one UPDATE to expire idle conversations, then one
 * statement that upserts the conversations and inserts the messages).
 * No HTTP: only the database work the ack waits for.
 */
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { schema as Schema } from '../../src/database/schema';
import type { DrizzleIngestStore } from '../../src/inbound/drizzle-ingest.store';
import type { IngestBatch } from '../../src/inbound/ingest.types';
import { benchConnection, migrateAppDatabase } from './database';
import { ROOT } from './processes';
import { monoMs, round } from './stats';
import { wamidFor, waIdFor } from './webhook';

const TIMEOUT_MS = 30 * 60_000;

/** The ingest the proposal would run: the batch travels as one jsonb parameter. */
export const PROPOSED_EXPIRE = `update conversations
  set state = 'expired', state_reason = 'idle', state_changed_at = $2
  where customer_wa_id in (select jsonb_array_elements_text($1::jsonb))
    and state = 'active' and last_activity_at < $3`;

export const PROPOSED_INGEST = `with input as (
    select * from jsonb_to_recordset($1::jsonb) as r(
      wamid text, customer text, name text, kind text, body text, media_id text,
      raw jsonb, sent_at timestamptz, reply_action text)
  ), fresh as (
    select distinct on (i.wamid) i.* from input i
    where not exists (select 1 from messages m where m.wamid = i.wamid)
  ), customers as (
    select customer, (array_agg(name) filter (where name is not null))[1] as name
    from fresh group by customer
  ), opened as (
    insert into conversations (customer_wa_id, customer_name, started_at, last_activity_at, state_changed_at)
    select customer, name, $2, $2, $2 from customers
    on conflict (customer_wa_id) where state <> 'expired'
    do update set customer_name = coalesce(excluded.customer_name, conversations.customer_name),
                  last_activity_at = excluded.last_activity_at
    returning id, customer_wa_id
  )
  insert into messages (conversation_id, direction, author, wamid, kind, text, media_id, raw,
                        status, sent_at, reply_action, answered_at)
  select o.id, 'inbound', 'customer', f.wamid, f.kind, f.body, f.media_id, f.raw,
         'received', f.sent_at, f.reply_action, case when f.reply_action = 'none' then $2::timestamptz end
  from fresh f join opened o on o.customer_wa_id = f.customer
  on conflict (wamid) do nothing
  returning conversation_id, reply_action`;

function batchOf(
  tag: string,
  start: number,
  size: number,
  customers: number,
): IngestBatch {
  const now = new Date();
  return {
    messages: Array.from({ length: size }, (_, k) => {
      const n = start + k;
      const waId = waIdFor('4490', n % customers);
      const wamid = wamidFor(tag, n);
      return {
        wamid,
        customerWaId: waId,
        customerName: `Bench Customer ${n % customers}`,
        timestamp: now,
        kind: 'text',
        text: `Hello, is order ${n} on its way?`,
        mediaId: null,
        reply: 'llm' as const,
        raw: {
          from: waId,
          id: wamid,
          timestamp: String(Math.floor(now.getTime() / 1000)),
          text: { body: `Hello, is order ${n} on its way?` },
          type: 'text',
        },
      };
    }),
    statuses: [],
    errors: [],
  };
}

async function proposedIngest(
  client: PGlite,
  batch: IngestBatch,
  now: Date,
  statement = PROPOSED_INGEST,
) {
  const rows = batch.messages.map((m) => ({
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
  const customers = [...new Set(rows.map((r) => r.customer))];
  return client.transaction(async (tx) => {
    await tx.query(PROPOSED_EXPIRE, [
      JSON.stringify(customers),
      now,
      new Date(now.getTime() - TIMEOUT_MS),
    ]);
    return tx.query(statement, [JSON.stringify(rows), now]);
  });
}

export interface StatementShapeResult {
  batchSize: number;
  /** Median ms per batch. */
  currentMs: number;
  proposedMs: number;
  /** Messages per second one core could store this way (batch size / ms). */
  currentPerSecond: number;
  proposedPerSecond: number;
}

type IngestStoreModule = {
  DrizzleIngestStore: typeof DrizzleIngestStore;
};
type SchemaModule = { schema: typeof Schema };

async function timeBatches(
  write: (batch: IngestBatch) => Promise<unknown>,
  tag: string,
  size: number,
  batches: number,
): Promise<number> {
  const times: number[] = [];
  for (let b = 0; b < batches; b++) {
    const batch = batchOf(tag, b * size, size, 500);
    const t0 = monoMs();
    await write(batch);
    times.push(monoMs() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** Both shapes on fresh file-backed databases, batch sizes 1, 8 and 32. */
export async function compareIngestStatements(
  tempDir: (label: string) => string,
): Promise<StatementShapeResult[]> {
  const { DrizzleIngestStore: IngestStore } = require(
    join(ROOT, 'dist', 'inbound', 'drizzle-ingest.store.js'),
  ) as IngestStoreModule;
  const { schema } = require(
    join(ROOT, 'dist', 'database', 'schema.js'),
  ) as SchemaModule;
  const open = async (label: string) => {
    const client = await PGlite.create(join(tempDir(label), 'pglite'));
    await migrateAppDatabase(client);
    return client;
  };
  const current = await open('shape-current');
  const proposed = await open('shape-proposed');
  try {
    const store = new IngestStore(benchConnection(current, schema));
    const shapes: Record<'c' | 'p', (b: IngestBatch) => Promise<unknown>> = {
      c: (b) => store.ingest(b, new Date(), TIMEOUT_MS),
      p: (b) => proposedIngest(proposed, b, new Date()),
    };
    const results: StatementShapeResult[] = [];
    for (const size of [1, 8, 32]) {
      const batches = Math.max(40, Math.round(1500 / size));
      const ms: Record<string, number> = {};
      for (const [key, write] of Object.entries(shapes)) {
        // Warm-up (JIT, buffers), then the measured batches.
        await timeBatches(write, `w${size}${key}`, size, 20);
        ms[key] = await timeBatches(write, `m${size}${key}`, size, batches);
      }
      results.push({
        batchSize: size,
        currentMs: round(ms.c, 3),
        proposedMs: round(ms.p, 3),
        currentPerSecond: Math.round((size * 1000) / ms.c),
        proposedPerSecond: Math.round((size * 1000) / ms.p),
      });
    }
    // Every shape must have stored the same thing.
    const count = async (c: PGlite, table: string) =>
      (await c.query<{ n: number }>(`select count(*)::int as n from ${table}`))
        .rows[0].n;
    for (const table of ['messages', 'conversations']) {
      const counts = [
        await count(current, table),
        await count(proposed, table),
      ];
      if (new Set(counts).size !== 1)
        throw new Error(
          `the shapes stored different ${table} counts: ${counts.join(' / ')}`,
        );
    }
    return results;
  } finally {
    await current.close();
    await proposed.close();
  }
}
