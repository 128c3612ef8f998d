/**
 * The load generator: a process of its own (forked by run.ts, commands over
 * IPC), so that it never shares an event loop with the server it measures.
 * node:http with keep-alive agents; every request is a correctly signed
 * single-message text webhook with a unique wamid.
 *
 * - `closed`: N connections, each posting its next webhook as soon as the
 *   last was answered, for warm-up + duration; customers round-robin.
 *   Targets (several instances) are used round-robin per request.
 * - `open`: a fixed arrival rate (for the reply pipeline), one new customer
 *   per message; latency counts from the scheduled send time, so a slow
 *   server cannot hide its queueing (no coordinated omission).
 */
import { Agent, request } from 'node:http';
import { monoMs, summarise, type LatencySummary } from './lib/stats';
import { signature, textWebhookBody, waIdFor, wamidFor } from './lib/webhook';

export interface ClosedCommand {
  cmd: 'closed';
  targets: string[];
  connections: number;
  customers: number;
  /** Digits the customers' wa_ids start with. */
  customerPrefix: string;
  /** Unique per run: part of every wamid. */
  tag: string;
  warmupMs: number;
  durationMs: number;
}

export interface OpenCommand {
  cmd: 'open';
  targets: string[];
  connections: number;
  rate: number;
  durationMs: number;
  customerPrefix: string;
  tag: string;
}

export interface ClosedResult {
  type: 'closed-result';
  durationS: number;
  requests: number;
  requestsPerSecond: number;
  latencyMs: LatencySummary;
  statuses: Record<string, number>;
  errors: number;
  warmupRequests: number;
  /** 200s over the whole run, warm-up included: every one must be stored. */
  acked: number;
  /** Requests per target during the measured window. */
  perTarget: number[];
  /** The measured window on the monotonic clock (ms), to cut a CPU profile to it. */
  windowStartMs: number;
  windowEndMs: number;
}

export interface OpenRecord {
  waId: string;
  /** Scheduled send time, monotonic ms (see monoMs). */
  dueMs: number;
  ackMs: number;
  status: number;
}

export interface OpenResult {
  type: 'open-result';
  sent: number;
  records: OpenRecord[];
  startMs: number;
  endMs: number;
}

interface Target {
  hostname: string;
  port: number;
  agent: Agent;
}

function targetsOf(urls: string[], connections: number): Target[] {
  return urls.map((u) => {
    const url = new URL(u);
    return {
      hostname: url.hostname,
      port: Number(url.port),
      agent: new Agent({ keepAlive: true, maxSockets: connections }),
    };
  });
}

/** POSTs one webhook; resolves with the status, or -1 on a network error. */
function post(target: Target, body: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      {
        agent: target.agent,
        hostname: target.hostname,
        port: target.port,
        path: '/webhook',
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'x-hub-signature-256': signature(body),
        },
      },
      (res) => {
        res.on('error', () => resolve(-1));
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.resume();
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(-1));
    req.end(body);
  });
}

function webhook(
  tag: string,
  n: number,
  waId: string,
  customer: number,
): string {
  return textWebhookBody({
    waId,
    name: `Bench Customer ${customer}`,
    wamid: wamidFor(tag, n),
    timestamp: Math.floor(Date.now() / 1000),
    text: `Hello, is order ${n} on its way?`,
  });
}

async function runClosed(c: ClosedCommand): Promise<ClosedResult> {
  const targets = targetsOf(c.targets, c.connections);
  const start = monoMs();
  const measureFrom = start + c.warmupMs;
  const measureTo = measureFrom + c.durationMs;
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const perTarget = targets.map(() => 0);
  let seq = 0;
  let errors = 0;
  let warmupRequests = 0;
  let completedInWindow = 0;
  let acked = 0;

  const worker = async () => {
    while (monoMs() < measureTo) {
      const n = seq++;
      const customer = n % c.customers;
      const targetIndex = n % targets.length;
      const body = webhook(
        c.tag,
        n,
        waIdFor(c.customerPrefix, customer),
        customer,
      );
      const t0 = monoMs();
      const status = await post(targets[targetIndex], body);
      const t1 = monoMs();
      if (status === 200) acked++;
      if (t0 < measureFrom) {
        warmupRequests++;
        continue;
      }
      if (t1 > measureTo) continue;
      completedInWindow++;
      perTarget[targetIndex]++;
      latencies.push(t1 - t0);
      statuses[String(status)] = (statuses[String(status)] ?? 0) + 1;
      if (status !== 200) errors++;
    }
  };
  await Promise.all(Array.from({ length: c.connections }, worker));
  for (const t of targets) t.agent.destroy();
  const durationS = c.durationMs / 1000;
  return {
    type: 'closed-result',
    durationS,
    requests: completedInWindow,
    requestsPerSecond: Math.round(completedInWindow / durationS),
    latencyMs: summarise(latencies),
    statuses,
    errors,
    warmupRequests,
    acked,
    perTarget,
    windowStartMs: measureFrom,
    windowEndMs: measureTo,
  };
}

async function runOpen(c: OpenCommand): Promise<OpenResult> {
  const targets = targetsOf(c.targets, c.connections);
  const total = Math.round((c.rate * c.durationMs) / 1000);
  const interval = 1000 / c.rate;
  const records: OpenRecord[] = [];
  const inFlight: Promise<void>[] = [];
  const startMs = monoMs() + 20;
  let i = 0;
  await new Promise<void>((done) => {
    const tick = () => {
      const now = monoMs();
      while (i < total && startMs + i * interval <= now) {
        const n = i++;
        const waId = waIdFor(c.customerPrefix, n);
        const body = webhook(c.tag, n, waId, n);
        const dueMs = startMs + n * interval;
        inFlight.push(
          post(targets[n % targets.length], body).then((status) => {
            records[n] = { waId, dueMs, ackMs: monoMs(), status };
          }),
        );
      }
      if (i < total) setTimeout(tick, 1);
      else done();
    };
    tick();
  });
  const endMs = monoMs();
  await Promise.all(inFlight);
  for (const t of targets) t.agent.destroy();
  return { type: 'open-result', sent: total, records, startMs, endMs };
}

process.on(
  'message',
  (message: ClosedCommand | OpenCommand | { cmd: 'exit' }) => {
    const send = (m: object) => process.send?.(m);
    if (message.cmd === 'closed') {
      runClosed(message).then(send, (e: unknown) =>
        send({ type: 'error', error: String(e) }),
      );
    } else if (message.cmd === 'open') {
      runOpen(message).then(send, (e: unknown) =>
        send({ type: 'error', error: String(e) }),
      );
    } else if (message.cmd === 'exit') {
      process.exit(0);
    }
  },
);
process.on('disconnect', () => process.exit(0));
process.send?.({ type: 'ready' });
