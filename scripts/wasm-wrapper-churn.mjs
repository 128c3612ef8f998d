#!/usr/bin/env node
/**
 * The V8 bug of issue 11 without PGlite: worker threads that each
 * instantiate a small WebAssembly module importing 45 JS functions (one per
 * signature), call each import 1,100 times (past V8's wrapper tier-up budget
 * of 1,000), and end, six threads at a time. Compiled import wrappers are
 * cached process-wide, so threads share them, tier up and free them
 * concurrently, as PGlite's threads do, at about 20 ms a thread instead of
 * about a second per database. With `--close exit` (threads end by
 * themselves) 5 of 40 processes of 1,000 threads crashed on the 2-core
 * machine (`Check failed: jit_page.has_value()` under
 * Runtime_TierUpWasmToJSWrapper, or a bare SIGSEGV), and none of 40 with
 * --wasm-wrapper-tiering-budget=2147483647. `--close terminate` (threads
 * terminated within 40 ms) did not crash in 15 processes.
 *
 *   export PATH=$PWD/node_modules/.bin:$PATH   # Node 24
 *   node --wasm-wrapper-tiering-budget=1000 scripts/wasm-wrapper-churn.mjs \
 *     --threads 1000 --close exit
 *   # 15 processes, counted (see pglite-churn.mjs)
 *   nice -n 19 node scripts/pglite-churn.mjs loop --runs 15 \
 *     --script wasm-wrapper-churn.mjs --child-args="--threads 1000 --close exit" \
 *     --node-flags=--wasm-wrapper-tiering-budget=1000
 */
import { parseArgs } from 'node:util';
import { Worker, isMainThread, workerData } from 'node:worker_threads';

const I32 = 0x7f;
const F64 = 0x7c;

function leb(n) {
  const out = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n) byte |= 0x80;
    out.push(byte);
  } while (n);
  return out;
}
const section = (id, bytes) => [id, ...leb(bytes.length), ...bytes];
const vec = (items) => [...leb(items.length), ...items.flat()];
const name = (s) => vec([...Buffer.from(s)].map((b) => [b]));

/** Every signature of up to `maxParams` i32/f64 parameters, returning nothing, i32 or f64. */
function signatures(maxParams) {
  const sigs = [];
  const params = [[]];
  for (let length = 1; length <= maxParams; length++) {
    for (const p of params.filter((q) => q.length === length - 1)) {
      params.push([...p, I32], [...p, F64]);
    }
  }
  for (const p of params) for (const r of [[], [I32], [F64]]) sigs.push([p, r]);
  return sigs;
}

/** A module importing one function per signature; run(n) calls each n times. */
function buildModule(sigs) {
  const types = [
    ...sigs.map(([p, r]) => [
      0x60,
      ...vec(p.map((t) => [t])),
      ...vec(r.map((t) => [t])),
    ]),
    [0x60, 1, I32, 0], // run: (i32) -> ()
  ];
  const imports = sigs.map((_, k) => [
    ...name('env'),
    ...name(`f${k}`),
    0,
    ...leb(k),
  ]);
  const body = [0]; // no locals
  body.push(0x02, 0x40, 0x03, 0x40); // block, loop
  body.push(0x20, 0, 0x45, 0x0d, 1); // if (n == 0) break
  sigs.forEach(([p, r], k) => {
    for (const t of p) {
      if (t === I32)
        body.push(0x41, ...leb(k)); // i32.const k
      else body.push(0x44, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f); // f64.const 1
    }
    body.push(0x10, ...leb(k)); // call f_k
    if (r.length) body.push(0x1a); // drop
  });
  body.push(0x20, 0, 0x41, 1, 0x6b, 0x21, 0, 0x0c, 0, 0x0b, 0x0b, 0x0b);
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    1,
    0,
    0,
    0,
    ...section(1, vec(types)),
    ...section(2, vec(imports)),
    ...section(3, vec([leb(sigs.length)])),
    ...section(7, vec([[...name('run'), 0, ...leb(sigs.length)]])),
    ...section(10, vec([[...leb(body.length), ...body]])),
  ]);
}

if (!isMainThread) {
  const { bytes, count, calls } = workerData;
  const env = {};
  let sink = 0;
  for (let k = 0; k < count; k++) env[`f${k}`] = (x) => ((sink += +x || 0), k);
  const { instance } = await WebAssembly.instantiate(bytes, { env });
  instance.exports.run(calls);
} else {
  const { values: options } = parseArgs({
    allowPositionals: true,
    options: {
      threads: { type: 'string', default: '2000' },
      concurrency: { type: 'string', default: '6' },
      params: { type: 'string', default: '3' },
      calls: { type: 'string', default: '1100' },
      // exit: each thread ends by itself; terminate: at a random moment
      close: { type: 'string', default: 'terminate' },
      'terminate-within': { type: 'string', default: '30' },
    },
  });
  const sigs = signatures(Number(options.params));
  const bytes = buildModule(sigs);
  new WebAssembly.Module(bytes); // fails here if the encoding is wrong
  const total = Number(options.threads);
  let started = 0;
  const one = () =>
    new Promise((resolve) => {
      const worker = new Worker(new URL(import.meta.url), {
        workerData: { bytes, count: sigs.length, calls: Number(options.calls) },
      });
      // A terminated thread's error is expected; any other is a bug here.
      worker.on('error', (error) => {
        if (options.close !== 'terminate') throw error;
      });
      worker.on('exit', resolve);
      if (options.close === 'terminate') {
        setTimeout(
          () => void worker.terminate(),
          Math.random() * Number(options['terminate-within']),
        );
      }
    });
  const lane = async () => {
    while (started < total) {
      started++;
      await one();
    }
  };
  const began = Date.now();
  await Promise.all(Array.from({ length: Number(options.concurrency) }, lane));
  console.log(JSON.stringify({ databases: total, ms: Date.now() - began }));
}
