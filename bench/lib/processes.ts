import { ChildProcess, fork, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { sleep } from './stats';

export const ROOT = join(__dirname, '..', '..');
export const BENCH_DIR = join(ROOT, 'bench');
export const MAIN_JS = join(ROOT, 'dist', 'main.js');

/** Every child this benchmark started and has not seen exit: killed if the benchmark dies. */
const live = new Set<ChildProcess>();

function track(child: ChildProcess) {
  live.add(child);
  child.once('exit', () => live.delete(child));
}

export function killAllChildren() {
  for (const child of live) child.kill('SIGKILL');
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Keeps the last lines a process printed, for error reports. */
class OutputTail {
  private lines: string[] = [];
  private partial = '';
  /** Log lines at pino level >= 40 (warn) seen so far, by message. */
  readonly warnings = new Map<string, number>();

  constructor(private readonly max = 200) {}

  push(chunk: Buffer) {
    const text = this.partial + chunk.toString('utf8');
    const parts = text.split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) {
      this.lines.push(line);
      if (this.lines.length > this.max) this.lines.shift();
      this.countWarning(line);
    }
  }

  private countWarning(line: string) {
    if (!line.startsWith('{')) return;
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string };
      if ((entry.level ?? 0) >= 40) {
        const key = `${entry.level === 40 ? 'warn' : 'error'}: ${String(entry.msg).slice(0, 120)}`;
        this.warnings.set(key, (this.warnings.get(key) ?? 0) + 1);
      }
    } catch {
      // not JSON: kept in the tail only
    }
  }

  text(): string {
    return [...this.lines, this.partial].join('\n');
  }

  grep(pattern: RegExp): string[] {
    return this.lines.filter((l) => pattern.test(l));
  }
}

export interface Rss {
  rssMb: number;
  /** Peak RSS of the process so far (VmHWM). */
  peakMb: number;
}

export function readRss(pid: number): Rss | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) =>
      Number(
        new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN,
      );
    return {
      rssMb: Math.round(kb('VmRSS') / 1024),
      peakMb: Math.round(kb('VmHWM') / 1024),
    };
  } catch {
    return null;
  }
}

async function waitHttpOk(
  url: string,
  child: ChildProcess,
  tail: OutputTail,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${what} exited before it was ready:\n${tail.text()}`);
    }
    const status = await fetch(url)
      .then((r) => r.status)
      .catch(() => 0);
    if (status === 200) return;
    if (Date.now() > deadline) {
      throw new Error(
        `${what} was not ready within ${timeoutMs} ms:\n${tail.text()}`,
      );
    }
    await sleep(100);
  }
}

/** A server under test in a child process: the built app or the reference receiver. */
export class ServerProcess {
  readonly tail = new OutputTail();
  readonly startedAt = Date.now();
  readyMs = 0;
  private readonly exited: Promise<void>;

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly url: string,
  ) {
    track(child);
    child.stdout?.on('data', (d: Buffer) => this.tail.push(d));
    child.stderr?.on('data', (d: Buffer) => this.tail.push(d));
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /**
   * `node [nodeArgs] dist/main.js` with a minimal environment: only what is
   * given (plus PATH), so no .env or shell variable leaks into the run.
   */
  static async startApp(
    name: string,
    env: Record<string, string>,
    options: {
      nodeArgs?: string[];
      /** What node runs instead of dist/main.js (e.g. `-e` wrapping it). */
      entry?: string[];
      readyTimeoutMs?: number;
    } = {},
  ): Promise<ServerProcess> {
    const port = Number(env.PORT) || (await freePort());
    const child = spawn(
      process.execPath,
      [...(options.nodeArgs ?? []), ...(options.entry ?? [MAIN_JS])],
      {
        // Not the repository root: a developer's .env there must not apply.
        cwd: BENCH_DIR,
        env: { PATH: process.env.PATH ?? '', ...env, PORT: String(port) },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const server = new ServerProcess(name, child, `http://127.0.0.1:${port}`);
    await waitHttpOk(
      `${server.url}/health/ready`,
      child,
      server.tail,
      options.readyTimeoutMs ?? 60_000,
      name,
    );
    server.readyMs = Date.now() - server.startedAt;
    return server;
  }

  /** A TypeScript file of bench/ run through ts-node, ready when GET /health is 200. */
  static async startTs(
    name: string,
    file: string,
    env: Record<string, string>,
  ): Promise<ServerProcess> {
    const port = Number(env.PORT) || (await freePort());
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', join(BENCH_DIR, file)],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', ...env, PORT: String(port) },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const server = new ServerProcess(name, child, `http://127.0.0.1:${port}`);
    await waitHttpOk(`${server.url}/health`, child, server.tail, 60_000, name);
    server.readyMs = Date.now() - server.startedAt;
    return server;
  }

  rss(): Rss | null {
    return readRss(this.pid);
  }

  /** Sends `signal`, waits up to `graceMs`, then SIGKILL. */
  async stop(
    signal: NodeJS.Signals = 'SIGTERM',
    graceMs = 15_000,
  ): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  warningSummary(): Record<string, number> {
    return Object.fromEntries(this.tail.warnings);
  }
}

/**
 * A helper process of the benchmark (load generator, fakes) that talks to
 * this one over IPC: each request is a message with `cmd`, each answer a
 * message with `type`.
 */
export class Worker {
  private readonly waiting = new Map<
    string,
    Array<(msg: WorkerMessage) => void>
  >();
  private readonly exited: Promise<void>;
  readonly events: WorkerMessage[] = [];
  private stderr = '';

  private constructor(readonly child: ChildProcess) {
    track(child);
    child.on('message', (msg: WorkerMessage) => {
      const queue = this.waiting.get(msg.type);
      const next = queue?.shift();
      if (next) next(msg);
      else this.events.push(msg);
    });
    child.stderr?.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-8000);
    });
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  static async start(
    file: string,
    readyType = 'ready',
  ): Promise<{ worker: Worker; ready: WorkerMessage }> {
    const child = fork(join(BENCH_DIR, file), [], {
      cwd: ROOT,
      execArgv: ['-r', 'ts-node/register/transpile-only'],
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    const worker = new Worker(child);
    const ready = await worker.next(readyType, 60_000);
    return { worker, ready };
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Resolves with the next message of this type (or one already received). */
  next(type: string, timeoutMs = 600_000): Promise<WorkerMessage> {
    const index = this.events.findIndex((e) => e.type === type);
    if (index >= 0) return Promise.resolve(this.events.splice(index, 1)[0]);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new Error(
            `no "${type}" from worker ${this.pid} within ${timeoutMs} ms\n${this.stderr}`,
          ),
        );
      }, timeoutMs);
      const onExit = () => {
        clearTimeout(timer);
        reject(
          new Error(
            `worker ${this.pid} exited while waiting for "${type}"\n${this.stderr}`,
          ),
        );
      };
      this.child.once('exit', onExit);
      const queue = this.waiting.get(type) ?? [];
      queue.push((msg) => {
        clearTimeout(timer);
        this.child.off('exit', onExit);
        resolve(msg);
      });
      this.waiting.set(type, queue);
    });
  }

  request<T = WorkerMessage>(
    message: object,
    replyType: string,
    timeoutMs?: number,
  ): Promise<T> {
    const reply = this.next(replyType, timeoutMs);
    this.child.send(message);
    return reply as Promise<unknown> as Promise<T>;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}

export interface WorkerMessage {
  type: string;
  [key: string]: unknown;
}
