import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { FakeGraphApi } from '../fakes/fake-graph-api';
import { type ChatRequest, FakeOpenAi } from '../fakes/fake-openai';
import { waitFor } from '../fakes/wait-for';
import {
  createDatabase,
  customerHistory,
  customers,
  duplicateSends,
  REDIS_URL,
  repliesTo,
  ServiceProcess,
  sleep,
  within,
} from '../support/fault-kit';
import { TcpProxy } from '../support/tcp-proxy';
import { ADMIN_KEY, fakeEnv } from '../support/test-app';
import { newWamid, postWebhook, textWebhook } from '../support/webhooks';

const echo = (r: ChatRequest) => `Echo: ${String(r.messages.at(-1)?.content)}`;

describe('Redis faults (scale-out mode)', () => {
  let graph: FakeGraphApi;
  let openai: FakeOpenAi;
  let database: { url: string; drop: () => Promise<void> };
  let proxy: TcpProxy;
  let redis: Redis;
  let service: ServiceProcess;
  const prefix = `clariops-faults-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    graph = await FakeGraphApi.start();
    openai = await FakeOpenAi.start();
    database = await createDatabase('faults_redis');
    const target = new URL(REDIS_URL);
    proxy = await TcpProxy.start({
      targetHost: target.hostname,
      targetPort: Number(target.port || 6379),
    });
    // Straight to Redis, not through the proxy: to look at and wipe the keys.
    redis = new Redis(REDIS_URL, { lazyConnect: true });
    await redis.connect();
    service = await ServiceProcess.start({
      ...fakeEnv(graph, openai),
      LOG_LEVEL: 'warn',
      LLM_TIMEOUT_MS: '15000',
      DATABASE_URL: database.url,
      DATABASE_POOL_SIZE: '5',
      REDIS_URL: proxy.rewrite(REDIS_URL),
      REDIS_KEY_PREFIX: prefix,
      REPLY_DEBOUNCE_MS: '100',
      CUSTOMER_TURNS_PER_MINUTE: '100',
      TURN_CONCURRENCY: '2',
    });
  });
  afterAll(async () => {
    await service?.kill();
    await proxy.close();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await graph.close();
    await openai.close();
    await database.drop();
  });
  afterEach(async () => {
    await proxy.restore();
    expect(openai.violations).toEqual([]);
    expect(graph.violations).toEqual([]);
  });

  /** Waits until each customer has the echo of its text, then checks it is the only reply. */
  async function expectAnsweredOnce(texts: Map<string, string>) {
    const missing = () =>
      [...texts].filter(
        ([c, text]) => !repliesTo(graph, c).includes(`Echo: ${text}`),
      );
    await waitFor(() => missing().length === 0, {
      timeoutMs: 60_000,
      intervalMs: 250,
      message: 'not every stored message was answered',
    }).catch((error: Error) => {
      throw new Error(
        `${error.message}: ${JSON.stringify(missing())}\n${service.output.slice(-2000)}`,
      );
    });
    await sleep(1500);
    for (const [c, text] of texts) {
      expect([c, repliesTo(graph, c)]).toEqual([c, [`Echo: ${text}`]]);
    }
    expect(duplicateSends(graph)).toEqual([]);
  }

  function questions(list: string[], label: string) {
    return new Map(list.map((c) => [c, `${label} from ${c}`]));
  }

  it('keeps acknowledging webhooks (stored in PostgreSQL) while Redis refuses connections, reports not ready, keeps the admin API answering, logs the outage once, stays up, and answers every stored message exactly once when Redis is back', async () => {
    // oxlint-disable-next-line unicorn/no-thenable -- the fake's field name
    openai.setDefault({
      type: 'delay',
      ms: 1000,
      then: { type: 'reply', content: echo },
    });
    const before = questions(customers('4461', 2), 'before');
    const running = questions(customers('4462', 2), 'running');
    const during = questions(customers('4463', 4), 'during');

    for (const [c, text] of before) {
      expect(
        (await postWebhook(service.url, textWebhook(c, text))).status,
      ).toBe(200);
    }
    await waitFor(
      () => [...before.keys()].every((c) => repliesTo(graph, c).length > 0),
      {
        timeoutMs: 20_000,
      },
    );
    // Turns running (waiting on the LLM) when Redis goes away.
    const calls = openai.requests.length;
    for (const [c, text] of running) {
      expect(
        (await postWebhook(service.url, textWebhook(c, text))).status,
      ).toBe(200);
    }
    await waitFor(() => openai.requests.length >= calls + running.size, {
      timeoutMs: 10_000,
    });
    const outageStart = service.output.length;
    await proxy.refuse();

    const ackMs: number[] = [];
    for (const [c, text] of during) {
      const startedAt = Date.now();
      const res = await postWebhook(service.url, textWebhook(c, text));
      ackMs.push(Date.now() - startedAt);
      expect([c, res.status]).toEqual([c, 200]);
    }
    expect(await service.status('/health/ready')).toBe(503);
    expect(await service.status('/health/live')).toBe(200);
    const adminStatus = (
      await fetch(`${service.url}/api/conversations`, {
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
        signal: AbortSignal.timeout(10_000),
      })
    ).status;
    // Its rate limit lives in Redis; meanwhile each instance counts alone.
    expect(adminStatus).toBe(200);
    // Stored before acknowledged, and the admin API says so meanwhile.
    for (const [c, text] of during) {
      const inbound = (await customerHistory(service.url, c))
        .flatMap((h) => h.messages)
        .filter((m) => m.direction === 'inbound')
        .map((m) => m.text);
      expect([c, inbound]).toEqual([c, [text]]);
    }
    await sleep(3000);
    expect(service.alive).toBe(true);
    // Logged once each, not at every reconnection attempt or request.
    const outageLog = service.output.slice(outageStart);
    const times = (text: string) => outageLog.split(text).length - 1;
    expect(times('Redis connection lost')).toBe(1);
    expect(times('admin rate-limit storage failed')).toBe(1);
    // (A BullMQ command in flight when the connection drops may fail once.)
    expect(
      times('turn worker error') + times('turn queue error'),
    ).toBeLessThanOrEqual(1);
    console.log(
      `Redis refusing connections: webhooks acknowledged in ${ackMs.join(', ')} ms; admin API answered ${adminStatus}`,
    );

    await proxy.restore();
    await waitFor(async () => (await service.status('/health/ready')) === 200, {
      timeoutMs: 30_000,
      message: '/health/ready did not recover',
    });
    await expectAnsweredOnce(new Map([...before, ...running, ...during]));
    for (const [c, text] of during) {
      const history = await customerHistory(service.url, c);
      expect(
        history
          .flatMap((h) => h.messages)
          .filter((m) => m.direction === 'inbound')
          .map((m) => m.text),
      ).toEqual([text]);
    }
    expect(service.alive).toBe(true);
  });

  it('answers every stored message when Redis comes back empty (restarted without persistence): the pending-work sweep rebuilds the lost queue from PostgreSQL', async () => {
    // Two workers and a slow LLM: most turns are still waiting in Redis.
    // oxlint-disable-next-line unicorn/no-thenable -- the fake's field name
    openai.setDefault({
      type: 'delay',
      ms: 1500,
      then: { type: 'reply', content: echo },
    });
    const queued = questions(customers('4464', 8), 'queued');
    for (const [c, text] of queued) {
      expect(
        (await postWebhook(service.url, textWebhook(c, text))).status,
      ).toBe(200);
    }
    await sleep(400);
    const waiting = await redis
      .zcard(`${prefix}:turns:delayed`)
      .then(
        async (delayed) => delayed + (await redis.llen(`${prefix}:turns:wait`)),
      );
    expect(waiting).toBeGreaterThan(0);

    await proxy.refuse();
    const keys = await redis.keys(`${prefix}*`);
    expect(keys.length).toBeGreaterThan(0);
    await redis.del(...keys);
    await sleep(1000);
    await proxy.restore();

    await expectAnsweredOnce(queued);
    console.log(
      `Redis came back empty: ${waiting} queued turns lost with it, all ${queued.size} messages answered from PostgreSQL`,
    );
    expect(service.alive).toBe(true);
  });

  it('never loses a webhook while Redis stops answering (network partition): not ready meanwhile, the admin API still answers, and every message is answered once when the network heals', async () => {
    openai.setDefault({ type: 'reply', content: echo });
    const partitioned = questions(customers('4465', 3), 'partitioned');
    proxy.blackhole();
    const startedAt = Date.now();
    const posts = [...partitioned].map(([c, text]) =>
      postWebhook(
        service.url,
        textWebhook(c, text, { wamid: newWamid() }),
      ).then((res) => ({ status: res.status, ms: Date.now() - startedAt })),
    );
    const early = await within(Promise.all(posts), 5000);
    expect(await service.status('/health/ready', 8000)).toBe(503);
    expect(await service.status('/health/live')).toBe(200);
    // The admin API answers too: its rate limit waits on Redis for 1 s at most.
    const adminStatus = await fetch(`${service.url}/api/conversations`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
      signal: AbortSignal.timeout(5000),
    }).then(
      (res) => res.status,
      () => null,
    );
    expect(adminStatus).toBe(200);
    expect(service.alive).toBe(true);

    proxy.heal();
    const acks = await Promise.all(posts);
    console.log(
      `Redis not answering: webhooks ${early ? '' : 'still unanswered after 5 s, '}acknowledged at ${acks.map((a) => a.ms).join(', ')} ms (the network healed at ${Date.now() - startedAt} ms)`,
    );
    expect(acks.map((a) => a.status)).toEqual(acks.map(() => 200));
    await waitFor(async () => (await service.status('/health/ready')) === 200, {
      timeoutMs: 30_000,
    });
    await expectAnsweredOnce(partitioned);
  });

  // Scheduling is off the request path (IngestService.write does not wait
  // for the queue).
  it('acknowledges webhooks within 2 s while Redis refuses connections or stops answering', async () => {
    const people = customers('4466', 4);
    await proxy.refuse();
    for (const c of people.slice(0, 3)) {
      const res = await within(
        postWebhook(service.url, textWebhook(c, 'quick?')),
        2000,
      );
      expect(res?.status).toBe(200);
    }
    await proxy.restore();
    proxy.blackhole();
    const res = await within(
      postWebhook(service.url, textWebhook(people[3], 'quick?')),
      2000,
    );
    proxy.heal();
    expect(res?.status).toBe(200);
  });
});
