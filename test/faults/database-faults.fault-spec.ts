import { FakeGraphApi } from '../fakes/fake-graph-api';
import { FakeOpenAi } from '../fakes/fake-openai';
import { waitFor } from '../fakes/wait-for';
import {
  createDatabase,
  customerHistory,
  customers,
  duplicateSends,
  repliesTo,
  ServiceProcess,
  sleep,
  within,
} from '../support/fault-kit';
import { TcpProxy } from '../support/tcp-proxy';
import { APP_SECRET, fakeEnv } from '../support/test-app';
import {
  metaJson,
  newWamid,
  postWebhook,
  textWebhook,
} from '../support/webhooks';
import {
  CONNECT_TIMEOUT_MS,
  QUERY_TIMEOUT_MS,
} from '../../src/database/open-database';
import { signPayload } from '../../src/webhook/webhook-signature';

/** POST /webhook signed like Meta, giving up after `timeoutMs`: the status, or null. */
async function postWithin(
  url: string,
  payload: unknown,
  timeoutMs: number,
): Promise<number | null> {
  const body = metaJson(payload);
  const res = await fetch(`${url}/webhook`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-hub-signature-256': signPayload(body, APP_SECRET),
    },
    body,
    signal: AbortSignal.timeout(timeoutMs),
  }).catch(() => null);
  return res?.status ?? null;
}

describe('PostgreSQL faults', () => {
  let graph: FakeGraphApi;
  let openai: FakeOpenAi;
  let database: { url: string; drop: () => Promise<void> };
  let proxy: TcpProxy;
  let env: Record<string, string>;
  const services: ServiceProcess[] = [];

  beforeAll(async () => {
    graph = await FakeGraphApi.start();
    openai = await FakeOpenAi.start();
    database = await createDatabase('faults_db');
    proxy = await TcpProxy.start({ targetPort: 5432 });
    env = {
      ...fakeEnv(graph, openai),
      LOG_LEVEL: 'warn',
      LLM_TIMEOUT_MS: '15000',
      DATABASE_URL: proxy.rewrite(database.url),
      DATABASE_POOL_SIZE: '5',
      REPLY_DEBOUNCE_MS: '100',
      CUSTOMER_TURNS_PER_MINUTE: '100',
      ADMIN_THROTTLE_LIMIT: '100000',
    };
  });
  afterAll(async () => {
    for (const s of services) await s.kill().catch(() => undefined);
    await proxy.close();
    await graph.close();
    await openai.close();
    await database.drop();
  });

  describe('at start', () => {
    afterEach(async () => {
      for (const s of services) await s.kill();
      await proxy.restore();
    });

    it('exits with status 1 and names the connection error when PostgreSQL refuses connections at start', async () => {
      await proxy.refuse();
      const service = await ServiceProcess.launch(env);
      services.push(service);
      const code = await within(service.exited, 60_000);
      expect(code).toBe(1);
      expect(service.output).toContain('ClariOps failed to start');
      expect(service.output).toMatch(/ECONNREFUSED 127\.0\.0\.1:\d+/);
    });

    it('exits with status 1, naming the connection timeout, when PostgreSQL accepts connections but does not answer', async () => {
      proxy.blackhole();
      const service = await ServiceProcess.launch(env);
      services.push(service);
      const startedAt = Date.now();
      // Never listening meanwhile: nothing is served without a database.
      expect(await service.status('/health/live', 1000)).toBeNull();
      expect(await within(service.exited, 30_000)).toBe(1);
      const ms = Date.now() - startedAt;
      expect(service.output).toContain('ClariOps failed to start');
      expect(service.output).toContain('DATABASE_URL');
      expect(service.output).toMatch(/timeout/i);
      console.log(
        `PostgreSQL not answering at start: exited 1 after ${ms} ms (connection timeout ${CONNECT_TIMEOUT_MS} ms)`,
      );
    });
  });

  describe('while running', () => {
    let service: ServiceProcess;

    beforeAll(async () => {
      service = await ServiceProcess.start(env);
      services.push(service);
    });
    afterEach(async () => {
      await proxy.restore();
    });

    it('answers 503 to webhooks and to /health/ready while PostgreSQL is lost, stays up, and once it is back answers every message once: those acknowledged before, those whose turn was cut, and those Meta delivers again', async () => {
      // oxlint-disable-next-line unicorn/no-thenable -- the fake's field name
      openai.setDefault({
        type: 'delay',
        ms: 1500,
        then: {
          type: 'reply',
          content: (r) => `Echo: ${String(r.messages.at(-1)?.content)}`,
        },
      });
      const answered = customers('4491', 3);
      const cut = customers('4492', 3);
      const outage = customers('4493', 4);
      const texts = new Map<string, string>();
      const payloads = new Map<string, unknown>();
      for (const c of [...answered, ...cut, ...outage]) {
        texts.set(c, `question from ${c}`);
        payloads.set(
          c,
          textWebhook(c, `question from ${c}`, { wamid: newWamid() }),
        );
      }

      // Before the outage: answered normally.
      for (const c of answered) {
        expect((await postWebhook(service.url, payloads.get(c))).status).toBe(
          200,
        );
      }
      await waitFor(
        () => answered.every((c) => repliesTo(graph, c).length === 1),
        {
          timeoutMs: 20_000,
        },
      );

      // Acknowledged, and their turns are waiting on the LLM when the
      // database goes away: recording the reply fails.
      const llmCalls = openai.requests.length;
      for (const c of cut) {
        expect((await postWebhook(service.url, payloads.get(c))).status).toBe(
          200,
        );
      }
      await waitFor(() => openai.requests.length >= llmCalls + cut.length, {
        timeoutMs: 10_000,
      });
      // Right away: the first webhooks may start their transactions on
      // pooled connections that are already dead.
      await proxy.refuse();

      // During the outage: nothing is acknowledged that was not stored.
      for (const c of [...outage, answered[0]]) {
        const status = await postWithin(service.url, payloads.get(c), 10_000);
        expect([c, status]).toEqual([c, 503]);
      }
      expect(await service.status('/health/ready')).toBe(503);
      expect(await service.status('/health/live')).toBe(200);
      const health = await (await fetch(`${service.url}/api/health`)).json();
      expect(health).toMatchObject({
        success: true,
        data: {
          status: 'degraded',
          services: { database: { status: 'down' } },
        },
      });
      // Long enough for the cut turns to fail and be retried at least once.
      await sleep(3000);
      expect(service.alive).toBe(true);
      expect(await service.status('/health/live')).toBe(200);

      // PostgreSQL is back.
      await proxy.restore();
      await waitFor(
        async () => (await service.status('/health/ready')) === 200,
        {
          timeoutMs: 20_000,
          message: '/health/ready did not recover',
        },
      );
      // Meta delivers again what got 503, and once more what was answered.
      for (const c of [...outage, answered[0]]) {
        expect((await postWebhook(service.url, payloads.get(c))).status).toBe(
          200,
        );
      }

      const everyone = [...answered, ...cut, ...outage];
      const done = () =>
        everyone.every((c) =>
          repliesTo(graph, c).includes(`Echo: ${texts.get(c)}`),
        );
      await waitFor(done, {
        timeoutMs: 60_000,
        intervalMs: 250,
        message: 'not every message was answered after the database came back',
      }).catch((error: Error) => {
        throw new Error(
          `${error.message}: ${JSON.stringify(everyone.map((c) => [c, repliesTo(graph, c)]))}\n${service.output.slice(-3000)}`,
        );
      });
      await sleep(1500);
      for (const c of everyone) {
        expect([c, repliesTo(graph, c)]).toEqual([
          c,
          [`Echo: ${texts.get(c)}`],
        ]);
        const history = await customerHistory(service.url, c);
        const inbound = history
          .flatMap((h) => h.messages)
          .filter((m) => m.direction === 'inbound');
        expect(inbound.map((m) => m.text)).toEqual([texts.get(c)]);
      }
      expect(duplicateSends(graph)).toEqual([]);
      expect(service.alive).toBe(true);
      expect(openai.violations).toEqual([]);
      expect(graph.violations).toEqual([]);
    });

    it('never acknowledges a webhook while PostgreSQL stops answering (network partition), reports not ready, stays up, and once the network heals answers the message once, re-delivery included', async () => {
      const [warm, customer] = customers('4494', 2);
      // A pooled connection is open, so the webhook's transaction starts on it.
      expect(
        (await postWebhook(service.url, textWebhook(warm, 'warm-up'))).status,
      ).toBe(200);
      await waitFor(() => repliesTo(graph, warm).length > 0, {
        timeoutMs: 20_000,
      });
      const payload = textWebhook(customer, 'anyone there?', {
        wamid: newWamid(),
      });
      proxy.blackhole();
      const startedAt = Date.now();
      const [held, ready, live] = await Promise.all([
        postWithin(service.url, payload, QUERY_TIMEOUT_MS + 8000),
        service.status('/health/ready', 8000),
        service.status('/health/live', 8000),
      ]);
      // The query timeout ends the wait: 503, so that Meta delivers again.
      expect(held).toBe(503);
      expect(ready).toBe(503);
      expect(live).toBe(200);
      console.log(
        `PostgreSQL not answering mid-run: POST /webhook answered ${held} after ${Date.now() - startedAt} ms (query timeout ${QUERY_TIMEOUT_MS} ms), /health/ready 503`,
      );

      // The network heals: the held transaction goes on, and Meta, which got
      // no 200, delivers the webhook again.
      proxy.heal();
      await waitFor(
        async () => (await service.status('/health/ready')) === 200,
        { timeoutMs: 20_000, message: '/health/ready did not recover' },
      ).catch((error: Error) => {
        throw new Error(
          `${error.message} (alive: ${service.alive})\n${service.output.slice(-1500)}`,
        );
      });
      expect((await postWebhook(service.url, payload)).status).toBe(200);
      await waitFor(() => repliesTo(graph, customer).length > 0, {
        timeoutMs: 30_000,
        message: 'the message was not answered',
      });
      await sleep(1500);
      expect(repliesTo(graph, customer)).toEqual(['Echo: anyone there?']);
      const [history] = await customerHistory(service.url, customer);
      expect(
        history.messages
          .filter((m) => m.direction === 'inbound')
          .map((m) => m.text),
      ).toEqual(['anyone there?']);
      expect(service.alive).toBe(true);
    });
  });

  describe('connections dropped while transactions run', () => {
    let service: ServiceProcess;

    beforeAll(async () => {
      // A claim whose answer was lost with the connection is taken back
      // after the stale-send window: keep that window short (2 × 2 s).
      service = await ServiceProcess.start({
        ...env,
        WHATSAPP_HTTP_TIMEOUT_MS: '2000',
        WHATSAPP_SEND_MAX_ATTEMPTS: '2',
      });
      services.push(service);
    });

    // Every pool client has an 'error' listener (src/database/open-database.ts).
    it('stays up and answers every acknowledged message once when PostgreSQL drops every connection in the middle of a stream of webhooks', async () => {
      openai.setDefault({
        type: 'reply',
        content: (r) => `Echo: ${String(r.messages.at(-1)?.content)}`,
      });
      const acked = new Map<string, string>();
      let stop = false;
      const stream = async (lane: number) => {
        for (let i = 0; !stop && i < 200; i++) {
          const customer = `44950${lane}${String(i).padStart(5, '0')}`;
          const text = `stream ${lane}/${i}`;
          const res = await postWithin(
            service.url,
            textWebhook(customer, text),
            5000,
          );
          if (res === 200) acked.set(customer, text);
        }
      };
      const lanes = [1, 2, 3, 4, 5, 6].map(stream);
      for (let drop = 0; drop < 8; drop++) {
        await sleep(300);
        proxy.drop();
      }
      await sleep(500);
      stop = true;
      await Promise.all(lanes);
      expect(service.alive).toBe(true);
      await waitFor(
        () =>
          [...acked].every(([c, text]) =>
            repliesTo(graph, c).includes(`Echo: ${text}`),
          ),
        { timeoutMs: 60_000, intervalMs: 250 },
      );
      // A reply is repeated only where a send was cut off before its
      // wamid was stored, and the service says so.
      const interrupted = service.output
        .split('\n')
        .filter((line) => line.includes('interrupted mid-send')).length;
      expect(duplicateSends(graph).length).toBeLessThanOrEqual(interrupted);
    });
  });
});
