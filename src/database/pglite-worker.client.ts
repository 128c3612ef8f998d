import { extname, join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { Results, Transaction } from '@electric-sql/pglite';
import type {
  WorkerReady,
  WorkerReply,
  WorkerRequest,
  WorkerStartup,
} from './pglite-worker.protocol';

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };
type Request = WorkerRequest extends infer R
  ? R extends { id: number }
    ? Omit<R, 'id'>
    : never
  : never;
type QueryOptions = { rowMode?: 'array' | 'object' };

function toError(error: NonNullable<WorkerReply['error']>): Error {
  const { message, name, ...fields } = error;
  const rebuilt = Object.assign(new Error(message), fields);
  if (name && name !== 'Error') rebuilt.name = name;
  return rebuilt;
}

/**
 * How long a closing thread may take to end by itself (its last statements,
 * then PGlite's shutdown) before it is terminated.
 */
export const CLOSE_TIMEOUT_MS = 10_000;

/**
 * V8 flag that keeps calls from WebAssembly into JavaScript on V8's generic
 * wrapper: a wrapper never tiers up to compiled code (by default it does
 * after 1,000 calls), so no compiled wrapper is ever freed. Node 24 (V8 13.6)
 * can abort the whole process while freeing one, when PGlite instances come
 * and go on threads of one process: `Check failed: jit_page.has_value()` in
 * WasmImportWrapperCache::Free under Runtime_TierUpWasmToJSWrapper
 * (nodejs/node#64500, issue 11). Node refuses V8 flags in NODE_OPTIONS, so
 * the process sets it for itself before its first database thread starts;
 * V8's flags are the process's, shared by every thread.
 */
export const WASM_WRAPPER_FLAG = '--wasm-wrapper-tiering-budget';
const WASM_WRAPPER_BUDGET = 2_147_483_647;
let wrapperFlagSet = false;

/**
 * Sets the flag, once per load of this module (a test runner loads it again
 * for each spec file, which sets the same value again), unless the command
 * line gives a budget of its own.
 */
export function keepWasmImportWrappersGeneric(): void {
  if (wrapperFlagSet) return;
  wrapperFlagSet = true;
  if (process.execArgv.some((arg) => arg.startsWith(WASM_WRAPPER_FLAG))) {
    return;
  }
  setFlagsFromString(`${WASM_WRAPPER_FLAG}=${WASM_WRAPPER_BUDGET}`);
}

/**
 * Resolves once the thread has ended; after `timeoutMs` without that, ends
 * it with `terminate()`. Terminating a thread that is inside PGlite's
 * WebAssembly (or whose module V8 is still compiling) is the one way left to
 * stop a stuck thread, never the way a healthy one is stopped.
 */
function ended(worker: Worker, exited: Promise<void>, timeoutMs: number) {
  let timer: NodeJS.Timeout | undefined;
  const overdue = new Promise<'overdue'>((resolve) => {
    timer = setTimeout(() => resolve('overdue'), timeoutMs);
  });
  return Promise.race([exited, overdue]).then(async (outcome) => {
    clearTimeout(timer);
    if (outcome === 'overdue') await worker.terminate();
  });
}

/**
 * PGlite on its own thread (`pglite-worker.ts`), behind the part of PGlite's
 * interface Drizzle uses: `query`, `exec` and `transaction`. Statements of a
 * transaction go to the worker one by one, inside one PGlite transaction
 * there; a failure in the callback rolls it back.
 */
export class PgliteWorkerClient {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Set by `close()`: new requests fail with it. */
  private refused: Error | null = null;
  /** Set when the thread is gone: every request fails with it. */
  private stopped: Error | null = null;
  private closing: Promise<void> | null = null;
  private readonly exited: Promise<void>;

  private constructor(
    private readonly worker: Worker,
    exited: Promise<void>,
    private readonly closeTimeoutMs: number,
  ) {
    this.exited = exited;
    worker.on('message', (reply: WorkerReply) => {
      const waiting = this.pending.get(reply.id);
      if (!waiting) return;
      this.pending.delete(reply.id);
      if (reply.error) waiting.reject(toError(reply.error));
      else waiting.resolve(reply.result);
    });
    worker.on('error', (error) => this.stop(error));
    worker.on('exit', (code) =>
      this.stop(new Error(`the embedded database thread exited (${code})`)),
    );
  }

  /** Starts the thread, opens the database there and migrates it. */
  static async start(
    startup: WorkerStartup,
    { closeTimeoutMs = CLOSE_TIMEOUT_MS } = {},
  ): Promise<PgliteWorkerClient> {
    // Built: the compiled .js beside this file. Under the test runner: the
    // .ts source, which Node runs with its own type stripping.
    const extension = extname(__filename);
    if (extension === '.ts' && !process.features.typescript) {
      // Otherwise every suite fails with ERR_UNKNOWN_FILE_EXTENSION ".ts".
      throw new Error(
        `the embedded database thread runs pglite-worker.ts with Node's type stripping, which Node ${process.version} lacks: run the tests with npm test, which uses the Node 24 that npm install brings`,
      );
    }
    keepWasmImportWrappersGeneric();
    const worker = new Worker(join(__dirname, `pglite-worker${extension}`), {
      workerData: startup,
      // Built, the thread takes the process's flags (profilers, preloads).
      execArgv:
        extension === '.ts'
          ? ['--disable-warning=MODULE_TYPELESS_PACKAGE_JSON']
          : undefined,
    });
    const exited = new Promise<void>((resolve) =>
      worker.once('exit', () => resolve()),
    );
    let onMessage!: (ready: WorkerReady) => void;
    let onError!: (error: Error) => void;
    let onExit!: (code: number) => void;
    try {
      await new Promise<void>((resolve, reject) => {
        onMessage = (ready) =>
          ready.ready ? resolve() : reject(toError(ready.error));
        onError = reject;
        onExit = (code) =>
          reject(
            new Error(`the embedded database thread exited (${code}) at start`),
          );
        worker.once('message', onMessage);
        worker.once('error', onError);
        worker.once('exit', onExit);
      });
    } catch (error) {
      // The thread ends by itself after reporting its failure.
      await ended(worker, exited, closeTimeoutMs);
      throw error;
    } finally {
      // Only these: the Worker keeps listeners of its own.
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    }
    return new PgliteWorkerClient(worker, exited, closeTimeoutMs);
  }

  get closed(): boolean {
    return this.refused !== null || this.stopped !== null;
  }

  query<T>(
    sql: string,
    params?: unknown[],
    options?: QueryOptions,
  ): Promise<Results<T>> {
    return this.queryIn(undefined, sql, params, options);
  }

  exec(sql: string): Promise<Array<Results>> {
    return this.call({ kind: 'exec', sql }) as Promise<Array<Results>>;
  }

  /** Runs the statements in one transaction on the worker; their rows. */
  script(
    statements: Array<{ sql: string; params: unknown[] }>,
  ): Promise<Array<Array<Record<string, unknown>>>> {
    return this.call({ kind: 'script', statements }) as Promise<
      Array<Array<Record<string, unknown>>>
    >;
  }

  async transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    const tx = (await this.call({ kind: 'begin' })) as number;
    const inside = {
      query: <R>(sql: string, params?: unknown[], options?: QueryOptions) =>
        this.queryIn<R>(tx, sql, params, options),
      exec: (sql: string) => this.call({ kind: 'exec', sql, tx }),
      closed: false,
    } as unknown as Transaction;
    let result: T;
    try {
      result = await work(inside);
    } catch (error) {
      await this.call({ kind: 'end', tx, commit: false }).catch(
        () => undefined,
      );
      throw error;
    }
    await this.call({ kind: 'end', tx, commit: true });
    return result;
  }

  /**
   * Closes PGlite and ends its thread. Requests already sent are answered
   * first; new ones are refused. Resolves once the thread has ended (by
   * itself, or terminated after `closeTimeoutMs`).
   */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    if (!this.stopped) {
      const closed = this.send({ kind: 'close' });
      this.refuse(new Error('the embedded database is closed'));
      await closed.catch(() => undefined);
    }
    await ended(this.worker, this.exited, this.closeTimeoutMs);
  }

  private queryIn<T>(
    tx: number | undefined,
    sql: string,
    params?: unknown[],
    options?: QueryOptions,
  ): Promise<Results<T>> {
    return this.call({
      kind: 'query',
      sql,
      params,
      rowMode: options?.rowMode,
      tx,
    }) as Promise<Results<T>>;
  }

  private call(request: Request): Promise<unknown> {
    // Once closing, only the end of a transaction still goes out, so that
    // a transaction under way can finish instead of holding up the close.
    const refused = this.refused ?? this.stopped;
    if (refused && request.kind !== 'end') return Promise.reject(refused);
    if (this.stopped) return Promise.reject(this.stopped);
    return this.send(request);
  }

  private send(request: Request): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...request, id });
    });
  }

  private refuse(reason: Error) {
    this.refused ??= reason;
  }

  /** The thread is gone: whatever still waits for an answer fails. */
  private stop(reason: Error) {
    if (this.stopped) return;
    this.stopped = reason;
    for (const waiting of this.pending.values()) waiting.reject(reason);
    this.pending.clear();
  }
}
