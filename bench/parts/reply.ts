/**
 * Part 2: the reply pipeline. Instant fake LLM and Graph, REPLY_DEBOUNCE_MS=0,
 * an open-loop ramp of inbound rates, one new customer per message (so every
 * message gets exactly one reply and flood control never applies). Latency
 * is from the scheduled post of a webhook to the fake Graph receiving the
 * text for that customer.
 */
import type { OpenCommand, OpenResult } from '../load-generator';
import { BenchContext, log } from '../lib/context';
import { cpuSnapshot, cpuUsage, type CpuUsage } from '../lib/cpu';
import { ServerProcess, type Rss } from '../lib/processes';
import { profileApp, type ProfiledRun } from './ingest';
import {
  monoMs,
  round,
  sleep,
  summarise,
  type LatencySummary,
} from '../lib/stats';

export const REPLY_TARGET = { inboundPerSecond: 1000 };

export interface ReplyStage {
  rate: number;
  sent: number;
  non200: number;
  ackLatencyMs: LatencySummary;
  /** Webhook posted → reply text at the fake Graph. */
  replyLatencyMs: LatencySummary;
  /** Replies per second at the fake Graph after the first second of the stage. */
  replyRate: number;
  /** Messages posted but not yet answered when the stage's last message was posted. */
  backlogAtEnd: number;
  /** Time after the stage until the last reply arrived. */
  drainMs: number;
  unanswered: number;
  keptUp: boolean;
  /** Posted − replied, sampled every 500 ms during the stage and drain. */
  backlogCurve: Array<[number, number]>;
  /** CPU while the stage's webhooks were being posted. */
  cpu: CpuUsage;
}

export interface ReplyPartResult {
  sendRate: number;
  stages: ReplyStage[];
  highestKeptUp: number | null;
  target: typeof REPLY_TARGET & { holds: boolean };
  rss: Rss | null;
  warnings: Record<string, number>;
  fakeCalls: Record<string, number>;
  /** The app profiled at the ramp's first rate, when the target is missed (or BENCH_PROFILE=1). */
  profile: (ProfiledRun & { rate: number; repliesPerSecond: number }) | null;
}

function replyEnv(ctx: BenchContext, dataDir: string): Record<string, string> {
  return {
    DATA_DIR: dataDir,
    REPLY_DEBOUNCE_MS: '0',
    // Meta's default is 80/s, upgraded up to 1,000/s: at the default the
    // reply rate is capped at 80/s by design.
    WHATSAPP_MESSAGES_PER_SECOND: String(ctx.config.replySendRate),
    ...(process.env.BENCH_TURN_CONCURRENCY && {
      TURN_CONCURRENCY: process.env.BENCH_TURN_CONCURRENCY,
    }),
  };
}

/** Open-loop load at `rate` for the profile's duration, with the replies counted. */
async function profileReplies(ctx: BenchContext, rate: number) {
  let replies = 0;
  const run = await profileApp(
    ctx,
    replyEnv(ctx, ctx.tempDir('reply-profile')),
    async (app) => {
      await ctx.fakes.request({ cmd: 'reset' }, 'reset-done');
      const result = await ctx.loadgen.request<OpenResult>(
        {
          cmd: 'open',
          targets: [app.url],
          connections: ctx.config.connections,
          rate,
          durationMs: ctx.config.profileSeconds * 1000,
          customerPrefix: '4690',
          tag: ctx.tag(),
        } satisfies OpenCommand,
        'open-result',
        ctx.config.profileSeconds * 1000 + 120_000,
      );
      replies = (
        await ctx.fakes.request<{ recipients: number }>(
          { cmd: 'count' },
          'counted',
        )
      ).recipients;
      return {
        windowStartMs: result.startMs,
        windowEndMs: result.endMs,
        requestsPerSecond: rate,
        p99Ms: summarise(result.records.map((r) => r.ackMs - r.dueMs)).p99,
      };
    },
  );
  return {
    ...run,
    rate,
    repliesPerSecond: Math.round(replies / ctx.config.profileSeconds),
  };
}

interface Collected {
  replies: Array<[string, number]>;
  counts: Record<string, number>;
}

async function stage(
  ctx: BenchContext,
  app: ServerProcess,
  rate: number,
  seconds: number,
  prefix: string,
): Promise<ReplyStage & { drained: boolean }> {
  await ctx.fakes.request({ cmd: 'reset' }, 'reset-done');
  const command: OpenCommand = {
    cmd: 'open',
    targets: [app.url],
    connections: ctx.config.connections,
    rate,
    durationMs: seconds * 1000,
    customerPrefix: prefix,
    tag: ctx.tag(),
  };
  const names: Record<number, string> = {
    [process.pid]: 'orchestrator',
    [ctx.loadgen.pid]: 'load generator',
    [ctx.fakes.pid]: 'fake LLM + Graph',
    [app.pid]: 'server',
  };
  const cpuBefore = cpuSnapshot(Object.keys(names).map(Number));
  const started = monoMs();
  const total = Math.round(rate * seconds);
  const curve: Array<[number, number]> = [];
  const done = ctx.loadgen.request<OpenResult>(
    command,
    'open-result',
    seconds * 1000 + 120_000,
  );
  let finished = false;
  void done.then(
    () => (finished = true),
    () => (finished = true),
  );
  while (!finished) {
    await sleep(500);
    const { recipients } = await ctx.fakes.request<{ recipients: number }>(
      { cmd: 'count' },
      'counted',
    );
    const elapsed = monoMs() - started;
    const posted = Math.min(total, Math.round((rate * elapsed) / 1000));
    curve.push([round(elapsed / 1000, 1), posted - recipients]);
  }
  const result = await done;
  const cpu = cpuUsage(
    cpuBefore,
    cpuSnapshot(Object.keys(names).map(Number)),
    names,
  );
  // Drain: wait for every reply, or give up after replyDrainSeconds.
  const deadline = monoMs() + ctx.config.replyDrainSeconds * 1000;
  let drained = false;
  for (;;) {
    const { recipients } = await ctx.fakes.request<{ recipients: number }>(
      { cmd: 'count' },
      'counted',
    );
    curve.push([
      round((monoMs() - started) / 1000, 1),
      result.sent - recipients,
    ]);
    if (recipients >= result.sent) {
      drained = true;
      break;
    }
    if (monoMs() > deadline) break;
    await sleep(250);
  }
  // Anything after its reply (there should be nothing) has a little time to arrive.
  await sleep(200);
  const collected = await ctx.fakes.request<Collected>(
    { cmd: 'collect' },
    'collected',
  );
  const replyAt = new Map(collected.replies);

  const ack: number[] = [];
  const latency: number[] = [];
  let non200 = 0;
  let unanswered = 0;
  let backlogAtEnd = 0;
  let inWindow = 0;
  let lastReply = result.endMs;
  const windowFrom = result.startMs + 1000;
  for (const r of result.records) {
    ack.push(r.ackMs - r.dueMs);
    if (r.status !== 200) non200++;
    const at = replyAt.get(r.waId);
    if (at === undefined) {
      unanswered++;
      backlogAtEnd++;
      continue;
    }
    latency.push(at - r.dueMs);
    if (at > result.endMs) backlogAtEnd++;
    if (at >= windowFrom && at <= result.endMs) inWindow++;
    lastReply = Math.max(lastReply, at);
  }
  const windowS = Math.max(0.001, (result.endMs - windowFrom) / 1000);
  const replyRate = Math.round(inWindow / windowS);
  const keptUp =
    drained &&
    non200 === 0 &&
    unanswered === 0 &&
    replyRate >= 0.95 * rate &&
    backlogAtEnd <= Math.max(10, 0.5 * rate);
  return {
    rate,
    sent: result.sent,
    non200,
    ackLatencyMs: summarise(ack),
    replyLatencyMs: summarise(latency),
    replyRate,
    backlogAtEnd,
    drainMs: round(lastReply - result.endMs, 0),
    unanswered,
    keptUp,
    backlogCurve: curve,
    cpu,
    drained,
  };
}

export async function replyPart(ctx: BenchContext): Promise<ReplyPartResult> {
  const { config } = ctx;
  const dataDir = ctx.tempDir('reply');
  const app = await ServerProcess.startApp(
    'ClariOps (reply pipeline)',
    ctx.appEnv(replyEnv(ctx, dataDir)),
  );
  const before = (
    await ctx.fakes.request<{ counts: Record<string, number> }>(
      { cmd: 'count' },
      'counted',
    )
  ).counts;
  const stages: ReplyStage[] = [];
  try {
    // Warm-up (not reported): JIT, connections, the first conversations.
    await stage(ctx, app, 50, 2, '4600');
    for (const [index, rate] of config.replyRates.entries()) {
      log(`reply pipeline: ${rate} msgs/s for ${config.replyStageSeconds} s`);
      const { drained, ...result } = await stage(
        ctx,
        app,
        rate,
        config.replyStageSeconds,
        `46${index + 1}0`,
      );
      stages.push(result);
      log(
        `  replies ${result.replyRate}/s, latency p50 ${result.replyLatencyMs.p50} ms p99 ${result.replyLatencyMs.p99} ms, ` +
          `backlog at end ${result.backlogAtEnd}, drained in ${result.drainMs} ms${result.keptUp ? '' : ' (did not keep up)'}`,
      );
      if (!drained) {
        log(
          `  not drained within ${config.replyDrainSeconds} s: the ramp stops here`,
        );
        break;
      }
      if (!result.keptUp && result.replyRate < rate / 2) {
        // Saturated: higher rates only pile up a longer backlog.
        log('  replies below half the inbound rate: the ramp stops here');
        break;
      }
    }
    const after = (
      await ctx.fakes.request<{ counts: Record<string, number> }>(
        { cmd: 'count' },
        'counted',
      )
    ).counts;
    const rss = app.rss();
    const warnings = app.warningSummary();
    await app.stop();
    // The highest rate of the ramp below which every stage kept up.
    let highestKeptUp: number | null = null;
    for (const s of stages) {
      if (!s.keptUp) break;
      highestKeptUp = s.rate;
    }
    const holds = (highestKeptUp ?? 0) >= REPLY_TARGET.inboundPerSecond;
    let profile: ReplyPartResult['profile'] = null;
    if (config.profile === 'on' || (config.profile === 'auto' && !holds)) {
      // Where it stops keeping up: the profile shows what a saturated turn pipeline spends on.
      const rate =
        stages.find((s) => !s.keptUp)?.rate ??
        config.replyRates[config.replyRates.length - 1];
      log(`profiling the reply pipeline at ${rate} msgs/s`);
      profile = await profileReplies(ctx, rate);
    }
    return {
      sendRate: config.replySendRate,
      stages,
      highestKeptUp,
      target: { ...REPLY_TARGET, holds },
      rss,
      warnings,
      fakeCalls: Object.fromEntries(
        Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]),
      ),
      profile,
    };
  } finally {
    await app.stop();
  }
}
