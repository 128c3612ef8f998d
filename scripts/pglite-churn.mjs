#!/usr/bin/env node
/**
 * Churns embedded databases in one process, to reproduce (and count) the
 * native V8 abort of issue 11: `Check failed: jit_page.has_value()` in
 * ThreadIsolation::UnregisterWasmAllocation <- WasmImportWrapperCache::Free
 * <- WasmEngine::FreeDeadCode <- Runtime_TierUpWasmToJSWrapper
 * (nodejs/node#64500). `child` uses the app's own worker thread and client
 * (dist/database/pglite-worker.client.js), so build first; `loop` runs
 * children one after the other and counts the ones that crash.
 *
 * The client now sets --wasm-wrapper-tiering-budget=2147483647 itself unless
 * the command line gives a budget, so the unprotected baseline is
 * `--node-flags=--wasm-wrapper-tiering-budget=1000` (V8's default).
 *
 *   export PATH=$PWD/node_modules/.bin:$PATH   # Node 24
 *   npx nest build
 *   # one process: 40 databases, 4 open at a time, 300 statements each
 *   node scripts/pglite-churn.mjs child --databases 40
 *   # 20 such processes, unprotected, then as the app runs now
 *   nice -n 19 node scripts/pglite-churn.mjs loop --runs 20 \
 *     --node-flags=--wasm-wrapper-tiering-budget=1000
 *   nice -n 19 node scripts/pglite-churn.mjs loop --runs 20
 *   # the close path before 1feb988: threads terminated at random moments
 *   nice -n 19 node scripts/pglite-churn.mjs loop --runs 20 --close terminate \
 *     --node-flags=--wasm-wrapper-tiering-budget=1000
 *   # the same V8 bug without PGlite (scripts/wasm-wrapper-churn.mjs), about
 *   # 50 times more threads per second: the one that crashed here
 *   nice -n 19 node scripts/pglite-churn.mjs loop --runs 20 \
 *     --script wasm-wrapper-churn.mjs --child-args="--threads 1000 --close exit" \
 *     --node-flags=--wasm-wrapper-tiering-budget=1000
 *
 * `child` exits 0 when every database opened, answered and closed; a crash
 * shows as a signal (SIGTRAP for V8's fatal checks, SIGABRT, SIGSEGV) or a
 * non-zero status. `loop` prints one JSON line of counts and keeps each
 * crash's stderr (V8's check and stack) under --crash-dir.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const clientPath = join(root, 'dist', 'database', 'pglite-worker.client.js');
const migrationsFolder = join(root, 'drizzle');

const { positionals, values: options } = parseArgs({
  allowPositionals: true,
  options: {
    // child: databases opened in this process, and how many at a time
    databases: { type: 'string', default: '40' },
    concurrency: { type: 'string', default: '4' },
    // statements per database (each a few thousand calls into JS imports)
    queries: { type: 'string', default: '300' },
    // clean: close() as the app does; terminate: worker.terminate() at a
    // random moment of the database's life (the old close path)
    close: { type: 'string', default: 'clean' },
    // terminate: the moment, in ms after the start, is random below this
    'terminate-within': { type: 'string', default: '2500' },
    // loop: child processes to run, one after the other
    runs: { type: 'string', default: '100' },
    'node-flags': { type: 'string', default: '' },
    // another child: scripts/wasm-wrapper-churn.mjs and its own arguments
    script: { type: 'string', default: '' },
    'child-args': { type: 'string', default: '' },
    'crash-dir': { type: 'string', default: '/tmp/pglite-churn-crashes' },
    label: { type: 'string', default: '' },
  },
});

const mode = positionals[0] ?? 'child';
if (mode === 'loop') await loop();
else await child();

async function child() {
  if (!existsSync(clientPath)) {
    console.error(`${clientPath} is missing: run npx nest build first`);
    process.exit(2);
  }
  const { PgliteWorkerClient } = createRequire(import.meta.url)(clientPath);
  const databases = Number(options.databases);
  const concurrency = Number(options.concurrency);
  const queries = Number(options.queries);
  const terminate = options.close === 'terminate';
  let started = 0;
  let done = 0;

  // The Worker each start() creates, so that the old close path can
  // terminate it at any moment, even before the database is ready.
  const threads = createRequire(import.meta.url)('node:worker_threads');
  let lastWorker;
  threads.Worker = class extends threads.Worker {
    constructor(...args) {
      super(...args);
      lastWorker = this;
    }
  };

  async function one(n) {
    let worker;
    let killer;
    if (terminate) {
      // Anywhere in the thread's life (start takes about 1.5 s here):
      // mid-compilation, mid-migration, mid-statement, or idle.
      const at = Math.random() * Number(options['terminate-within']);
      killer = new Promise((resolve) =>
        setTimeout(() => resolve(void worker?.terminate()), at),
      );
    }
    let client;
    try {
      const starting = PgliteWorkerClient.start({
        location: 'memory://',
        migrationsFolder,
      });
      worker = lastWorker;
      client = await starting;
      for (let q = 0; q < queries; q++) {
        const id = `c${n}-${q}`;
        if (q % 3 === 0) {
          await client.query(
            `insert into conversations (customer_wa_id, customer_name)
             values ($1, $2) on conflict do nothing`,
            [id, 'churn'],
          );
        } else if (q % 3 === 1) {
          await client.query(
            `select id, state from conversations where customer_wa_id = $1`,
            [`c${n}-${q - 1}`],
          );
        } else {
          await client.query(
            `select count(*)::int as n, max(last_activity_at) from conversations`,
          );
        }
      }
    } catch (error) {
      // A terminated thread fails its start or its statements.
      if (!terminate) throw error;
    }
    if (terminate) {
      // The next database starts while this thread is still being torn down.
      await killer;
      void worker.terminate();
    } else {
      await client.close();
    }
  }

  async function lane() {
    while (started < databases) {
      const n = started++;
      await one(n);
      done++;
    }
  }
  const began = Date.now();
  await Promise.all(Array.from({ length: concurrency }, lane));
  console.log(
    JSON.stringify({
      databases: done,
      ms: Date.now() - began,
      pid: process.pid,
    }),
  );
}

function runOnce(flags) {
  return new Promise((resolve) => {
    const childArgs = options.script
      ? [
          join(root, 'scripts', options.script),
          ...options['child-args'].split(/\s+/).filter(Boolean),
        ]
      : [
          fileURLToPath(import.meta.url),
          'child',
          '--databases',
          options.databases,
          '--concurrency',
          options.concurrency,
          '--queries',
          options.queries,
          '--close',
          options.close,
          '--terminate-within',
          options['terminate-within'],
        ];
    const args = [...flags, ...childArgs];
    const began = Date.now();
    const proc = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d) => (out += d));
    proc.stderr.on('data', (d) => (err += d));
    proc.on('exit', (code, signal) =>
      resolve({ code, signal, out, err, ms: Date.now() - began }),
    );
  });
}

async function loop() {
  const runs = Number(options.runs);
  const flags = options['node-flags'].split(/\s+/).filter(Boolean);
  const label = options.label || flags.join(' ') || 'no V8 flags';
  const began = Date.now();
  let crashes = 0;
  let databases = 0;
  const kinds = {};
  for (let run = 1; run <= runs; run++) {
    const result = await runOnce(flags);
    const ok = result.code === 0 && !result.signal;
    try {
      databases += JSON.parse(result.out.trim().split('\n').pop()).databases;
    } catch {
      // crashed before its summary
    }
    if (!ok) {
      crashes++;
      const check =
        /Check failed: [^\n]*/.exec(result.err)?.[0] ??
        /Fatal error[^\n]*|Segmentation fault[^\n]*/.exec(result.err)?.[0] ??
        result.err.trim().split('\n').slice(-1)[0];
      const kind = `${result.signal ?? `exit ${result.code}`}: ${check}`;
      kinds[kind] = (kinds[kind] ?? 0) + 1;
      console.error(`[${label}] run ${run}: ${kind}`);
      // V8's whole report (check, stack) for the record.
      mkdirSync(options['crash-dir'], { recursive: true });
      const file = join(options['crash-dir'], `${Date.now()}-run${run}.txt`);
      writeFileSync(file, `${label}\n${result.err}`);
    }
  }
  const summary = {
    label,
    ...(options.script
      ? { script: options.script, childArgs: options['child-args'] }
      : {
          close: options.close,
          databasesPerRun: Number(options.databases),
          concurrency: Number(options.concurrency),
          queries: Number(options.queries),
        }),
    runs,
    // databases (or, for wasm-wrapper-churn.mjs, threads) of the runs that
    // did not crash
    completed: databases,
    crashes,
    kinds,
    seconds: Math.round((Date.now() - began) / 1000),
  };
  console.log(JSON.stringify(summary));
}
