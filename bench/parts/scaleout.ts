/**
 * Part 4 (only when DATABASE_URL is set; two instances also need REDIS_URL):
 * ingest on a PostgreSQL server, one instance and two instances behind the
 * load generator's own round-robin, plus the reference receiver on the same
 * server. Uses a fresh database (created and dropped here) and a unique
 * REDIS_KEY_PREFIX (its keys deleted afterwards).
 */
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { BenchContext, log } from '../lib/context';
import { ServerProcess } from '../lib/processes';
import { runReference, type ServerRun } from './ingest';

export interface ScaleoutRun extends ServerRun {
  instances: number;
  turnsDeferred: boolean;
  /** What the bench database's busy backends waited on, sampled every 200 ms (share of samples). */
  waits: Record<string, number>;
}

export interface ScaleoutPartResult {
  database: string;
  server: Record<string, string>;
  redisKeyPrefix: string | null;
  runs: ScaleoutRun[];
  reference: ServerRun | null;
}

/** Samples pg_stat_activity of `database` until stopped: what its active backends wait on. */
function sampleWaits(url: string, database: string) {
  const client = new Client({ connectionString: url });
  const counts = new Map<string, number>();
  let samples = 0;
  let stopped = false;
  const loop = (async () => {
    await client.connect();
    while (!stopped) {
      const { rows } = await client.query<{ wait: string; n: number }>(
        `select coalesce(wait_event_type || ':' || wait_event, 'on CPU') as wait, count(*)::int as n
         from pg_stat_activity where datname = $1 and state = 'active' and pid <> pg_backend_pid() group by 1`,
        [database],
      );
      samples++;
      for (const r of rows) counts.set(r.wait, (counts.get(r.wait) ?? 0) + r.n);
      await new Promise((r) => setTimeout(r, 200));
    }
  })().catch(() => undefined);
  return async (): Promise<Record<string, number>> => {
    stopped = true;
    await loop;
    await client.end().catch(() => undefined);
    // Average number of backends in each state per sample.
    return Object.fromEntries(
      [...counts]
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => [
          k,
          Math.round((v / Math.max(1, samples)) * 100) / 100,
        ]),
    );
  };
}

function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

async function admin<T>(
  url: string,
  fn: (client: Client) => Promise<T>,
): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * One setup on a database and a Redis key prefix of its own, so that no run
 * inherits another's unanswered messages or queued turns (the pending-work
 * sweep would schedule them).
 */
async function runInstances(
  ctx: BenchContext,
  count: number,
  turnsDeferred: boolean,
  index: number,
): Promise<ScaleoutRun> {
  const { databaseUrl, redisUrl } = ctx.config;
  const name =
    `ClariOps on PostgreSQL${redisUrl ? ' + Redis' : ''}, ${count} instance${count > 1 ? 's' : ''}` +
    (turnsDeferred ? ', turns deferred' : '');
  const database = `clariops_bench_${ctx.runId}_${process.pid}_${index}`;
  const prefix = `clariops-bench-${ctx.runId}-${index}`;
  const env: Record<string, string> = {
    DATABASE_URL: withDatabase(databaseUrl!, database),
    ...(redisUrl && { REDIS_URL: redisUrl, REDIS_KEY_PREFIX: prefix }),
    ...(turnsDeferred && { REPLY_DEBOUNCE_MS: '60000' }),
  };
  return withScratch(ctx, database, redisUrl ? prefix : null, () =>
    measureInstances(ctx, name, count, turnsDeferred, env, database),
  );
}

/** Creates the database, runs `fn`, then drops it and deletes the Redis keys. */
async function withScratch<T>(
  ctx: BenchContext,
  database: string,
  prefix: string | null,
  fn: () => Promise<T>,
): Promise<T> {
  const { databaseUrl, redisUrl } = ctx.config;
  await admin(databaseUrl!, (c) => c.query(`create database "${database}"`));
  try {
    return await fn();
  } finally {
    await admin(databaseUrl!, (c) =>
      c.query(`drop database if exists "${database}" with (force)`),
    ).catch((e: unknown) => log(`could not drop ${database}: ${String(e)}`));
    if (redisUrl && prefix) {
      await deleteRedisKeys(redisUrl, prefix).catch((e: unknown) =>
        log(`could not delete Redis keys ${prefix}:*: ${String(e)}`),
      );
    }
  }
}

async function measureInstances(
  ctx: BenchContext,
  name: string,
  count: number,
  turnsDeferred: boolean,
  env: Record<string, string>,
  database: string,
): Promise<ScaleoutRun> {
  const apps = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      ServerProcess.startApp(
        `${name} #${i + 1}`,
        ctx.appEnv({ DATA_DIR: ctx.tempDir('unused'), ...env }),
      ),
    ),
  );
  try {
    log(
      `${name}: ${ctx.config.warmupSeconds}+${ctx.config.scaleoutSeconds} s of load`,
    );
    const stopSampling = sampleWaits(env.DATABASE_URL, database);
    const load = await ctx.closedLoad(apps, {
      durationMs: ctx.config.scaleoutSeconds * 1000,
    });
    const waits = await stopSampling();
    const rss = apps[0].rss();
    log(
      `${name}: ${load.requestsPerSecond} req/s, p99 ${load.latencyMs.p99} ms, errors ${load.errors} (per instance: ${load.perTarget.join(' / ')})`,
    );
    const stored = await admin(env.DATABASE_URL, async (c) =>
      Number(
        (
          await c.query(
            `select count(*)::int as n from messages where direction = 'inbound'`,
          )
        ).rows[0].n,
      ),
    );
    const warnings: Record<string, number> = {};
    for (const app of apps) {
      for (const [k, v] of Object.entries(app.warningSummary()))
        warnings[k] = (warnings[k] ?? 0) + v;
    }
    return {
      name,
      instances: count,
      turnsDeferred,
      load,
      rss,
      readyMs: Math.max(...apps.map((a) => a.readyMs)),
      stored,
      warnings,
      waits,
    };
  } finally {
    await Promise.all(apps.map((a) => a.stop()));
  }
}

async function deleteRedisKeys(url: string, prefix: string): Promise<number> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  await redis.connect();
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(
        cursor,
        'MATCH',
        `${prefix}:*`,
        'COUNT',
        1000,
      );
      cursor = next;
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}

export async function scaleoutPart(
  ctx: BenchContext,
): Promise<ScaleoutPartResult | null> {
  const { databaseUrl, redisUrl } = ctx.config;
  if (!databaseUrl) return null;
  const server = await admin(databaseUrl, async (c) => {
    const settings: Record<string, string> = {};
    for (const name of [
      'server_version',
      'fsync',
      'synchronous_commit',
      'max_connections',
      'shared_buffers',
    ]) {
      settings[name] = String((await c.query(`show ${name}`)).rows[0][name]);
    }
    return settings;
  });
  log(
    `scale-out: a fresh database${redisUrl ? ' and Redis key prefix' : ''} per run, dropped after it`,
  );
  const runs: ScaleoutRun[] = [];
  let index = 0;
  for (const turnsDeferred of [false, true]) {
    for (const count of redisUrl ? [1, 2] : [1]) {
      runs.push(
        await ctx.quietly(`${count} instance(s)`, () =>
          runInstances(ctx, count, turnsDeferred, ++index),
        ),
      );
    }
  }
  if (!redisUrl)
    log(
      'scale-out: REDIS_URL is not set, so no two-instance run (instances share turns through Redis)',
    );
  const refDatabase = `clariops_bench_${ctx.runId}_${process.pid}_ref`;
  const reference = await ctx.quietly('reference on PostgreSQL', () =>
    withScratch(ctx, refDatabase, null, () =>
      runReference(
        ctx,
        { DATABASE_URL: withDatabase(databaseUrl, refDatabase) },
        ctx.config.scaleoutSeconds,
      ),
    ),
  );
  return {
    database: `clariops_bench_${ctx.runId}_${process.pid}_*`,
    server,
    redisKeyPrefix: redisUrl ? `clariops-bench-${ctx.runId}-*` : null,
    runs,
    reference,
  };
}
