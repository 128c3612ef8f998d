import type { IngestPartResult, ProfiledRun, ServerRun } from '../parts/ingest';
import type { ReplyPartResult, ReplyStage } from '../parts/reply';
import type { ScalePartResult } from '../parts/scale';
import type { ScaleoutPartResult, ScaleoutRun } from '../parts/scaleout';
import type { BenchConfig } from './config';
import type { CpuUsage } from './cpu';

export interface Machine {
  cores: number;
  memory: string;
  cpu: string;
  node: string;
  date: string;
  commit: string;
  loadAverageAtStart: number[];
}

export interface BenchResults {
  machine: Machine;
  config: Omit<BenchConfig, 'databaseUrl' | 'redisUrl'> & {
    databaseUrl: boolean;
    redisUrl: boolean;
  };
  ingest?: IngestPartResult;
  reply?: ReplyPartResult;
  scale?: ScalePartResult;
  scaleout?: ScaleoutPartResult | null;
  failures: Array<{ part: string; error: string }>;
  totalSeconds: number;
}

const fmt = (n: number | null | undefined, digits = 1) =>
  n === null || n === undefined || Number.isNaN(n)
    ? '–'
    : n.toLocaleString('en', { maximumFractionDigits: digits });
const pct = (ratio: number) => `${Math.round(ratio * 100)}%`;
const verdict = (ok: boolean) => (ok ? '**holds**' : '**missed**');
const code = (s: string) => `\`${s.replace(/`/g, "'").replace(/\|/g, '\\|')}\``;

function table(header: string[], rows: Array<Array<string | number>>): string {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

function errorsOf(run: ServerRun): string {
  const bad = Object.entries(run.load.statuses).filter(([s]) => s !== '200');
  return bad.length === 0
    ? '0'
    : bad.map(([s, n]) => `${n}× ${s === '-1' ? 'net' : s}`).join(', ');
}

function storedCheck(run: ServerRun): string {
  if (run.stored < 0) return 'n/a';
  return run.stored >= run.load.acked
    ? `${fmt(run.stored, 0)} ✓`
    : `${fmt(run.stored, 0)} < ${fmt(run.load.acked, 0)} acked ✗`;
}

function serverCores(cpu: CpuUsage): string {
  const servers = Object.entries(cpu.processes).filter(([k]) =>
    k.startsWith('server'),
  );
  return servers.map(([, v]) => fmt(v, 2)).join(' + ');
}

function otherCores(cpu: CpuUsage): string {
  const services = Object.entries(cpu.services)
    .filter(([, v]) => v >= 0.05)
    .map(([k, v]) => `${k} ${fmt(v, 2)}`);
  return [...services, `other ${fmt(cpu.otherCores, 2)}`].join(', ');
}

const INGEST_HEADER = [
  'Server',
  'acked/s',
  'p50 ms',
  'p90 ms',
  'p99 ms',
  'max ms',
  'non-200',
  'stored ≥ acked',
  'server CPU (cores)',
  'load gen CPU',
  'other CPU on the machine',
  'RSS MB',
  'vs reference',
];

function ingestRows(runs: ServerRun[], reference: ServerRun | null) {
  return runs.map((r) => [
    r.attempts && r.attempts > 1
      ? `${r.name} (quietest of ${r.attempts} runs)`
      : r.name,
    fmt(r.load.requestsPerSecond, 0),
    fmt(r.load.latencyMs.p50, 2),
    fmt(r.load.latencyMs.p90, 2),
    fmt(r.load.latencyMs.p99, 2),
    fmt(r.load.latencyMs.max, 1),
    errorsOf(r),
    storedCheck(r),
    serverCores(r.load.cpu),
    fmt(r.load.cpu.processes['load generator'], 2),
    otherCores(r.load.cpu),
    r.rss ? `${r.rss.rssMb} (peak ${r.rss.peakMb})` : '–',
    reference
      ? pct(
          r.load.requestsPerSecond /
            Math.max(1, reference.load.requestsPerSecond),
        )
      : '–',
  ]);
}

function profileSection(
  title: string,
  p: ProfiledRun,
  per: { label: string; count: number } | null,
): string[] {
  const out: string[] = [];
  out.push('');
  out.push(
    `**${title}** (${fmt(p.requestsPerSecond, 0)} req/s, p99 ${fmt(p.p99Ms, 0)} ms under the profiler; main thread busy ${p.busyPercent}% of ${fmt(p.totalMs / 1000, 1)} s measured` +
      (p.databaseThread
        ? `; database thread (PGlite's worker) busy ${p.databaseThread.busyPercent}%, of which ${p.databaseThread.byArea
            .slice(0, 3)
            .map(
              (a) =>
                `${a.area.startsWith('wasm://') ? 'PGlite WASM' : a.area} ${a.selfPercent}%`,
            )
            .join(', ')}`
        : '') +
      '). The tables below are the main thread.',
  );
  out.push('');
  out.push(
    table(
      ['Self time by area', '% of busy'],
      p.byArea
        .slice(0, 8)
        .map((a) => [
          a.area.startsWith('wasm://')
            ? 'PGlite WASM (Postgres itself)'
            : a.area,
          a.selfPercent,
        ]),
    ),
  );
  out.push('');
  out.push(
    table(
      ['Top self-time function', '% of busy', 'where'],
      p.topFunctions
        .slice(0, 12)
        .map((f) => [code(f.fn), f.selfPercent, f.where ? code(f.where) : '']),
    ),
  );
  if (p.queries && p.queries.windowS > 0) {
    const q = p.queries;
    const dbPerSecond = q.databaseMs / q.windowS;
    const busyPerSecond = 10 * (p.databaseThread?.busyPercent ?? p.busyPercent);
    out.push('');
    out.push(
      `Time inside PGlite's execProtocolRawSync (Postgres in WASM parsing, planning, executing, and its file I/O): ${fmt(dbPerSecond, 0)} ms per second, ` +
        `${pct(dbPerSecond / Math.max(1, busyPerSecond))} of the busy database thread; the rest there is PGlite's protocol and row parsing` +
        `. ${fmt(q.totalCalls / q.windowS, 0)} statements/s` +
        (per && per.count > 0
          ? ` (${fmt(q.totalCalls / per.count, 1)} per ${per.label}, BEGIN/COMMIT included)`
          : '') +
        `. Top statements (bench/query-timer.ts):`,
    );
    out.push('');
    out.push(
      table(
        [
          'Statement',
          'calls/s',
          'ms per call',
          'ms per s',
          ...(per ? [`calls per ${per.label}`] : []),
        ],
        q.statements
          .slice(0, 12)
          .map((s) => [
            code(s.sql.length > 110 ? `${s.sql.slice(0, 110)}…` : s.sql),
            fmt(s.calls / q.windowS, 0),
            fmt(s.msPerCall, 2),
            fmt(s.ms / q.windowS, 0),
            ...(per ? [fmt(s.calls / Math.max(1, per.count), 2)] : []),
          ]),
      ),
    );
  }
  return out;
}

const REPLY_HEADER = [
  'Inbound msgs/s',
  'sent',
  'ack p50 ms',
  'ack p99 ms',
  'reply p50 ms',
  'reply p99 ms',
  'replies/s',
  'unanswered at stage end',
  'drain ms',
  'kept up',
  'server CPU',
  'load gen CPU',
  'fakes CPU',
  'machine CPU',
  'other CPU',
];

function replyRows(stages: ReplyStage[]) {
  return stages.map((s) => [
    fmt(s.rate, 0),
    fmt(s.sent, 0),
    fmt(s.ackLatencyMs.p50, 1),
    fmt(s.ackLatencyMs.p99, 1),
    fmt(s.replyLatencyMs.p50, 0),
    fmt(s.replyLatencyMs.p99, 0),
    fmt(s.replyRate, 0),
    fmt(s.backlogAtEnd, 0),
    fmt(s.drainMs, 0),
    s.keptUp
      ? 'yes'
      : s.unanswered > 0
        ? `no (${s.unanswered} never answered in time)`
        : 'no',
    fmt(s.cpu.processes.server, 2),
    fmt(s.cpu.processes['load generator'], 2),
    fmt(s.cpu.processes['fake LLM + Graph'], 2),
    fmt(s.cpu.machineCores, 2),
    fmt(s.cpu.otherCores, 2),
  ]);
}

export function markdown(r: BenchResults): string {
  const out: string[] = [];
  const c = r.config;
  out.push('## ClariOps benchmark');
  out.push('');
  out.push(
    table(
      ['Machine', ''],
      [
        ['CPU cores (nproc)', r.machine.cores],
        ['CPU', r.machine.cpu],
        ['Memory (free -h)', r.machine.memory],
        ['Node.js', r.machine.node],
        ['Date', r.machine.date],
        ['Commit', r.machine.commit],
        [
          'Load average at start',
          r.machine.loadAverageAtStart.map((l) => fmt(l, 2)).join(' '),
        ],
        ['Total run time', `${fmt(r.totalSeconds, 0)} s`],
      ],
    ),
  );
  out.push('');
  out.push(
    '"other CPU on the machine" is CPU used by processes this benchmark did not start, during the measured window: anything above ~0.1 core means the numbers are pessimistic.',
  );

  if (r.ingest) {
    const i = r.ingest;
    out.push('');
    out.push(
      `### 1. Ingest: POST /webhook, ${c.connections} keep-alive connections, ${c.customers} customers, ${c.warmupSeconds} s warm-up + ${c.seconds} s measured, file-backed PGlite`,
    );
    out.push('');
    out.push(
      table(
        INGEST_HEADER,
        ingestRows(
          [i.app, ...(i.appAckOnly ? [i.appAckOnly] : []), i.reference],
          i.reference,
        ),
      ),
    );
    out.push('');
    out.push(
      `Target ≥ ${fmt(i.target.requestsPerSecond, 0)} acked/s with p99 < ${i.target.p99Ms} ms: ${verdict(i.target.holds)}. ` +
        `ClariOps: ${pct(i.ratio.requestsPerSecond)} of the reference receiver's throughput, p99 ${fmt(i.ratio.p99, 1)}× the reference's` +
        (i.ratio.ackOnlyRequestsPerSecond !== null
          ? `; with turns deferred, ${pct(i.ratio.ackOnlyRequestsPerSecond)} of the reference.`
          : '.'),
    );
    if (i.app.fakeCalls) {
      out.push('');
      out.push(
        `In the ClariOps run, turns ran beside ingest as in production (REPLY_DEBOUNCE_MS default): ${fmt(i.app.fakeCalls.llm, 0)} LLM calls and ` +
          `${fmt(i.app.fakeCalls.sends, 0)} sends during the run. "turns deferred" is the same run with REPLY_DEBOUNCE_MS=60000, so no turn runs: the ack path alone.`,
      );
    }
    const perWebhook = (p: ProfiledRun) => ({
      label: 'acked webhook',
      count: p.requestsPerSecond * (p.queries?.windowS ?? 0),
    });
    if (i.profile)
      out.push(
        ...profileSection(
          'Profile: ClariOps under the ingest load, turns running',
          i.profile,
          perWebhook(i.profile),
        ),
      );
    if (i.profileAckOnly)
      out.push(
        ...profileSection(
          'Profile: ClariOps under the ingest load, turns deferred',
          i.profileAckOnly,
          perWebhook(i.profileAckOnly),
        ),
      );
    if (i.statementShape) {
      out.push('');
      out.push(
        '**The ingest transaction alone** (no HTTP), per batch of webhooks, in PGlite, median of fresh batches: the repository as written (through Drizzle in this process: one transaction of two statements, the expiry and one statement that upserts the conversations and inserts the messages from one jsonb parameter); the plain shape it was derived from (the same two statements sent directly to PGlite; `bench/lib/ingest-statements.ts`). The two should be close; a large gap means the Drizzle share grew:',
      );
      out.push('');
      out.push(
        table(
          [
            'Webhooks per batch',
            'as written, ms',
            'plain, ms',
            'as written, msgs/s of one core',
            'plain, msgs/s of one core',
          ],
          i.statementShape.map((s) => [
            s.batchSize,
            fmt(s.currentMs, 2),
            fmt(s.proposedMs, 2),
            fmt(s.currentPerSecond, 0),
            fmt(s.proposedPerSecond, 0),
          ]),
        ),
      );
    }
  }

  if (r.reply) {
    const p = r.reply;
    out.push('');
    out.push(
      `### 2. Reply pipeline: instant fake LLM and Graph, REPLY_DEBOUNCE_MS=0, WHATSAPP_MESSAGES_PER_SECOND=${p.sendRate}, one new customer per message, ${c.replyStageSeconds} s per rate`,
    );
    out.push('');
    out.push(table(REPLY_HEADER, replyRows(p.stages)));
    out.push('');
    out.push(
      `Highest inbound rate kept up: ${p.highestKeptUp === null ? 'none of the ramp' : `${fmt(p.highestKeptUp, 0)} msgs/s`}; ` +
        `target ${fmt(p.target.inboundPerSecond, 0)} msgs/s: ${verdict(p.target.holds)}. ` +
        '"Kept up": every ack 200, replies/s ≥ 95% of the rate after the first second, at most half a second of messages unanswered when the stage ended. ' +
        'Latencies count from the scheduled send time (open loop), so queueing is included. Each reply is one LLM call, one read receipt and one send. ' +
        'CPU columns are cores used while the stage\'s webhooks were being posted; "fakes" is the fake LLM and Graph process.',
    );
    const ref = p.reference;
    if (ref) {
      const top = c.replyRates[c.replyRates.length - 1];
      out.push('');
      out.push(
        `**Reference replier** (\`bench/reference-replier.ts\`: one process, no database; signature check, JSON.parse, 200, then per text message a read receipt with typing indicator, one \`openai\` SDK call and one send with \`fetch\`, at most ${ref.concurrency} turns in flight), the same ramp and fakes, right after the app's:`,
      );
      out.push('');
      out.push(table(REPLY_HEADER, replyRows(ref.stages)));
      out.push('');
      const counters = ref.counters
        ? ` Its counters: ${fmt(ref.counters.replied, 0)} replied, ${fmt(ref.counters.llmFailed, 0)} LLM failures, ${fmt(ref.counters.sendFailed, 0)} send failures, ${fmt(ref.counters.readFailed, 0)} read-receipt failures, ${fmt(ref.counters.duplicates, 0)} duplicates.`
        : '';
      out.push(
        `Reference: highest inbound rate kept up ${ref.highestKeptUp === null ? 'none of the ramp' : `${fmt(ref.highestKeptUp, 0)} msgs/s`}` +
          (ref.highestKeptUp === top
            ? ' (the top of the ramp: its ceiling may be higher)'
            : '') +
          `, peak ${fmt(ref.peakReplyRate, 0)} replies/s. ` +
          `ClariOps: ${p.highestKeptUp === null ? 'none' : `${fmt(p.highestKeptUp, 0)} msgs/s`} kept up` +
          (ref.ratio.highestKeptUp === null
            ? ''
            : ` (${pct(ref.ratio.highestKeptUp)} of the reference's)`) +
          `, peak ${fmt(p.peakReplyRate, 0)} replies/s` +
          (ref.ratio.peakReplyRate === null
            ? '.'
            : ` (${pct(ref.ratio.peakReplyRate)} of the reference's).`) +
          counters,
      );
      const best = ref.stages.find(
        (s) => s.keptUp && s.rate === ref.highestKeptUp,
      );
      if (best && best.replyRate > 0) {
        const pipeline =
          (best.cpu.processes.server ?? 0) +
          (best.cpu.processes['load generator'] ?? 0) +
          (best.cpu.processes['fake LLM + Graph'] ?? 0);
        const msPerReply = (pipeline * 1000) / best.replyRate;
        out.push('');
        out.push(
          `At ${fmt(best.rate, 0)} msgs/s the reference, the load generator and the fakes used ${fmt(pipeline, 2)} cores together ` +
            `(${fmt(msPerReply, 2)} ms of CPU per reply, ${fmt(((best.cpu.processes.server ?? 0) * 1000) / best.replyRate, 2)} ms of it the reference's), ` +
            `while processes the benchmark did not start used ${fmt(best.cpu.otherCores, 2)} of the ${r.machine.cores} cores. At that cost the ${r.machine.cores} cores, with nothing else running, ` +
            `would carry about ${fmt((r.machine.cores * 1000) / msPerReply, 0)} replies/s (an extrapolation: it assumes the cost per reply stays flat).`,
        );
      }
    } else if (p.referenceError) {
      out.push('');
      out.push(
        `Reference replier: failed (${p.referenceError.split('\n')[0]}).`,
      );
    }
    if (p.profile) {
      out.push(
        ...profileSection(
          `Profile: reply pipeline at ${fmt(p.profile.rate, 0)} msgs/s inbound (${fmt(p.profile.repliesPerSecond, 0)} replies/s)`,
          p.profile,
          {
            label: 'reply',
            count:
              p.profile.repliesPerSecond * (p.profile.queries?.windowS ?? 0),
          },
        ),
      );
    }
  }

  if (r.scale) {
    out.push('');
    out.push(
      `### 3. Stored conversations: ${fmt(c.seedConversations, 0)} conversations vs none (both with ${fmt(c.seedDue, 0)} conversations due to expire; ingest with turns deferred, ${c.scaleSeconds} s)`,
    );
    out.push('');
    out.push(
      table(
        [
          'Database',
          'conversations / messages',
          'DB MB',
          'start-up ms',
          'RSS idle MB',
          'RSS after load MB (peak)',
          'acked/s',
          'p50 ms',
          'p99 ms',
          `expiry job, ${fmt(c.seedDue, 0)} due, ms`,
          'expiry job, none due, p50 ms',
          'pending-work sweep p50 ms',
          'stale-send release p50 ms',
          'other CPU',
        ],
        r.scale.variants.map((v) => [
          v.label,
          `${fmt(v.seed.conversations, 0)} / ${fmt(v.seed.messages, 0)}`,
          fmt(v.seed.databaseMb, 0),
          fmt(v.readyMs, 0),
          fmt(v.rssIdle?.rssMb, 0),
          `${fmt(v.rssAfterLoad?.rssMb, 0)} (${fmt(v.rssAfterLoad?.peakMb, 0)})`,
          fmt(v.load.requestsPerSecond, 0),
          fmt(v.load.latencyMs.p50, 2),
          fmt(v.load.latencyMs.p99, 2),
          fmt(v.jobs.expireDue.ms, 1),
          fmt(v.jobs.expireSteady.p50, 2),
          fmt(v.jobs.pendingSweep.p50, 2),
          fmt(v.jobs.staleSends.p50, 2),
          fmt(v.load.cpu.otherCores, 2),
        ]),
      ),
    );
    const big = r.scale.variants[1];
    if (big) {
      out.push('');
      out.push(
        `Expiry job plan with ${fmt(big.seed.conversations, 0)} conversations: ${code(
          big.jobs.plans.expire
            .slice(0, 5)
            .map((l) => l.trim())
            .join(' / '),
        )}`,
      );
    }
  }

  if (r.scaleout !== undefined) {
    out.push('');
    if (r.scaleout === null) {
      out.push(
        '### 4. Scale-out: skipped (set DATABASE_URL, and REDIS_URL for two instances)',
      );
    } else {
      const s = r.scaleout;
      out.push(
        `### 4. Scale-out: PostgreSQL ${s.server.server_version.split(' ')[0]} (fsync ${s.server.fsync}, synchronous_commit ${s.server.synchronous_commit}) and Redis on this machine, same load, ${c.scaleoutSeconds} s measured`,
      );
      out.push('');
      out.push(
        table(
          INGEST_HEADER,
          ingestRows(
            [...s.runs, ...(s.reference ? [s.reference] : [])],
            s.reference,
          ),
        ),
      );
      const pair = (deferred: boolean) =>
        s.runs.filter((x) => x.turnsDeferred === deferred);
      for (const deferred of [false, true]) {
        const [one, two] = pair(deferred);
        if (one && two) {
          out.push('');
          out.push(
            `Two instances vs one${deferred ? ' (turns deferred)' : ''}: ${fmt(two.load.requestsPerSecond / Math.max(1, one.load.requestsPerSecond), 2)}× ` +
              `(requests per instance: ${two.load.perTarget.join(' / ')}).`,
          );
        }
      }
      out.push('');
      out.push(
        table(
          [
            'Run',
            'What the bench database’s active backends waited on (average backends per sample)',
          ],
          s.runs.map((x: ScaleoutRun) => [
            x.name,
            Object.entries(x.waits)
              .slice(0, 5)
              .map(([k, v]) => `${k} ${fmt(v, 2)}`)
              .join(', ') || 'idle',
          ]),
        ),
      );
    }
  }

  if (r.failures.length > 0) {
    out.push('');
    out.push('### Failures');
    for (const f of r.failures)
      out.push(`- ${f.part}: ${f.error.split('\n')[0]}`);
  }
  return out.join('\n');
}
