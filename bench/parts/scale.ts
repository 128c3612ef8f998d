/**
 * Part 3: does anything cost more once many conversations are stored?
 * The same measurements on a database holding only the conversations due to
 * expire, and on one that also holds `seedConversations` conversations
 * (seeded with SQL through PGlite into the app's DATA_DIR, after the app's own
 * migrations): the session-expiry job's query and the pending-work sweep
 * (timed through the app's stores), the app's start-up time and RSS, and
 * a short ingest run.
 */
import { cpSync } from 'node:fs';
import type { ClosedResult } from '../load-generator';
import { BenchContext, log } from '../lib/context';
import {
  migrateAppDatabase,
  openAppDatabase,
  seedConversations,
  timeJobs,
  type JobTimings,
  type SeedResult,
} from '../lib/database';
import type { CpuUsage } from '../lib/cpu';
import { ServerProcess, type Rss } from '../lib/processes';
import { sleep } from '../lib/stats';

const SESSION_TIMEOUT_MINUTES = 30;

/** The lowest RSS over 3 s after start: what the idle process keeps. */
async function idleRss(app: ServerProcess): Promise<Rss | null> {
  let lowest: Rss | null = null;
  for (let i = 0; i < 12; i++) {
    await sleep(250);
    const rss = app.rss();
    if (rss && (!lowest || rss.rssMb < lowest.rssMb)) lowest = rss;
  }
  return lowest;
}

export interface ScaleVariant {
  label: string;
  seed: SeedResult;
  jobs: JobTimings;
  readyMs: number;
  rssIdle: Rss | null;
  rssAfterLoad: Rss | null;
  load: ClosedResult & { cpu: CpuUsage };
  warnings: Record<string, number>;
  attempts: number;
}

export interface ScalePartResult {
  variants: ScaleVariant[];
}

async function variant(
  ctx: BenchContext,
  label: string,
  conversations: number,
): Promise<ScaleVariant> {
  const dataDir = ctx.tempDir(`scale-${conversations}`);
  const db = await openAppDatabase(dataDir);
  let seed: SeedResult;
  let jobs: JobTimings;
  try {
    await migrateAppDatabase(db);
    seed = await seedConversations(
      db,
      conversations,
      ctx.config.seedDue,
      SESSION_TIMEOUT_MINUTES,
    );
    log(
      `${label}: seeded ${seed.conversations} conversations / ${seed.messages} messages (${seed.databaseMb} MB) in ${seed.seconds} s`,
    );
    jobs = await timeJobs(db, SESSION_TIMEOUT_MINUTES);
    log(
      `${label}: expiry of ${jobs.expireDue.expired} due ${jobs.expireDue.ms} ms, steady p50 ${jobs.expireSteady.p50} ms, ` +
        `pending sweep p50 ${jobs.pendingSweep.p50} ms`,
    );
  } finally {
    await db.close();
  }
  const measured = await ctx.quietly(label, async () => {
    // Each attempt on a copy of the seeded database: a run leaves unanswered
    // messages that the next start's pending-work sweep would answer.
    const runDir = ctx.tempDir(`scale-run-${conversations}`);
    cpSync(dataDir, runDir, { recursive: true });
    const app = await ServerProcess.startApp(
      `ClariOps (${label})`,
      // Turns deferred: this run compares the ack path; part 1 shows what turns do to it.
      ctx.appEnv({
        DATA_DIR: runDir,
        SESSION_TIMEOUT_MINUTES: String(SESSION_TIMEOUT_MINUTES),
        REPLY_DEBOUNCE_MS: '60000',
      }),
    );
    try {
      const rssIdle = await idleRss(app);
      const load = await ctx.closedLoad([app], {
        warmupMs: 2000,
        durationMs: ctx.config.scaleSeconds * 1000,
        customerPrefix: '4480',
      });
      const rssAfterLoad = app.rss();
      log(
        `${label}: ready in ${app.readyMs} ms, RSS idle ${rssIdle?.rssMb} MB, after load ${rssAfterLoad?.rssMb} MB (peak ${rssAfterLoad?.peakMb}); ` +
          `${load.requestsPerSecond} req/s, p99 ${load.latencyMs.p99} ms`,
      );
      return {
        readyMs: app.readyMs,
        rssIdle,
        rssAfterLoad,
        load,
        warnings: app.warningSummary(),
      };
    } finally {
      await app.stop();
    }
  });
  return { label, seed, jobs, ...measured };
}

export async function scalePart(ctx: BenchContext): Promise<ScalePartResult> {
  const variants = [await variant(ctx, 'empty', 0)];
  if (ctx.config.seedConversations > 0) {
    variants.push(
      await variant(
        ctx,
        `${ctx.config.seedConversations.toLocaleString('en')} conversations`,
        ctx.config.seedConversations,
      ),
    );
  }
  return { variants };
}
