/**
 * What a turn's statements cost the embedded database, without HTTP, the LLM
 * or the Graph API: the built app's stores (dist/) on file-backed PGlite,
 * opened as the app opens it (its worker thread, prepared statements,
 * statistics upkeep). TURNS conversations get one unanswered message each;
 * then each turn reads (`loadTurn`), records a one-chunk reply
 * (`recordReply`) and stores the wamid (`markSent`), with CONCURRENCY turns
 * in flight. Prints turns/s and the time each step waited, per turn.
 * Not part of `npm run bench`; run it alone after `npm run build`:
 *   node -r ts-node/register/transpile-only bench/turn-statements.ts
 *   TURNS=4000 CONCURRENCY=1,16,32 node -r ts-node/register/transpile-only bench/turn-statements.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { openDatabase as OpenDatabase } from '../src/database/open-database';
import type { DrizzleIngestStore } from '../src/inbound/drizzle-ingest.store';
import type { DrizzleOutboxStore } from '../src/outbound/drizzle-outbox.store';
import type { DrizzleTurnStore } from '../src/turns/drizzle-turn.store';
import { ROOT } from './lib/processes';
import { monoMs, round } from './lib/stats';

const turns = Math.max(1, Number(process.env.TURNS) || 2000);
const levels = (process.env.CONCURRENCY ?? '1,16,32')
  .split(',')
  .map(Number)
  .filter((n) => n >= 1);

const { openDatabase } = require(
  join(ROOT, 'dist', 'database', 'open-database.js'),
) as { openDatabase: typeof OpenDatabase };
const { DrizzleIngestStore: IngestStore } = require(
  join(ROOT, 'dist', 'inbound', 'drizzle-ingest.store.js'),
) as { DrizzleIngestStore: typeof DrizzleIngestStore };
const { DrizzleTurnStore: TurnStore } = require(
  join(ROOT, 'dist', 'turns', 'drizzle-turn.store.js'),
) as { DrizzleTurnStore: typeof DrizzleTurnStore };
const { DrizzleOutboxStore: OutboxStore } = require(
  join(ROOT, 'dist', 'outbound', 'drizzle-outbox.store.js'),
) as { DrizzleOutboxStore: typeof DrizzleOutboxStore };

async function run(concurrency: number) {
  const dir = mkdtempSync(join(tmpdir(), 'clariops-turn-statements-'));
  const connection = await openDatabase({
    url: null,
    dataDir: dir,
    poolSize: 1,
  });
  const ingest = new IngestStore(connection);
  const turnStore = new TurnStore(connection);
  const outbox = new OutboxStore(connection);
  try {
    const ids: string[] = [];
    for (let start = 0; start < turns; start += 100) {
      const messages = [];
      for (let i = start; i < Math.min(turns, start + 100); i++) {
        messages.push({
          wamid: `wamid.turns-${i}`,
          customerWaId: `4871${String(i).padStart(7, '0')}`,
          customerName: 'Customer',
          timestamp: new Date(),
          kind: 'text',
          text: 'Hello, I have a question about my order',
          mediaId: null,
          reply: 'llm' as const,
          raw: { id: i },
        });
      }
      const stored = await ingest.ingest(
        { messages, statuses: [], errors: [] },
        new Date(),
        30 * 60_000,
      );
      ids.push(...stored.conversationsToAnswer);
    }
    // Let the statistics upkeep (every second) see the seeded tables.
    await new Promise((resolve) => setTimeout(resolve, 1500));

    const waited = { read: 0, record: 0, sent: 0 };
    let next = 0;
    const started = monoMs();
    const worker = async () => {
      while (next < ids.length) {
        const id = ids[next++];
        let at = monoMs();
        const turn = await turnStore.loadTurn(
          id,
          10,
          new Date(Date.now() - 60_000),
        );
        waited.read += monoMs() - at;
        at = monoMs();
        const unanswered = turn!.unanswered.map((m) => m.id);
        const recorded = await turnStore.recordReply(
          id,
          unanswered,
          `${id}:${unanswered.at(-1)}`,
          [
            {
              author: 'bot',
              text: 'Thanks for writing! Your order left our warehouse today.',
              llm: { model: 'bench', promptTokens: 40, completionTokens: 12 },
            },
          ],
          new Date(),
        );
        waited.record += monoMs() - at;
        at = monoMs();
        await outbox.markSent(
          recorded![0].id,
          `wamid.turns-out-${id}`,
          new Date(),
        );
        waited.sent += monoMs() - at;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const ms = monoMs() - started;
    return {
      concurrency,
      turnsPerSecond: Math.round((ids.length / ms) * 1000),
      readMs: round(waited.read / ids.length, 2),
      recordMs: round(waited.record / ids.length, 2),
      sentMs: round(waited.sent / ids.length, 2),
    };
  } finally {
    await connection.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  const rows = [];
  for (const level of levels) {
    const row = await run(level);
    process.stderr.write(`${JSON.stringify(row)}\n`);
    rows.push(row);
  }
  process.stdout.write(
    [
      `Turn statements on file-backed PGlite, ${turns} turns, one message each (${new Date().toISOString()})`,
      '',
      '| Turns in flight | turns/s | read waited, ms | record waited, ms | wamid waited, ms |',
      '| ---: | ---: | ---: | ---: | ---: |',
      ...rows.map(
        (r) =>
          `| ${r.concurrency} | ${r.turnsPerSecond.toLocaleString('en-US')} | ${r.readMs} | ${r.recordMs} | ${r.sentMs} |`,
      ),
      '',
    ].join('\n'),
  );
  process.exit(0);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `turn statements failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
