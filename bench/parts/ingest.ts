/**
 * Part 1: webhook acknowledgement throughput and latency of the built app,
 * against the reference receiver on the same storage engine.
 */
import type { ClosedResult } from '../load-generator';
import { BenchContext, log } from '../lib/context';
import { countRows, openAppDatabase } from '../lib/database';
import type { CpuUsage } from '../lib/cpu';
import { BENCH_DIR, MAIN_JS, ServerProcess, type Rss } from '../lib/processes';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  compareIngestStatements,
  type StatementShapeResult,
} from '../lib/ingest-statements';
import { summariseProfile, type ProfileSummary } from '../lib/profile';

export const INGEST_TARGET = { requestsPerSecond: 3000, p99Ms: 50 };

export interface ServerRun {
  name: string;
  /** Runs made to get one without much CPU used by other processes (see BenchContext.quietly). */
  attempts?: number;
  load: ClosedResult & { cpu: CpuUsage };
  rss: Rss | null;
  readyMs: number;
  /** Rows in the database after the run; must be >= the 200s the load generator got. */
  stored: number;
  warnings: Record<string, number>;
  /** Calls the fakes got during the run (turns running beside ingest). */
  fakeCalls?: Record<string, number>;
}

export interface QueryStats {
  /** Seconds of the measured window. */
  windowS: number;
  /** Time inside PGlite's execution of statements during the window: the database's share of the one thread. */
  databaseMs: number;
  /** Statements run during the window (BEGIN and COMMIT included). */
  totalCalls: number;
  statements: Array<{
    sql: string;
    calls: number;
    ms: number;
    msPerCall: number;
  }>;
}

/** The query timer's per-second buckets, cut to the measured window. */
function readQueryStats(
  file: string,
  fromMs: number,
  toMs: number,
): QueryStats | null {
  if (!existsSync(file)) return null;
  const buckets = JSON.parse(readFileSync(file, 'utf8')) as Array<
    [number, Array<[string, [number, number]]>]
  >;
  const total = new Map<string, { calls: number; ms: number }>();
  let databaseMs = 0;
  let totalCalls = 0;
  for (const [second, entries] of buckets) {
    if (second * 1000 < fromMs || (second + 1) * 1000 > toMs) continue;
    for (const [sql, [calls, ms]] of entries) {
      const e = total.get(sql) ?? { calls: 0, ms: 0 };
      e.calls += calls;
      e.ms += ms;
      total.set(sql, e);
      databaseMs += ms;
      totalCalls += calls;
    }
  }
  const first = Math.ceil(fromMs / 1000);
  const last = Math.floor(toMs / 1000);
  return {
    windowS: Math.max(0, last - first),
    databaseMs: Math.round(databaseMs),
    totalCalls,
    statements: [...total]
      .map(([sql, e]) => ({
        sql,
        calls: e.calls,
        ms: Math.round(e.ms),
        msPerCall: Math.round((e.ms / Math.max(1, e.calls)) * 1000) / 1000,
      }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 40),
  };
}

export type ProfiledRun = ProfileSummary & {
  requestsPerSecond: number;
  p99Ms: number;
  /** Where PGlite's time went, by statement (bench/query-timer.ts). */
  queries: QueryStats | null;
};

export interface IngestPartResult {
  app: ServerRun;
  /** The same load with turns deferred (REPLY_DEBOUNCE_MS=60000): the ack path alone. */
  appAckOnly: ServerRun | null;
  reference: ServerRun;
  ratio: {
    requestsPerSecond: number;
    p99: number;
    ackOnlyRequestsPerSecond: number | null;
  };
  target: typeof INGEST_TARGET & { holds: boolean };
  /** CPU profiles of the measured window: with turns, and of the ack path alone. */
  profile: ProfiledRun | null;
  profileAckOnly: ProfiledRun | null;
  /** The ingest transaction alone, as written now and in a proposed shape (bench/lib/ingest-statements.ts). */
  statementShape: StatementShapeResult[] | null;
}

async function fakeCounts(ctx: BenchContext): Promise<Record<string, number>> {
  const reply = await ctx.fakes.request<{ counts: Record<string, number> }>(
    { cmd: 'count' },
    'counted',
  );
  return reply.counts;
}

function diff(after: Record<string, number>, before: Record<string, number>) {
  return Object.fromEntries(
    Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]),
  );
}

async function storedRows(dataDir: string, sql: string): Promise<number> {
  const client = await openAppDatabase(dataDir);
  try {
    return await countRows(client, sql);
  } finally {
    await client.close();
  }
}

export async function runApp(
  ctx: BenchContext,
  name: string,
  env: Record<string, string> = {},
): Promise<ServerRun> {
  const dataDir = ctx.tempDir('ingest');
  const app = await ServerProcess.startApp(
    name,
    ctx.appEnv({ DATA_DIR: dataDir, ...env }),
  );
  try {
    log(
      `${name}: ready in ${app.readyMs} ms, ${ctx.config.warmupSeconds}+${ctx.config.seconds} s of load`,
    );
    const before = await fakeCounts(ctx);
    const load = await ctx.closedLoad([app]);
    const rss = app.rss();
    const fakeCalls = diff(await fakeCounts(ctx), before);
    await app.stop();
    const stored = await storedRows(
      dataDir,
      `select count(*)::int as n from messages where direction = 'inbound'`,
    );
    log(
      `${name}: ${load.requestsPerSecond} req/s, p99 ${load.latencyMs.p99} ms, errors ${load.errors}`,
    );
    return {
      name,
      load,
      rss,
      readyMs: app.readyMs,
      stored,
      warnings: app.warningSummary(),
      fakeCalls,
    };
  } finally {
    await app.stop();
  }
}

export async function runReference(
  ctx: BenchContext,
  env: Record<string, string> = {},
  seconds = ctx.config.seconds,
): Promise<ServerRun> {
  const dataDir = ctx.tempDir('reference');
  const ref = await ServerProcess.startTs(
    'reference receiver',
    'reference-receiver.ts',
    {
      DATA_DIR: dataDir,
      ...env,
    },
  );
  try {
    const load = await ctx.closedLoad([ref], { durationMs: seconds * 1000 });
    const rss = ref.rss();
    await ref.stop();
    const stored = env.DATABASE_URL
      ? -1
      : await storedRows(
          dataDir,
          'select count(*)::int as n from inbound_messages',
        );
    log(
      `reference: ${load.requestsPerSecond} req/s, p99 ${load.latencyMs.p99} ms, errors ${load.errors}`,
    );
    return {
      name: 'reference receiver',
      load,
      rss,
      readyMs: ref.readyMs,
      stored,
      warnings: {},
    };
  } finally {
    await ref.stop();
  }
}

export interface ProfileWindow {
  windowStartMs: number;
  windowEndMs: number;
  requestsPerSecond: number;
  p99Ms: number;
}

/**
 * The app under load with V8's CPU profiler on (the profile is written at
 * exit) and bench/query-timer.ts preloaded (time per SQL statement); both cut
 * to the measured window of `drive`.
 */
export async function profileApp(
  ctx: BenchContext,
  env: Record<string, string>,
  drive: (app: ServerProcess) => Promise<ProfileWindow>,
): Promise<ProfiledRun> {
  const dataDir = ctx.tempDir('profile');
  const profileDir = ctx.tempDir('cpuprofile');
  const queryFile = join(profileDir, 'queries.json');
  const app = await ServerProcess.startApp(
    'ClariOps (profiled)',
    ctx.appEnv({
      DATA_DIR: dataDir,
      BENCH_QUERY_STATS_FILE: queryFile,
      ...env,
    }),
    {
      nodeArgs: [
        '--cpu-prof',
        `--cpu-prof-dir=${profileDir}`,
        '-r',
        'ts-node/register/transpile-only',
        '-r',
        join(BENCH_DIR, 'query-timer.ts'),
      ],
      // Nest re-raises SIGTERM after closing, which loses the profile; exit() writes it.
      entry: [
        '-e',
        `process.on('SIGUSR2', () => process.exit(0)); require(${JSON.stringify(MAIN_JS)});`,
      ],
    },
  );
  try {
    const window = await drive(app);
    log(
      `profiled run: ${window.requestsPerSecond} req/s, p99 ${window.p99Ms} ms`,
    );
    await app.stop('SIGUSR2');
    return {
      ...summariseProfile(profileDir, {
        fromMs: window.windowStartMs,
        toMs: window.windowEndMs,
      }),
      requestsPerSecond: window.requestsPerSecond,
      p99Ms: window.p99Ms,
      queries: readQueryStats(
        queryFile,
        window.windowStartMs,
        window.windowEndMs,
      ),
    };
  } finally {
    await app.stop();
  }
}

async function profileIngest(
  ctx: BenchContext,
  env: Record<string, string>,
): Promise<ProfiledRun> {
  return profileApp(ctx, env, async (app) => {
    const load = await ctx.closedLoad([app], {
      warmupMs: 2000,
      durationMs: ctx.config.profileSeconds * 1000,
    });
    return {
      windowStartMs: load.windowStartMs,
      windowEndMs: load.windowEndMs,
      requestsPerSecond: load.requestsPerSecond,
      p99Ms: load.latencyMs.p99,
    };
  });
}

export async function ingestPart(ctx: BenchContext): Promise<IngestPartResult> {
  const app = await ctx.quietly('ClariOps', () => runApp(ctx, 'ClariOps'));
  const appAckOnly = await ctx.quietly('ClariOps, turns deferred', () =>
    runApp(ctx, 'ClariOps, turns deferred', { REPLY_DEBOUNCE_MS: '60000' }),
  );
  const reference = await ctx.quietly('reference', () => runReference(ctx));
  const holds =
    app.load.requestsPerSecond >= INGEST_TARGET.requestsPerSecond &&
    app.load.latencyMs.p99 < INGEST_TARGET.p99Ms &&
    app.load.errors === 0;
  const wantProfile =
    ctx.config.profile === 'on' || (ctx.config.profile === 'auto' && !holds);
  let profile: ProfiledRun | null = null;
  let profileAckOnly: ProfiledRun | null = null;
  let statementShape: StatementShapeResult[] | null = null;
  if (wantProfile) {
    log(
      'profiling the app under the same load (target missed or BENCH_PROFILE=1)',
    );
    profile = await profileIngest(ctx, {});
    profileAckOnly = await profileIngest(ctx, { REPLY_DEBOUNCE_MS: '60000' });
    log('timing the ingest transaction as written and in the proposed shape');
    statementShape = await compareIngestStatements((label) =>
      ctx.tempDir(label),
    );
  }
  return {
    app,
    appAckOnly,
    reference,
    ratio: {
      requestsPerSecond:
        app.load.requestsPerSecond /
        Math.max(1, reference.load.requestsPerSecond),
      p99:
        app.load.latencyMs.p99 / Math.max(0.001, reference.load.latencyMs.p99),
      ackOnlyRequestsPerSecond: appAckOnly
        ? appAckOnly.load.requestsPerSecond /
          Math.max(1, reference.load.requestsPerSecond)
        : null,
    },
    target: { ...INGEST_TARGET, holds },
    profile,
    profileAckOnly,
    statementShape,
  };
}
