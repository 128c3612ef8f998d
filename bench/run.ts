/**
 * `npm run bench`: builds the app (the npm script does), then measures
 *   1. ingest: acked webhooks/s and ack latency, vs a minimal reference receiver;
 *   2. reply pipeline: inbound-to-send latency and the sustained reply rate;
 *   3. stored conversations: RSS, ingest, expiry job and sweep with 100,000 vs none;
 *   4. scale-out (DATABASE_URL / REDIS_URL set): one and two instances.
 * Everything listens on 127.0.0.1. Progress goes to stderr; the JSON results
 * go to bench/results/, and a markdown table to stdout at the end.
 * Knobs: see bench/README.md.
 */
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { readConfig, type Part } from './lib/config';
import { BenchContext, log } from './lib/context';
import { BENCH_DIR, killAllChildren, ROOT, Worker } from './lib/processes';
import { markdown, type BenchResults, type Machine } from './lib/report';
import { monoMs, round } from './lib/stats';
import { ingestPart } from './parts/ingest';
import { replyPart } from './parts/reply';
import { scalePart } from './parts/scale';
import { scaleoutPart } from './parts/scaleout';

function sh(command: string): string {
  try {
    return execSync(command, {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return '';
  }
}

function machine(): Machine {
  const mem = sh('free -h').split('\n')[1]?.split(/\s+/) ?? [];
  const dirty = sh('git status --porcelain --untracked-files=no')
    ? ' (with uncommitted changes)'
    : '';
  return {
    cores: Number(sh('nproc')) || cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memory:
      mem.length > 6
        ? `${mem[1]} total, ${mem[6]} available`
        : `${round(totalmem() / 2 ** 30, 1)} GiB`,
    node: process.version,
    date: new Date().toISOString(),
    commit: `${sh('git rev-parse --short HEAD') || 'unknown'}${dirty}`,
    loadAverageAtStart: loadavg().map((l) => round(l, 2)),
  };
}

async function main() {
  const started = monoMs();
  const config = readConfig();
  log(`parts: ${config.parts.join(', ')}`);
  const { worker: fakes, ready } = await Worker.start('fakes-server.ts');
  const { worker: loadgen } = await Worker.start('load-generator.ts');
  const ctx = new BenchContext(
    config,
    fakes,
    { llmPort: Number(ready.llmPort), graphPort: Number(ready.graphPort) },
    loadgen,
  );
  const results: BenchResults = {
    machine: machine(),
    config: {
      ...config,
      databaseUrl: Boolean(config.databaseUrl),
      redisUrl: Boolean(config.redisUrl),
    },
    failures: [],
    totalSeconds: 0,
  };
  const parts: Record<Part, () => Promise<void>> = {
    ingest: async () => void (results.ingest = await ingestPart(ctx)),
    reply: async () => {
      results.reply = await replyPart(ctx);
      if (results.reply.referenceError)
        results.failures.push({
          part: 'reply (reference replier)',
          error: results.reply.referenceError,
        });
    },
    scale: async () => void (results.scale = await scalePart(ctx)),
    scaleout: async () => void (results.scaleout = await scaleoutPart(ctx)),
  };
  try {
    for (const part of config.parts) {
      log(`--- part: ${part}`);
      try {
        await parts[part]();
      } catch (error) {
        const message =
          error instanceof Error
            ? (error.stack ?? error.message)
            : String(error);
        log(`part ${part} failed: ${message}`);
        results.failures.push({ part, error: message });
      }
    }
  } finally {
    await loadgen.stop();
    await fakes.stop();
    const kept = ctx.cleanUp();
    if (kept.length > 0) log(`kept data directories:\n  ${kept.join('\n  ')}`);
  }
  results.totalSeconds = round((monoMs() - started) / 1000, 0);
  const dir = join(BENCH_DIR, 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = results.machine.date.replace(/[:.]/g, '-');
  const file = join(dir, `bench-${stamp}.json`);
  const json = JSON.stringify(results, null, 2);
  writeFileSync(file, json);
  writeFileSync(join(dir, 'latest.json'), json);
  log(`results: ${file}`);
  process.stdout.write(`${markdown(results)}\n`);
  if (results.failures.length > 0) process.exitCode = 1;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAllChildren();
    process.exit(130);
  });
}
process.once('exit', killAllChildren);

main().catch((error: unknown) => {
  process.stderr.write(
    `benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  killAllChildren();
  process.exit(1);
});
