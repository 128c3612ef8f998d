import { FakeGraphApi, type GraphFailure } from '../fakes/fake-graph-api';
import { FakeOpenAi } from '../fakes/fake-openai';
import { waitFor } from '../fakes/wait-for';
import {
  customerHistory,
  customers,
  metricSum,
  repliesTo,
  sendRequestsTo,
  sleep,
} from '../support/fault-kit';
import { fakeEnv, startTestApp, type TestApp } from '../support/test-app';
import { postWebhook, textWebhook } from '../support/webhooks';

const MAX_ATTEMPTS = 8;
/** Longer than the pending-work sweep's period (10 s) plus its grace. */
const PAST_A_SWEEP_MS = 11_000;

function textSends(graph: FakeGraphApi): number {
  return graph.requests.filter(
    (r) => (r.body as { type?: unknown } | null)?.type === 'text',
  ).length;
}

describe('Graph API faults', () => {
  let graph: FakeGraphApi;
  let openai: FakeOpenAi;
  let app: TestApp;

  beforeAll(async () => {
    graph = await FakeGraphApi.start();
    openai = await FakeOpenAi.start();
    app = await startTestApp({
      ...fakeEnv(graph, openai),
      WHATSAPP_SEND_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
      WHATSAPP_RETRY_BASE_MS: '20',
      WHATSAPP_HTTP_TIMEOUT_MS: '2000',
      MAX_MESSAGE_LENGTH: '200',
      ADMIN_THROTTLE_LIMIT: '100000',
    });
  });
  afterAll(async () => {
    await app.close();
    await graph.close();
    await openai.close();
  });
  beforeEach(() => graph.reset());
  afterEach(() => {
    expect(graph.violations).toEqual([]);
    expect(openai.violations).toEqual([]);
  });

  async function ask(people: string[], text: (i: number) => string) {
    const statuses = await Promise.all(
      people.map(
        async (c, i) =>
          (await postWebhook(app.url, textWebhook(c, text(i)))).status,
      ),
    );
    expect(statuses).toEqual(people.map(() => 200));
  }

  it('delivers every reply exactly once through a storm of 429/130429, 131056 and 5xx errors, with one extra request per failure', async () => {
    const people = customers('4481', 8);
    const sentBefore = await metricSum(app.url, 'clariops_messages_sent_total');
    const failedBefore = await metricSum(
      app.url,
      'clariops_send_failures_total',
    );
    // Fewer failures in all than attempts per message: whichever messages
    // they hit, every one gets through.
    const storm: GraphFailure[] = [
      { status: 429, code: 130429 },
      { status: 400, code: 131056 },
      { status: 503, code: 2 },
      { status: 500, code: 1 },
      { status: 500, code: 131000 },
      { status: 503, code: 131016 },
      { status: 429, code: 4 },
    ];
    expect(storm.length).toBe(MAX_ATTEMPTS - 1);
    for (const failure of storm) graph.failNext(1, failure);

    await ask(people, (i) => `storm ${i}`);
    await waitFor(() => people.every((c) => repliesTo(graph, c).length > 0), {
      timeoutMs: 30_000,
      message: 'not every reply got through the storm',
    });
    await sleep(500);
    for (const [i, customer] of people.entries()) {
      expect(repliesTo(graph, customer)).toEqual([`Echo: storm ${i}`]);
    }
    // Every failure cost one request, and nothing else was sent twice.
    expect(textSends(graph)).toBe(people.length + storm.length);
    expect(
      (await metricSum(app.url, 'clariops_messages_sent_total')) - sentBefore,
    ).toBe(people.length);
    expect(
      (await metricSum(app.url, 'clariops_send_failures_total')) - failedBefore,
    ).toBe(0);
  });

  it('retries sends whose connection is cut before an answer (network errors) and delivers each once', async () => {
    const people = customers('4482', 4);
    graph.failNext(MAX_ATTEMPTS - 1, { status: 0, code: 0 });
    await ask(people, (i) => `cut ${i}`);
    await waitFor(() => people.every((c) => repliesTo(graph, c).length > 0), {
      timeoutMs: 30_000,
      message: 'not every reply got through',
    });
    await sleep(500);
    for (const [i, customer] of people.entries()) {
      expect(repliesTo(graph, customer)).toEqual([`Echo: cut ${i}`]);
    }
    expect(textSends(graph)).toBe(people.length + MAX_ATTEMPTS - 1);
  });

  it('stops waiting for a Graph API that does not answer after WHATSAPP_HTTP_TIMEOUT_MS (2 s here), retries, and sends the reply once when it answers again', async () => {
    const [customer] = customers('4486', 1);
    graph.setLatencyMs(60_000);
    await ask([customer], () => 'anyone there?');
    await waitFor(() => sendRequestsTo(graph, customer).length >= 2, {
      timeoutMs: 10_000,
      message: 'the send was not retried after its request timed out',
    });
    expect(repliesTo(graph, customer)).toEqual([]);
    graph.setLatencyMs(0);
    await waitFor(() => repliesTo(graph, customer).length > 0, {
      timeoutMs: 15_000,
      message: 'the reply did not go out once the Graph API answered again',
    });
    await sleep(500);
    expect(repliesTo(graph, customer)).toEqual(['Echo: anyone there?']);
    const [first, second] = sendRequestsTo(graph, customer);
    // The second attempt came after the first one's timeout.
    expect(second.at - first.at).toBeGreaterThanOrEqual(1_900);
  });

  it('fails a reply on a permanent error (131047, 131026, 100, 190) after exactly one request, stores the code, sends none of its other parts, never retries it, and keeps answering other customers', async () => {
    const codes: Array<[number, number]> = [
      [131047, 400],
      [131026, 400],
      [100, 400],
      [190, 401],
    ];
    const doomed = customers('4483', codes.length);
    const healthy = customers('4484', 6);
    const failuresBefore = await Promise.all(
      codes.map(([code]) =>
        metricSum(app.url, 'clariops_send_failures_total', {
          code: String(code),
        }),
      ),
    );
    codes.forEach(([code, status], i) =>
      graph.failSendsTo(doomed[i], { status, code }),
    );
    // Long questions: the echo is split into three parts of ≤ 200 characters.
    const long = (i: number) =>
      `question ${i}: ${'lorem ipsum dolor sit amet '.repeat(18)}`;
    await Promise.all([
      ask(doomed, long),
      ask(healthy, (i) => `still there ${i}?`),
    ]);

    await waitFor(() => healthy.every((c) => repliesTo(graph, c).length > 0), {
      timeoutMs: 20_000,
      message: 'healthy customers were not answered',
    });
    for (const [i, customer] of healthy.entries()) {
      expect(repliesTo(graph, customer)).toEqual([`Echo: still there ${i}?`]);
    }

    const failedReplies = async (customer: string) => {
      const history = await customerHistory(app.url, customer);
      return history
        .flatMap((h) => h.messages)
        .filter((m) => m.direction === 'outbound');
    };
    await waitFor(
      async () =>
        (await Promise.all(doomed.map(failedReplies))).every(
          (outbound) =>
            outbound.length > 0 && outbound.every((m) => m.status === 'failed'),
        ),
      { timeoutMs: 20_000, message: 'the doomed replies were not failed' },
    );
    for (const [i, customer] of doomed.entries()) {
      const [code] = codes[i];
      const outbound = await failedReplies(customer);
      expect(outbound.length).toBe(3);
      for (const message of outbound) {
        expect([customer, message.status, message.error?.code]).toEqual([
          customer,
          'failed',
          code,
        ]);
        expect(message.wamid).toBeNull();
      }
      expect(sendRequestsTo(graph, customer)).toHaveLength(1);
      expect(repliesTo(graph, customer)).toEqual([]);
      const [conversation] = await customerHistory(app.url, customer);
      expect(conversation.conversation.unansweredCount).toBe(0);
    }
    // One failure counted per message (the first part and the two not sent).
    const failuresAfter = await Promise.all(
      codes.map(([code]) =>
        metricSum(app.url, 'clariops_send_failures_total', {
          code: String(code),
        }),
      ),
    );
    expect(failuresAfter.map((n, i) => n - failuresBefore[i])).toEqual(
      codes.map(() => 3),
    );

    // No retry storm: the pending-work sweep leaves failed messages alone.
    await sleep(PAST_A_SWEEP_MS);
    for (const customer of doomed) {
      expect(sendRequestsTo(graph, customer)).toHaveLength(1);
    }
  });

  it('gives up on a retryable error that never clears after WHATSAPP_SEND_MAX_ATTEMPTS requests and stores the code, without retrying later', async () => {
    const [customer] = customers('4485', 1);
    graph.failSendsTo(customer, { status: 429, code: 130429 });
    await ask([customer], () => 'are you there?');
    await waitFor(
      async () => {
        const [history] = await customerHistory(app.url, customer);
        return history?.messages.some(
          (m) => m.direction === 'outbound' && m.status === 'failed',
        );
      },
      { timeoutMs: 20_000, message: 'the reply was not failed' },
    );
    const [history] = await customerHistory(app.url, customer);
    const outbound = history.messages.filter((m) => m.direction === 'outbound');
    expect(outbound.map((m) => [m.status, m.error?.code])).toEqual([
      ['failed', 130429],
    ]);
    expect(sendRequestsTo(graph, customer)).toHaveLength(MAX_ATTEMPTS);
    await sleep(PAST_A_SWEEP_MS);
    expect(sendRequestsTo(graph, customer)).toHaveLength(MAX_ATTEMPTS);
  });
});
