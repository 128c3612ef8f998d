import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { FakeGraphApi, GraphRequest } from '../fakes/fake-graph-api';
import type { ChatRequest } from '../fakes/fake-openai';
import { waitFor } from '../fakes/wait-for';
import { spawnService } from './app-process';
import { ADMIN_KEY } from './test-app';

/** The servers the fault suites break; CI starts them (.ci/ensure-services). */
export const ADMIN_DB_URL =
  process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export const sleep = (ms: number) =>
  new Promise<void>((resolve) => setTimeout(resolve, ms));

/** `promise`'s value, or undefined when it takes longer than `ms` (no timer left behind). */
export async function within<T>(
  promise: Promise<T>,
  ms: number,
): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A database of its own on the PostgreSQL server, dropped by `drop()`. */
export async function createDatabase(
  label: string,
): Promise<{ name: string; url: string; drop: () => Promise<void> }> {
  const name = `clariops_${label}_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const admin = new Client({ connectionString: ADMIN_DB_URL });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(ADMIN_DB_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: async () => {
      const client = new Client({ connectionString: ADMIN_DB_URL });
      await client.connect();
      try {
        await client.query(
          `select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`,
          [name],
        );
        await client.query(`drop database if exists ${name}`);
      } finally {
        await client.end();
      }
    },
  };
}

/**
 * `src/main.ts` in a child process, like AppProcess, but without waiting for
 * readiness: for the cases where the service is expected not to start, or
 * where the test needs to see whether the process is still alive.
 */
export class ServiceProcess {
  output = '';
  readonly exited: Promise<number | null>;
  exitCode: number | null = null;
  private hasExited = false;

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.hasExited = true;
        this.exitCode = code;
        resolve(code ?? (signal ? -1 : null));
      }),
    );
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
  }

  static async launch(env: Record<string, string>): Promise<ServiceProcess> {
    const { child, url } = await spawnService(env);
    return new ServiceProcess(child, url);
  }

  /** Launches the service and waits until `/health/ready` answers 200. */
  static async start(env: Record<string, string>): Promise<ServiceProcess> {
    const service = await ServiceProcess.launch(env);
    await waitFor(
      async () => {
        if (!service.alive) {
          throw new Error(`exited early:\n${service.output.slice(-3000)}`);
        }
        return (await service.status('/health/ready', 2000)) === 200;
      },
      {
        timeoutMs: 60_000,
        intervalMs: 100,
        message: 'the service did not become ready',
      },
    );
    return service;
  }

  get alive(): boolean {
    return !this.hasExited;
  }

  /** Status of `GET path`, or null when nothing answers (or not within `timeoutMs`). */
  async status(path: string, timeoutMs = 5000): Promise<number | null> {
    const res = await fetch(`${this.url}${path}`, {
      signal: AbortSignal.timeout(timeoutMs),
    }).catch(() => null);
    return res?.status ?? null;
  }

  async kill(): Promise<void> {
    if (this.hasExited) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  async stop(graceMs = 15_000): Promise<number | null> {
    if (this.hasExited) return this.exitCode;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

/** The sum of a Prometheus counter's samples whose labels include `labels`. */
export async function metricSum(
  baseUrl: string,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const given = match[2] ?? '';
    const wanted = Object.entries(labels).every(([k, v]) =>
      given.includes(`${k}="${v}"`),
    );
    if (wanted) sum += Number(match[3]);
  }
  return sum;
}

export interface AdminMessage {
  id: number;
  direction: 'inbound' | 'outbound';
  author: string;
  kind: string;
  text: string | null;
  wamid: string | null;
  status: string;
  error: {
    code: number | string;
    title: string;
    message: string;
    details: string | null;
  } | null;
}

export interface AdminConversation {
  id: string;
  phoneNumber: string;
  state: string;
  messageCount: number;
  unansweredCount: number;
}

async function admin<T>(baseUrl: string, path: string): Promise<T> {
  const res = await fetch(`${baseUrl}${path}`, {
    headers: { authorization: `Bearer ${ADMIN_KEY}` },
  });
  const body = (await res.json()) as { success: boolean; data: T };
  if (res.status !== 200 || !body.success) {
    throw new Error(
      `GET ${path} answered ${res.status}: ${JSON.stringify(body)}`,
    );
  }
  return body.data;
}

/** Every conversation of a customer with all its messages, through the admin API. */
export async function customerHistory(
  baseUrl: string,
  waId: string,
): Promise<
  Array<{ conversation: AdminConversation; messages: AdminMessage[] }>
> {
  const page = await admin<{ items: AdminConversation[] }>(
    baseUrl,
    `/api/conversations?customer=${waId}&limit=100`,
  );
  const result = [];
  for (const conversation of page.items) {
    const messages = await admin<{ items: AdminMessage[] }>(
      baseUrl,
      `/api/conversations/${conversation.id}/messages?limit=500`,
    );
    result.push({ conversation, messages: messages.items });
  }
  return result;
}

/** Text sends (accepted or not) the Graph fake received for `waId`. */
export function sendRequestsTo(
  graph: FakeGraphApi,
  waId: string,
): GraphRequest[] {
  return graph.requests.filter((r) => {
    const body = r.body as { to?: unknown; type?: unknown } | null;
    return (
      typeof body === 'object' &&
      body !== null &&
      body.type === 'text' &&
      typeof body.to === 'string' &&
      body.to.replace(/\D/g, '') === waId
    );
  });
}

/** Bodies of the texts the Graph fake accepted for `waId`, in order. */
export function repliesTo(graph: FakeGraphApi, waId: string): string[] {
  return graph
    .sentMessages()
    .filter((m) => m.to.replace(/\D/g, '') === waId)
    .map((m) => m.body);
}

/** `to|body` of every accepted send that had been accepted before. */
export function duplicateSends(graph: FakeGraphApi): string[] {
  const seen = new Set<string>();
  const duplicates: string[] = [];
  for (const m of graph.sentMessages()) {
    const key = `${m.to}|${m.body}`;
    if (seen.has(key)) duplicates.push(key);
    seen.add(key);
  }
  return duplicates;
}

/** The customer texts of a chat request (role `user`), in order. */
export function userTexts(request: ChatRequest): string[] {
  return request.messages
    .filter((m) => m.role === 'user')
    .map((m) => (typeof m.content === 'string' ? m.content : ''));
}

/**
 * An LLM answer that quotes every customer text of its prompt, so a reply
 * shows which messages its turn had seen: `Re: <a> | <b>`.
 */
export function quoteEverything(request: ChatRequest): string {
  return `Re: ${userTexts(request).join(' | ')}`;
}

/** Distinct customer numbers (wa_id digits) for one suite run. */
export function customers(prefix: string, count: number): string[] {
  const base = `${prefix}${String(Date.now()).slice(-5)}`;
  return Array.from(
    { length: count },
    (_, i) => `${base}${String(i).padStart(3, '0')}`,
  );
}
