/**
 * Preloaded into the app process by the profiling runs of part 1
 * (`node -r ts-node/register/transpile-only -r bench/query-timer.ts …`):
 * times every PGlite protocol exchange and attributes it to the SQL text of
 * the statement being run, so the report can say which statements the
 * database's single thread spends its time on (statements prepared by name
 * are followed from their Parse to each Bind). Nothing in src/ changes;
 * PGlite runs every statement synchronously inside execProtocolRawSync.
 *
 * Writes, at exit, to BENCH_QUERY_STATS_FILE: per second of the monotonic
 * clock (process.hrtime, shared by every process here), the time and calls
 * per statement, so the reader can keep only the measured window.
 */
import { writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';

/** Monotonic second → statement → [calls, ms]. */
const seconds = new Map<number, Map<string, [number, number]>>();
let current = '(no statement)';

/** Named prepared statements (the app's PGlite thread prepares every statement): name → SQL. */
const statements = new Map<string, string>();

function cstring(message: Uint8Array, at: number): [string, number] {
  let end = at;
  while (end < message.length && message[end] !== 0) end++;
  const text = Buffer.from(
    message.buffer,
    message.byteOffset + at,
    end - at,
  ).toString('utf8');
  return [text, end + 1];
}

/**
 * The statement an exchange runs: the text of a simple Query ('Q') or an
 * unnamed Parse ('P') message, or of the named statement a Bind ('B') runs.
 * A named Parse (preparing a statement) is timed under its text, but not
 * counted as a call.
 */
function sqlOf(message: Uint8Array): { sql: string; call: boolean } | null {
  const kind = message[0];
  if (kind === 0x51) return { sql: cstring(message, 5)[0], call: true };
  if (kind === 0x50) {
    const [name, at] = cstring(message, 5);
    const [sql] = cstring(message, at);
    if (name) statements.set(name, sql);
    return { sql, call: !name };
  }
  if (kind === 0x42) {
    // Several statements can share one exchange (the app's atomic scripts):
    // every Bind in the buffer names one, and they are timed together.
    const texts: string[] = [];
    const view = new DataView(
      message.buffer,
      message.byteOffset,
      message.byteLength,
    );
    for (let at = 0; at + 5 <= message.length;) {
      const length = view.getUint32(at + 1);
      if (message[at] === 0x42) {
        const [, next] = cstring(message, at + 5); // portal
        const sql = statements.get(cstring(message, next)[0]);
        if (sql !== undefined) texts.push(sql);
      }
      at += 1 + length;
    }
    if (texts.length === 0) return null;
    const sql =
      texts.length === 1
        ? texts[0]
        : `[one exchange] ${texts.map((t) => normalise(t).slice(0, 60)).join(' + ')}`;
    return { sql, call: true };
  }
  return null;
}

/** One key per statement shape: batch sizes and parameter numbers folded. */
export function normalise(sql: string): string {
  return sql
    .replace(/\s+/g, ' ')
    .replace(/^select (?:distinct )?.*? from /i, (m) =>
      m.length > 60 ? 'select … from ' : m,
    )
    .replace(/^(insert into \S+) \([^)]*\)/i, '$1 (…)')
    .replace(/ returning .*$/i, ' returning …')
    .replace(/\$\d+/g, '$')
    .replace(
      /\((?:\$|default)(?:, (?:\$|default))*\)(?:, \((?:\$|default)(?:, (?:\$|default))*\))+/g,
      '(…), …',
    )
    .replace(/\(\$(?:, \$)+\)/g, '($, …)')
    .slice(0, 220);
}

type Raw = (
  this: PGlite,
  message: Uint8Array,
  ...rest: unknown[]
) => Uint8Array;
const proto = PGlite.prototype as unknown as { execProtocolRawSync: Raw };
const original = proto.execProtocolRawSync;
proto.execProtocolRawSync = function (
  this: PGlite,
  message: Uint8Array,
  ...rest: unknown[]
) {
  const statement = sqlOf(message);
  if (statement !== null) current = normalise(statement.sql);
  const t0 = performance.now();
  try {
    return original.call(this, message, ...rest);
  } finally {
    const ms = performance.now() - t0;
    const second = Math.floor(
      Number(process.hrtime.bigint() / 1_000_000n) / 1000,
    );
    let bucket = seconds.get(second);
    if (!bucket) seconds.set(second, (bucket = new Map()));
    const entry = bucket.get(current) ?? [0, 0];
    if (statement?.call) entry[0]++;
    entry[1] += ms;
    bucket.set(current, entry);
  }
};

function save() {
  const file = process.env.BENCH_QUERY_STATS_FILE;
  // Only the thread that runs PGlite (the app's database worker) has any.
  if (!file || seconds.size === 0) return;
  writeFileSync(
    file,
    JSON.stringify(
      [...seconds].map(([second, bucket]) => [second, [...bucket]]),
    ),
  );
}

process.on('exit', save);
// A worker thread that is terminated runs no exit handlers: save as it goes.
if (!isMainThread) setInterval(save, 1000).unref();
