/**
 * The embedded database's own thread: PGlite (PostgreSQL compiled to WASM)
 * runs here, so that Postgres's work does not share the event loop with
 * HTTP. The main thread talks to it through `PgliteWorkerClient`.
 *
 * Self-contained on purpose (Node and two packages only): tests run this
 * file as TypeScript with Node's type stripping, so only erasable syntax.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, parse, protocol, types } from '@electric-sql/pglite';
import type { Transaction } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import type {
  WorkerReply,
  WorkerRequest,
  WorkerStartup,
} from './pglite-worker.protocol';

// Timestamps, dates and intervals stay text, as Drizzle asks of PGlite.
const asText = (value: string) => value;
const PARSERS = {
  [types.TIMESTAMP]: asText,
  [types.TIMESTAMPTZ]: asText,
  [types.INTERVAL]: asText,
  [types.DATE]: asText,
  1231: asText, // numeric[]
  1115: asText, // timestamp[]
  1185: asText, // timestamptz[]
  1187: asText, // interval[]
  1182: asText, // date[]
};

/** Statements kept prepared at most; past that the least recently used is closed. */
const MAX_PREPARED = 256;

interface Prepared {
  name: string;
  paramTypes: number[];
}

interface OpenTransaction {
  tx: Transaction;
  finish: (commit: boolean) => void;
  done: Promise<unknown>;
}

const port = parentPort!;
const { location, migrationsFolder } = workerData as WorkerStartup;
const transactions = new Map<number, OpenTransaction>();
let nextTransaction = 1;
const prepared = new Map<string, Prepared>();
let nextStatement = 1;
const { serialize } = protocol;

function joined(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Sends protocol messages to Postgres in one exchange; throws its error, if any. */
function exchange(db: PGlite, parts: Uint8Array[]) {
  return db.execProtocolStream(joined([...parts, serialize.sync()]), {
    syncToFs: false,
  });
}

async function prepare(db: PGlite, text: string): Promise<Prepared> {
  if (prepared.size >= MAX_PREPARED) {
    const [oldestText, oldest] = prepared.entries().next().value!;
    prepared.delete(oldestText);
    await exchange(db, [serialize.close({ type: 'S', name: oldest.name })]);
  }
  const name = `clariops_${nextStatement++}`;
  const described = await exchange(db, [
    serialize.parse({ name, text, types: [] }),
    serialize.describe({ type: 'S', name }),
  ]);
  const statement = {
    name,
    paramTypes: parse.parseDescribeStatementResults(described),
  };
  prepared.set(text, statement);
  return statement;
}

/** The prepared statement of this text, prepared now if it is not yet. */
async function preparedFor(db: PGlite, text: string): Promise<Prepared> {
  if (db.closed) throw new Error('PGlite is closed');
  const statement = prepared.get(text);
  if (!statement) return prepare(db, text);
  // Most recently used last.
  prepared.delete(text);
  prepared.set(text, statement);
  return statement;
}

/** Bind, describe and execute messages that run a prepared statement once. */
function runMessages(
  db: PGlite,
  { name, paramTypes }: Prepared,
  params: unknown[] = [],
): Uint8Array[] {
  // Parameters are serialized by their type, as PGlite's `query` does.
  const values = params.map((value, n) => {
    if (value === null || value === undefined) return null;
    const serializer = db.serializers[paramTypes[n]];
    if (serializer) return serializer(value);
    return typeof value === 'object'
      ? JSON.stringify(value)
      : String(value as string | number | boolean | bigint);
  });
  return [
    serialize.bind({ statement: name, values: values as string[] }),
    serialize.describe({ type: 'P' }),
    serialize.execute({}),
  ];
}

interface Statement {
  sql: string;
  params?: unknown[];
}

/**
 * Runs statements as named prepared statements: Postgres parses each (and,
 * once it settles on a generic plan, plans it) only the first time, and all
 * of them go in one exchange (bind, describe, execute each, then one sync)
 * instead of the six exchanges per statement of PGlite's `query`. On this
 * thread that halves the cost of the app's statements. Outside a BEGIN,
 * Postgres runs everything up to the Sync as one implicit transaction:
 * committed at the Sync, or rolled back whole if a statement fails. Postgres
 * re-plans a prepared statement itself when the schema changes. The caller
 * holds PGlite's query lock.
 */
async function execute(
  db: PGlite,
  statements: Statement[],
  rowMode?: 'array' | 'object',
) {
  const parts: Uint8Array[] = [];
  for (const statement of statements) {
    const prepared = await preparedFor(db, statement.sql);
    parts.push(...runMessages(db, prepared, statement.params));
  }
  return parse.parseResults(await exchange(db, parts), db.parsers, {
    rowMode,
    parsers: PARSERS,
  });
}

/** A statement of an open transaction, which holds the transaction lock. */
async function queryInTransaction(
  db: PGlite,
  statement: Statement,
  rowMode?: 'array' | 'object',
) {
  const [result] = await db._runExclusiveQuery(() =>
    execute(db, [statement], rowMode),
  );
  return result;
}

/**
 * Statements on their own, atomically: they wait for any open transaction
 * to end first, as PGlite's `query` would.
 */
function runAlone(
  db: PGlite,
  statements: Statement[],
  rowMode?: 'array' | 'object',
) {
  return db._runExclusiveTransaction(() =>
    db._runExclusiveQuery(async () => {
      const results = await execute(db, statements, rowMode);
      await db.syncToFs();
      return results;
    }),
  );
}

function describe(error: unknown): WorkerReply['error'] {
  if (!(error instanceof Error)) return { message: String(error) };
  // PGlite's DatabaseError carries code, detail, constraint, …
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(error)) {
    if (value === undefined || typeof value === 'function') continue;
    if (typeof value === 'object' && value !== null) continue;
    fields[key] = value;
  }
  return { ...fields, name: error.name, message: error.message };
}

async function begin(db: PGlite): Promise<number> {
  const id = nextTransaction++;
  return new Promise<number>((entered, failed) => {
    const done = db.transaction(
      (tx) =>
        new Promise<void>((resolve, reject) => {
          transactions.set(id, {
            tx,
            finish: (commit) => (commit ? resolve() : reject(new RolledBack())),
            done,
          });
          entered(id);
        }),
    );
    done.catch((error: unknown) => {
      if (!transactions.has(id)) failed(error);
    });
  });
}

async function end(id: number, commit: boolean): Promise<void> {
  const open = transactions.get(id);
  if (!open) throw new Error(`no open transaction ${id}`);
  open.finish(commit);
  try {
    await open.done;
  } catch (error) {
    if (!(error instanceof RolledBack)) throw error;
  } finally {
    transactions.delete(id);
  }
}

class RolledBack extends Error {}

async function handle(db: PGlite, request: WorkerRequest): Promise<unknown> {
  switch (request.kind) {
    case 'query': {
      if (request.tx && (transactions.get(request.tx)?.tx.closed ?? true)) {
        throw new Error(`no open transaction ${request.tx}`);
      }
      const statement = { sql: request.sql, params: request.params };
      const result = request.tx
        ? await queryInTransaction(db, statement, request.rowMode)
        : (await runAlone(db, [statement], request.rowMode))[0];
      return {
        rows: result.rows,
        fields: result.fields,
        affectedRows: result.affectedRows,
      };
    }
    case 'exec': {
      const target = request.tx ? transactions.get(request.tx)?.tx : db;
      if (!target) throw new Error(`no open transaction ${request.tx}`);
      return target.exec(request.sql);
    }
    case 'script':
      // A whole transaction in one message: no round trip between statements.
      return (await runAlone(db, request.statements, 'object')).map(
        (result) => result.rows,
      );
    case 'begin':
      return begin(db);
    case 'end':
      return end(request.tx, request.commit);
    case 'close':
      // Answered by `serve`, which closes the database once.
      return null;
  }
}

/** Rolls back the transactions still open, so that closing need not wait for them. */
async function rollBackOpenTransactions(): Promise<void> {
  for (const [id, open] of transactions) {
    open.finish(false);
    await open.done.catch(() => undefined);
    transactions.delete(id);
  }
}

/**
 * Answers requests until a `close` request. Then later requests are
 * refused, except the end of a transaction (so that its caller can finish
 * it); the requests already received finish; a transaction still open is
 * rolled back; PGlite is closed, and the port with it, so that nothing keeps
 * this thread alive and it ends by itself. The main thread waits for that
 * exit instead of terminating a thread whose WebAssembly may be running.
 */
function serve(db: PGlite): void {
  const inFlight = new Set<Promise<unknown>>();
  let closing: Promise<void> | null = null;
  const run = (request: WorkerRequest) => {
    const work = handle(db, request);
    inFlight.add(work);
    const settled = () => inFlight.delete(work);
    work.then(settled, settled);
    return work;
  };
  const reply = (id: number, work: Promise<unknown>) =>
    work.then(
      (result) => port.postMessage({ id, result }),
      (error: unknown) => port.postMessage({ id, error: describe(error) }),
    );
  const close = async () => {
    while (inFlight.size > 0) await Promise.allSettled(inFlight);
    await rollBackOpenTransactions();
    await db.close();
  };
  port.on('message', (request: WorkerRequest) => {
    if (request.kind === 'close') {
      // Once: a second close gets the same answer (or the thread's exit).
      const first = !closing;
      closing ??= close();
      const answered = reply(request.id, closing);
      if (first) void answered.finally(() => port.close());
    } else if (closing && request.kind !== 'end') {
      void reply(
        request.id,
        Promise.reject(new Error('the embedded database is closing')),
      );
    } else {
      void reply(request.id, run(request));
    }
  });
}

async function start(): Promise<void> {
  let db: PGlite | undefined;
  try {
    db = await PGlite.create(location);
    await migrate(drizzle({ client: db }), { migrationsFolder });
    // ANALYZE samples 300 rows per unit of this target (30,000 at the
    // default 100) on this one thread, while webhooks wait. The app's
    // queries are index lookups that coarse statistics plan just as well.
    await db.exec('SET default_statistics_target = 10');
    // Every statement here is prepared by name, and PostgreSQL by default
    // plans each execution again for its parameters until it trusts a
    // generic plan, which for the hot statements (CTEs over jsonb and
    // arrays) it never does: planning was two thirds of recording a reply.
    // One plan per statement, made again after an ANALYZE, is enough for
    // the app's queries, which are index lookups.
    await db.exec('SET plan_cache_mode = force_generic_plan');
  } catch (error) {
    await db?.close().catch(() => undefined);
    port.postMessage({ ready: false, error: describe(error) });
    // Nothing else to do: the thread ends once the port is closed.
    port.close();
    return;
  }
  serve(db);
  port.postMessage({ ready: true });
}

void start();
