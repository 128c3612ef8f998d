/**
 * The embedded database's own thread: PGlite (PostgreSQL compiled to WASM)
 * runs here, so that Postgres's work does not share the event loop with
 * HTTP. The main thread talks to it through `PgliteWorkerClient`.
 *
 * Self-contained on purpose (Node and two packages only): tests run this
 * file as TypeScript with Node's type stripping, so only erasable syntax.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, types } from '@electric-sql/pglite';
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

interface OpenTransaction {
  tx: Transaction;
  finish: (commit: boolean) => void;
  done: Promise<unknown>;
}

const port = parentPort!;
const { location, migrationsFolder } = workerData as WorkerStartup;
const transactions = new Map<number, OpenTransaction>();
let nextTransaction = 1;

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
      const target = request.tx ? transactions.get(request.tx)?.tx : db;
      if (!target) throw new Error(`no open transaction ${request.tx}`);
      const result = await target.query(request.sql, request.params, {
        rowMode: request.rowMode,
        parsers: PARSERS,
      });
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
      return db.transaction(async (tx) => {
        const results: unknown[][] = [];
        for (const statement of request.statements) {
          const result = await tx.query(statement.sql, statement.params, {
            rowMode: 'object',
            parsers: PARSERS,
          });
          results.push(result.rows);
        }
        return results;
      });
    case 'begin':
      return begin(db);
    case 'end':
      return end(request.tx, request.commit);
    case 'close':
      await db.close();
      return null;
  }
}

async function start(): Promise<void> {
  let db: PGlite;
  try {
    db = await PGlite.create(location);
    await migrate(drizzle({ client: db }), { migrationsFolder });
  } catch (error) {
    port.postMessage({ ready: false, error: describe(error) });
    return;
  }
  port.on('message', (request: WorkerRequest) => {
    handle(db, request).then(
      (result) => port.postMessage({ id: request.id, result }),
      (error: unknown) =>
        port.postMessage({ id: request.id, error: describe(error) }),
    );
  });
  port.postMessage({ ready: true });
}

void start();
