import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeGraphApi } from './fakes/fake-graph-api';
import { ChatRequest, FakeOpenAi } from './fakes/fake-openai';
import { waitFor } from './fakes/wait-for';
import { AppProcess } from './support/app-process';
import { fakeEnv } from './support/test-app';
import { postWebhook, textWebhook } from './support/webhooks';

jest.setTimeout(180_000);

describe('crash recovery', () => {
  let graph: FakeGraphApi;
  let openai: FakeOpenAi;
  let dataDir: string;
  const processes: AppProcess[] = [];

  beforeAll(async () => {
    graph = await FakeGraphApi.start();
    openai = await FakeOpenAi.start();
    dataDir = mkdtempSync(join(tmpdir(), 'clariops-crash-'));
  });
  afterAll(async () => {
    for (const p of processes) await p.kill().catch(() => undefined);
    await graph.close();
    await openai.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers every acknowledged message once after a kill -9 in the middle of a burst', async () => {
    const env = {
      ...fakeEnv(graph, openai),
      LOG_LEVEL: 'warn',
      // Generous: the fakes share a loaded machine with the test runner.
      LLM_TIMEOUT_MS: '15000',
      DATA_DIR: dataDir,
      REPLY_DEBOUNCE_MS: '150',
      CUSTOMER_TURNS_PER_MINUTE: '100',
    };
    // A slow LLM keeps turns in flight when the process dies.
    const echo = {
      type: 'reply' as const,
      content: (r: ChatRequest) =>
        `Echo: ${String(r.messages.at(-1)?.content)}`,
    };
    // oxlint-disable-next-line unicorn/no-thenable -- the fake's field name
    openai.setDefault({ type: 'delay', ms: 120, then: echo });
    const first = await AppProcess.start(env);
    processes.push(first);

    const acked: Array<{ customer: string; text: string }> = [];
    const burst = Array.from({ length: 60 }, (_, i) => ({
      customer: `4470000${String(i).padStart(5, '0')}`,
      text: `message ${i}`,
    }));
    let sent = 0;
    const send = async ({
      customer,
      text,
    }: {
      customer: string;
      text: string;
    }) => {
      const res = await postWebhook(
        first.url,
        textWebhook(customer, text),
      ).catch(() => null);
      if (res?.status === 200) acked.push({ customer, text });
    };
    const answered = ({ customer, text }: { customer: string; text: string }) =>
      graph
        .sentMessages()
        .some((m) => m.to === `+${customer}` && m.body === `Echo: ${text}`);
    const inFlight: Promise<void>[] = [];
    let atKill = { acked: 0, answered: 0 };
    for (const item of burst) {
      inFlight.push(send(item));
      sent += 1;
      if (sent === 40) {
        // The kill comes once replies are going out while acknowledged
        // messages still wait for theirs.
        await waitFor(() => {
          const done = acked.filter(answered).length;
          return done > 0 && acked.length - done > 0;
        });
        await first.kill();
        atKill = {
          acked: acked.length,
          answered: acked.filter(answered).length,
        };
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.all(inFlight);
    // The kill landed mid-work: some messages answered, some only stored.
    expect(atKill.answered).toBeGreaterThan(0);
    expect(atKill.acked - atKill.answered).toBeGreaterThan(0);

    const second = await AppProcess.start(env);
    processes.push(second);

    // Every acknowledged message (one per customer) gets its echo.
    const repliesTo = (customer: string) =>
      graph
        .sentMessages()
        .filter((m) => m.to === `+${customer}`)
        .map((m) => m.body);
    const unanswered = () =>
      acked.filter(
        ({ customer, text }) => !repliesTo(customer).includes(`Echo: ${text}`),
      );
    await waitFor(() => unanswered().length === 0, {
      timeoutMs: 60_000,
      message: 'not every acknowledged message was answered',
    }).catch((error: Error) => {
      throw new Error(
        `${error.message}: ${JSON.stringify(unanswered())}\n${second.output.slice(-3000)}`,
      );
    });
    const health = await fetch(`${second.url}/api/health`);
    expect(health.status).toBe(200);

    // A reply goes out twice only when the kill landed while it was with the
    // Graph API (Meta has no idempotency key); the restarted process says so.
    const bodies = graph.sentMessages().map((m) => `${m.to}|${m.body}`);
    const duplicates = bodies.filter((b, i) => bodies.indexOf(b) !== i);
    const resent = second.output
      .split('\n')
      .filter((l) => l.includes('interrupted mid-send')).length;
    expect(duplicates.length).toBeLessThanOrEqual(resent);
    await second.stop();
  });
});
