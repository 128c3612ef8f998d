import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeGraphApi } from '../fakes/fake-graph-api';
import { FakeOpenAi } from '../fakes/fake-openai';
import { waitFor } from '../fakes/wait-for';
import { AppProcess } from '../support/app-process';
import {
  customerHistory,
  customers,
  duplicateSends,
  quoteEverything,
  repliesTo,
  sleep,
  userTexts,
} from '../support/fault-kit';
import { fakeEnv } from '../support/test-app';
import { newWamid, postWebhook, textWebhook } from '../support/webhooks';

interface Delivery {
  customer: string;
  text: string;
  payload: unknown;
}

describe('kill -9 in the middle of a burst (PGlite)', () => {
  let graph: FakeGraphApi;
  let openai: FakeOpenAi;
  let dataDir: string;
  const processes: AppProcess[] = [];

  beforeAll(async () => {
    graph = await FakeGraphApi.start();
    openai = await FakeOpenAi.start();
    dataDir = mkdtempSync(join(tmpdir(), 'clariops-fault-burst-'));
  });
  afterAll(async () => {
    for (const p of processes) await p.kill().catch(() => undefined);
    await graph.close();
    await openai.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers every acknowledged message and loses none after a kill -9 mid-burst; any repeated reply is one the restarted process reported as interrupted mid-send', async () => {
    const env = {
      ...fakeEnv(graph, openai),
      LOG_LEVEL: 'warn',
      LLM_TIMEOUT_MS: '15000',
      DATA_DIR: dataDir,
      REPLY_DEBOUNCE_MS: '150',
      CUSTOMER_TURNS_PER_MINUTE: '100',
      ADMIN_THROTTLE_LIMIT: '100000',
    };
    // A slow LLM and a slow Graph API keep turns and sends in flight when the
    // process dies. Each reply quotes every customer text of its prompt.
    // oxlint-disable-next-line unicorn/no-thenable -- the fake's field name
    openai.setDefault({
      type: 'delay',
      ms: 100,
      then: { type: 'reply', content: quoteEverything },
    });
    graph.setLatencyMs(40);

    const first = await AppProcess.start(env);
    processes.push(first);

    // 50 customers, 2 messages each; every 5th customer's first message is
    // delivered a second time during the burst, as Meta does.
    const people = customers('4479', 50);
    const deliveries: Delivery[] = [];
    const redeliveries: Delivery[] = [];
    for (const round of [1, 2]) {
      people.forEach((customer, i) => {
        const text = `[${customer}#${round}]`;
        const delivery = {
          customer,
          text,
          payload: textWebhook(customer, text, { wamid: newWamid() }),
        };
        deliveries.push(delivery);
        if (round === 1 && i % 5 === 0) redeliveries.push(delivery);
      });
    }
    const burst = [...deliveries];
    // Re-deliveries go out in the middle of the burst, before and after the kill.
    redeliveries.forEach((d, i) => burst.splice(30 + i * 4, 0, d));
    expect(burst.length).toBe(110);

    const acked = new Map<string, Delivery>();
    const post = async (url: string, d: Delivery) => {
      const res = await postWebhook(url, d.payload).catch(() => null);
      if (res?.status === 200) acked.set(d.text, d);
      return res?.status ?? null;
    };
    // Warm-up: the first request of a fresh process is slow.
    expect(
      (await postWebhook(first.url, textWebhook('447000000001', 'hi'))).status,
    ).toBe(200);
    await waitFor(() => repliesTo(graph, '447000000001').length === 1, {
      timeoutMs: 20_000,
    });

    // Up to 6 webhooks in flight; the kill comes once 45 are acknowledged, so
    // turns are running, replies are being sent and webhooks are arriving.
    const inFlight = new Set<Promise<unknown>>();
    let killed: Promise<void> | null = null;
    for (const delivery of burst) {
      if (!killed && acked.size >= 45) killed = first.kill();
      while (inFlight.size >= 6) await Promise.race(inFlight);
      const request = post(first.url, delivery).finally(() =>
        inFlight.delete(request),
      );
      inFlight.add(request);
      await sleep(5);
    }
    await killed;
    await Promise.all(inFlight);
    expect(killed).not.toBeNull();
    const ackedByFirst = acked.size;
    // The kill landed mid-burst: some were acknowledged, later ones refused.
    expect(ackedByFirst).toBeGreaterThanOrEqual(45);
    expect(ackedByFirst).toBeLessThan(deliveries.length);
    const turnsBeforeKill = openai.requests.length;
    expect(turnsBeforeKill).toBeGreaterThan(0);

    const second = await AppProcess.start(env);
    processes.push(second);

    // Meta delivers again whatever was not acknowledged, and some that were.
    for (const delivery of deliveries) {
      if (!acked.has(delivery.text)) {
        expect(await post(second.url, delivery)).toBe(200);
      }
    }
    for (const delivery of redeliveries) {
      expect(await post(second.url, delivery)).toBe(200);
    }
    expect(acked.size).toBe(deliveries.length);

    // Every acknowledged text reached the LLM and a reply quoting it went to
    // its customer (so the reply was written after the message was stored).
    const prompted = () =>
      new Set(openai.requests.flatMap((r) => userTexts(r)));
    const unanswered = () =>
      [...acked.values()].filter(
        ({ customer, text }) =>
          !prompted().has(text) ||
          !repliesTo(graph, customer).some((body) => body.includes(text)),
      );
    await waitFor(() => unanswered().length === 0, {
      timeoutMs: 90_000,
      intervalMs: 250,
      message: 'not every acknowledged message was answered',
    }).catch((error: Error) => {
      throw new Error(
        `${error.message}: ${JSON.stringify(unanswered().map((d) => d.text))}\n${second.output.slice(-3000)}`,
      );
    });

    // Nothing acknowledged is missing from the restarted instance's database:
    // each text stored once (re-deliveries deduplicated), nothing left
    // unanswered, every reply sent.
    for (const customer of people) {
      const history = await customerHistory(second.url, customer);
      const inbound = history
        .flatMap((h) => h.messages)
        .filter((m) => m.direction === 'inbound')
        .map((m) => m.text ?? '')
        .sort((a, b) => a.localeCompare(b));
      const expected = [...acked.values()]
        .filter((d) => d.customer === customer)
        .map((d) => d.text)
        .sort((a, b) => a.localeCompare(b));
      expect([customer, inbound]).toEqual([customer, expected]);
      for (const { conversation, messages } of history) {
        expect(conversation.unansweredCount).toBe(0);
        const outbound = messages.filter((m) => m.direction === 'outbound');
        expect(outbound.length).toBeGreaterThan(0);
        for (const message of outbound) {
          expect([customer, message.status]).toEqual([customer, 'sent']);
        }
      }
    }

    // A reply goes out twice only when the kill landed while it was with the
    // Graph API (Meta has no idempotency key); the restarted process says so.
    await sleep(500);
    const duplicates = duplicateSends(graph);
    const interrupted = second.output
      .split('\n')
      .filter((line) => line.includes('interrupted mid-send')).length;
    console.log(
      `kill-during-burst: ${burst.length} deliveries in the burst (${ackedByFirst} acknowledged before the kill), ` +
        `${deliveries.length} messages acknowledged in all, ${openai.requests.length} LLM calls ` +
        `(${turnsBeforeKill} before the kill), ${graph.sentMessages().length} replies sent, ` +
        `${duplicates.length} duplicate sends, ${interrupted} 'interrupted mid-send' warnings`,
    );
    expect(duplicates.length).toBeLessThanOrEqual(interrupted);
    expect(openai.violations).toEqual([]);
    expect(graph.violations).toEqual([]);
    await second.stop();
  });
});
