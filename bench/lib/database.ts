import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import type { SQL } from 'drizzle-orm';
import { migrate } from 'drizzle-orm/pglite/migrator';
import type { DrizzleConversationStore } from '../../src/conversation/drizzle-conversation.store';
import type { DatabaseConnection } from '../../src/database/database-connection';
import type { schema as Schema } from '../../src/database/schema';
import type { DrizzleOutboxStore } from '../../src/outbound/drizzle-outbox.store';
import type { DrizzleTurnStore } from '../../src/turns/drizzle-turn.store';
import { ROOT } from './processes';
import { monoMs, round, summarise, type LatencySummary } from './stats';

/** The app keeps PGlite's files in DATA_DIR/pglite (src/database/open-database.ts). */
export function openAppDatabase(dataDir: string): Promise<PGlite> {
  return PGlite.create(resolve(dataDir, 'pglite'));
}

/** The app's own migrations, as it applies them at start. */
export async function migrateAppDatabase(client: PGlite): Promise<void> {
  await migrate(drizzle({ client }), {
    migrationsFolder: join(ROOT, 'drizzle'),
  });
}

export async function countRows(client: PGlite, sql: string): Promise<number> {
  const { rows } = await client.query<{ n: number }>(sql);
  return Number(rows[0]?.n ?? 0);
}

export interface SeedResult {
  conversations: number;
  messages: number;
  seconds: number;
  databaseMb: number;
}

/**
 * Stored history as a service that has run for a while has it:
 * `conversations` conversations (a tenth of them active, idle for less than
 * the session timeout; the rest expired), each with an answered inbound
 * message and a read bot reply; plus `due` active conversations idle past
 * the timeout, for the expiry job to end. Customers are distinct from the
 * load generator's. No ANALYZE: PGlite runs Postgres in single-user mode,
 * where autovacuum never runs, so the app's tables never get statistics.
 */
export async function seedConversations(
  client: PGlite,
  conversations: number,
  due: number,
  timeoutMinutes: number,
): Promise<SeedResult> {
  const started = monoMs();
  await client.exec('begin');
  if (conversations > 0) {
    await client.query(
      `insert into conversations (customer_wa_id, customer_name, state, state_reason, state_changed_at, started_at, last_activity_at)
       select '48' || lpad(g::text, 10, '0'), 'Seeded customer ' || g,
              case when g % 10 = 0 then 'active' else 'expired' end,
              case when g % 10 = 0 then null else 'idle' end,
              t.at, t.at - interval '5 minutes', t.at
       from generate_series(1, $1::int) g,
            lateral (select case when g % 10 = 0
                                 then now() - (g % ($2::int * 60 - 120)) * interval '1 second'
                                 else now() - interval '2 days' - g * interval '10 seconds' end as at) t`,
      [conversations, timeoutMinutes],
    );
  }
  if (due > 0) {
    await client.query(
      `insert into conversations (customer_wa_id, customer_name, state, state_changed_at, started_at, last_activity_at)
       select '47' || lpad(g::text, 10, '0'), 'Idle customer ' || g,
              'active', t.at, t.at - interval '5 minutes', t.at
       from generate_series(1, $1::int) g,
            lateral (select now() - $2::int * interval '1 minute' - g * interval '1 second' as at) t`,
      [due, timeoutMinutes],
    );
  }
  await client.exec(
    `insert into messages (conversation_id, direction, author, wamid, kind, text, raw, status, sent_at, created_at, answered_at, reply_action)
     select c.id, 'inbound', 'customer', 'wamid.seed.in.' || c.customer_wa_id, 'text', 'Hello, where is my order?',
            jsonb_build_object('from', c.customer_wa_id, 'id', 'wamid.seed.in.' || c.customer_wa_id, 'type', 'text',
                               'text', jsonb_build_object('body', 'Hello, where is my order?')),
            'received', c.started_at, c.started_at, c.started_at + interval '2 seconds', 'llm'
     from conversations c;
     insert into messages (conversation_id, direction, author, wamid, kind, text, status, sent_at, created_at,
                           status_updated_at, turn_key, chunk_index, attempts, accepted_at, llm_model, prompt_tokens, completion_tokens)
     select c.id, 'outbound', 'bot', 'wamid.seed.out.' || c.customer_wa_id, 'text', 'It is on its way and arrives tomorrow.',
            'read', c.started_at + interval '2 seconds', c.started_at + interval '2 seconds', c.started_at + interval '10 seconds',
            c.id || ':seed', 0, 1, c.started_at + interval '3 seconds', 'bench-model', 120, 12
     from conversations c;
     commit;
     checkpoint;`,
  );
  const total = await countRows(
    client,
    'select count(*)::int as n from conversations',
  );
  const messages = await countRows(
    client,
    'select count(*)::int as n from messages',
  );
  const size = await countRows(
    client,
    'select pg_database_size(current_database())::bigint as n',
  );
  return {
    conversations: total,
    messages,
    seconds: round((monoMs() - started) / 1000, 1),
    databaseMb: round(size / 1024 / 1024, 1),
  };
}

export interface JobTimings {
  /** ConversationStore.expireIdle with `due` conversations to end: what the job does when work is due. */
  expireDue: { ms: number; expired: number };
  /** ConversationStore.expireIdle with nothing due: every later run of the job. */
  expireSteady: LatencySummary;
  /** TurnStore.findConversationsWithPendingWork: the pending-work sweep, every 10 s. */
  pendingSweep: LatencySummary;
  /** OutboxStore.releaseStaleSends: part of the same sweep, every 10 s. */
  staleSends: LatencySummary;
  plans: { expire: string[]; pendingSweep: string[] };
}

type StoreModules = {
  conversations: { DrizzleConversationStore: typeof DrizzleConversationStore };
  turns: { DrizzleTurnStore: typeof DrizzleTurnStore };
  outbox: { DrizzleOutboxStore: typeof DrizzleOutboxStore };
};
type SchemaModule = { schema: typeof Schema };

/**
 * What the built stores need of a DatabaseConnection, over a PGlite
 * client in this process (the app runs it on a worker thread instead).
 */
export function benchConnection(
  client: PGlite,
  schema: SchemaModule['schema'],
): DatabaseConnection {
  const db = drizzle({ client, schema });
  return {
    db,
    driver: 'pglite',
    atomically: (statements: SQL[]) =>
      db.transaction(async (tx) => {
        const results: unknown[][] = [];
        for (const statement of statements) {
          results.push((await tx.execute(statement)).rows);
        }
        return results;
      }),
  } as unknown as DatabaseConnection;
}

/**
 * Times the session-expiry job's query and the pending-work sweep through
 * the app's own stores (the built ones in dist/), on a database the app is
 * not running on. The plans shown are those of the SQL the stores actually
 * send (captured from the client), explained with the real parameters
 * inside a rolled-back transaction.
 */
export async function timeJobs(
  client: PGlite,
  timeoutMinutes: number,
  repeats = 10,
): Promise<JobTimings> {
  const { DrizzleConversationStore: ConversationStore } = require(
    join(ROOT, 'dist', 'conversation', 'drizzle-conversation.store.js'),
  ) as StoreModules['conversations'];
  const { DrizzleTurnStore: TurnStore } = require(
    join(ROOT, 'dist', 'turns', 'drizzle-turn.store.js'),
  ) as StoreModules['turns'];
  const { DrizzleOutboxStore: OutboxStore } = require(
    join(ROOT, 'dist', 'outbound', 'drizzle-outbox.store.js'),
  ) as StoreModules['outbox'];
  const { schema } = require(
    join(ROOT, 'dist', 'database', 'schema.js'),
  ) as SchemaModule;
  const captured: Array<{ sql: string; params: unknown[] }> = [];
  const spied = new Proxy(client, {
    get(target, property, receiver) {
      if (property === 'query') {
        return (sql: string, params: unknown[] = [], options?: unknown) => {
          captured.push({ sql, params });
          return target.query(sql, params, options as never);
        };
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function'
        ? (value as (...a: unknown[]) => unknown).bind(target)
        : value;
    },
  });
  const connection = benchConnection(spied, schema);
  const conversations = new ConversationStore(connection);
  const turns = new TurnStore(connection);
  const outbox = new OutboxStore(connection);
  const timeoutMs = timeoutMinutes * 60_000;

  // Plans as the app's database thread makes them: one generic plan per
  // statement (src/database/pglite-worker.ts).
  await client.exec('SET plan_cache_mode = force_generic_plan');
  // Warm the buffers as a running app would have them.
  await client.query('select count(*) from conversations');
  await client.query('select count(*) from messages');

  // The expiry statement, captured from a call that matches nothing, then
  // explained with the real cutoff while the due conversations are still there.
  const never = new Date('2000-01-01T00:00:00Z');
  const now = new Date();
  const cutoff = new Date(now.getTime() - timeoutMs);
  captured.length = 0;
  await conversations.expireIdle(never, now);
  const expireSql = captured.at(-1)!;
  const expireParams = expireSql.params.map((p) =>
    p === never.toISOString() ||
    (p instanceof Date && p.getTime() === never.getTime())
      ? cutoff.toISOString()
      : p,
  );
  const plans = {
    expire: await explain(client, expireSql.sql, expireParams),
    pendingSweep: [] as string[],
  };

  let t0 = monoMs();
  const expired = await conversations.expireIdle(cutoff, now);
  const expireDue = { ms: round(monoMs() - t0), expired };

  const steady: number[] = [];
  const sweep: number[] = [];
  const stale: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const at = new Date();
    t0 = monoMs();
    await conversations.expireIdle(new Date(at.getTime() - timeoutMs), at);
    steady.push(monoMs() - t0);
    captured.length = 0;
    t0 = monoMs();
    await turns.findConversationsWithPendingWork(new Date(Date.now() - 6000));
    sweep.push(monoMs() - t0);
    t0 = monoMs();
    await outbox.releaseStaleSends(new Date(Date.now() - 60_000));
    stale.push(monoMs() - t0);
  }
  const sweepSql = captured.at(-1);
  if (sweepSql)
    plans.pendingSweep = await explain(client, sweepSql.sql, sweepSql.params);
  return {
    expireDue,
    expireSteady: summarise(steady),
    pendingSweep: summarise(sweep),
    staleSends: summarise(stale),
    plans,
  };
}

/** EXPLAIN ANALYZE inside a rolled-back transaction: the plan, nothing changed. */
async function explain(
  client: PGlite,
  sql: string,
  params: unknown[],
): Promise<string[]> {
  await client.exec('begin');
  try {
    const { rows } = await client.query<{ 'QUERY PLAN': string }>(
      `explain (analyze, costs off) ${sql}`,
      params,
    );
    return rows.map((r) => r['QUERY PLAN']);
  } finally {
    await client.exec('rollback');
  }
}
