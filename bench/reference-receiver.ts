/**
 * The practical ceiling for ClariOps's webhook acknowledgement: the least a
 * correct receiver must do, with nothing else. Plain node:http, the
 * X-Hub-Signature-256 check over the raw bytes (constant time), JSON.parse,
 * and the same durable insert (one table, unique wamid, ON CONFLICT DO
 * NOTHING), with the inserts of concurrent requests grouped into one
 * statement (group commit: one batch in flight, the next one collects
 * meanwhile, as ClariOps's GroupCommitter does). 200 only after the commit.
 *
 * Storage: file-backed PGlite under DATA_DIR, or a PostgreSQL server when
 * DATABASE_URL is set. Run alone with
 *   PORT=3100 DATA_DIR=/tmp/ref node -r ts-node/register/transpile-only bench/reference-receiver.ts
 */
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Pool } from 'pg';
import { answer, APP_SECRET, readSignedWebhook } from './lib/webhook';

const MAX_BATCH = 256;
const secret = process.env.WHATSAPP_APP_SECRET ?? APP_SECRET;

const DDL = `create table if not exists inbound_messages (
  id bigserial primary key,
  wamid text not null,
  customer_wa_id text not null,
  customer_name text,
  body text,
  raw jsonb not null,
  sent_at timestamptz not null,
  created_at timestamptz not null default now()
);
create unique index if not exists inbound_messages_wamid_uq on inbound_messages (wamid);`;

const INSERT = `insert into inbound_messages (wamid, customer_wa_id, customer_name, body, raw, sent_at)
  select r.wamid, r.customer, r.name, r.body, r.raw, to_timestamp(r.ts)
  from jsonb_to_recordset($1::jsonb) as r(wamid text, customer text, name text, body text, raw jsonb, ts double precision)
  on conflict (wamid) do nothing`;

interface Row {
  wamid: string;
  customer: string;
  name: string | null;
  body: string | null;
  raw: unknown;
  ts: number;
}

interface Store {
  insert(rows: Row[]): Promise<void>;
}

async function openStore(): Promise<Store> {
  const url = process.env.DATABASE_URL;
  if (url) {
    const pool = new Pool({ connectionString: url, max: 4 });
    await pool.query(DDL);
    return {
      insert: async (rows) =>
        void (await pool.query(INSERT, [JSON.stringify(rows)])),
    };
  }
  const dir = resolve(process.env.DATA_DIR ?? './data-reference', 'pglite');
  mkdirSync(dir, { recursive: true });
  const db = await PGlite.create(dir);
  await db.exec(DDL);
  return {
    insert: async (rows) =>
      void (await db.query(INSERT, [JSON.stringify(rows)])),
  };
}

/** Collects rows while a write is in flight; writes them as one statement. */
class Batcher {
  private queue: Array<{ rows: Row[]; done: (error?: unknown) => void }> = [];
  private flushing = false;

  constructor(private readonly store: Store) {}

  submit(rows: Row[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({
        rows,
        done: (e) => (e === undefined ? resolve() : reject(e)),
      });
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain() {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      try {
        await this.store.insert(batch.flatMap((b) => b.rows));
        for (const b of batch) b.done();
      } catch (error) {
        for (const b of batch) b.done(error ?? new Error('insert failed'));
      }
    }
    this.flushing = false;
  }
}

/** Every message of every change of every entry. */
function messagesOf(payload: unknown): Row[] {
  const rows: Row[] = [];
  const entries = (payload as { entry?: unknown })?.entry;
  if (!Array.isArray(entries)) return rows;
  for (const entry of entries as Array<{ changes?: unknown }>) {
    if (!Array.isArray(entry?.changes)) continue;
    for (const change of entry.changes as Array<{
      value?: Record<string, unknown>;
    }>) {
      const value = change?.value;
      const contacts = Array.isArray(value?.contacts)
        ? (value.contacts as Array<{
            wa_id?: string;
            profile?: { name?: string };
          }>)
        : [];
      const messages = Array.isArray(value?.messages)
        ? (value.messages as Array<Record<string, unknown>>)
        : [];
      for (const m of messages) {
        if (typeof m.id !== 'string' || typeof m.from !== 'string') continue;
        const text = m.text as { body?: unknown } | undefined;
        rows.push({
          wamid: m.id,
          customer: m.from,
          name: contacts.find((c) => c.wa_id === m.from)?.profile?.name ?? null,
          body: typeof text?.body === 'string' ? text.body : null,
          raw: m,
          ts: Number(m.timestamp) || Date.now() / 1000,
        });
      }
    }
  }
  return rows;
}

async function main() {
  const batcher = new Batcher(await openStore());
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/health')
      return answer(res, 200, '{"status":"ok"}');
    if (req.method !== 'POST' || req.url !== '/webhook')
      return answer(res, 404, '{"error":"not found"}');
    readSignedWebhook(req, res, secret, (payload) => {
      const rows = messagesOf(payload);
      if (rows.length === 0) return answer(res, 200, '{"success":true}');
      batcher.submit(rows).then(
        () => answer(res, 200, '{"success":true}'),
        () => answer(res, 503, '{"error":"not stored"}'),
      );
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(Number(process.env.PORT ?? 3100), '127.0.0.1');
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`reference receiver failed: ${String(error)}\n`);
  process.exit(1);
});
