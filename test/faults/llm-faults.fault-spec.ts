import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeGraphApi } from '../fakes/fake-graph-api';
import { type ChatBehaviour, FakeOpenAi } from '../fakes/fake-openai';
import { waitFor } from '../fakes/wait-for';
import {
  customers,
  metricSum,
  repliesTo,
  sendRequestsTo,
  sleep,
} from '../support/fault-kit';
import { fakeEnv, startTestApp, type TestApp } from '../support/test-app';
import { postWebhook, textWebhook } from '../support/webhooks';

const FALLBACK =
  'Sorry, our assistant is unavailable right now. We will get back to you shortly.';
const FAILURES = 'clariops_llm_failures_total';

/** Waits until `customer` has `count` replies, and returns them. */
async function repliesOf(
  graph: FakeGraphApi,
  customer: string,
  count: number,
): Promise<string[]> {
  await waitFor(() => repliesTo(graph, customer).length >= count, {
    timeoutMs: 20_000,
    message: `${customer} did not get ${count} replies (got ${JSON.stringify(repliesTo(graph, customer))})`,
  });
  return repliesTo(graph, customer);
}

async function send(app: TestApp, customer: string, text: string) {
  const res = await postWebhook(app.url, textWebhook(customer, text));
  expect(res.status).toBe(200);
}

async function stillServing(app: TestApp) {
  const res = await fetch(`${app.url}/api/health`);
  expect(res.status).toBe(200);
}

describe('LLM faults', () => {
  let graph: FakeGraphApi;
  let openai: FakeOpenAi;
  let app: TestApp;

  beforeAll(async () => {
    graph = await FakeGraphApi.start();
    openai = await FakeOpenAi.start();
    app = await startTestApp({
      ...fakeEnv(graph, openai),
      FALLBACK_MESSAGE: FALLBACK,
      LLM_TIMEOUT_MS: '1000',
      // One SDK retry: a failing LLM is called twice per turn, never more.
      LLM_MAX_RETRIES: '1',
    });
  });
  afterAll(async () => {
    await app.close();
    await graph.close();
    await openai.close();
  });
  afterEach(() => {
    expect(openai.violations).toEqual([]);
    expect(graph.violations).toEqual([]);
    openai.reset();
  });

  it('sends FALLBACK_MESSAGE to every customer during an LLM outage (500, 503, 429), counts each failed turn in clariops_llm_failures_total, and resumes real replies when the outage ends', async () => {
    const people = customers('4471', 10);
    const before = await metricSum(app.url, FAILURES);
    const fast = { 'retry-after-ms': '5' };
    const outage: ChatBehaviour[] = [
      { type: 'error', status: 500, headers: fast },
      { type: 'error', status: 503, headers: fast },
      { type: 'error', status: 429, headers: fast },
    ];
    openai.setDefault(outage[0]);
    for (let i = 0; i < people.length * 2; i++) openai.enqueue(outage[i % 3]);

    await Promise.all(people.map((c, i) => send(app, c, `outage ${i}`)));
    for (const customer of people) {
      expect(await repliesOf(graph, customer, 1)).toEqual([FALLBACK]);
    }
    // Each turn: the call and one SDK retry, then the fallback.
    expect(openai.requests.length).toBe(people.length * 2);
    expect((await metricSum(app.url, FAILURES)) - before).toBe(people.length);
    expect(
      await metricSum(app.url, FAILURES, { reason: 'http-error' }),
    ).toBeGreaterThan(0);

    // The outage ends: the next messages get the LLM's answers.
    openai.reset();
    await Promise.all(people.map((c, i) => send(app, c, `back ${i}`)));
    for (const [i, customer] of people.entries()) {
      expect(await repliesOf(graph, customer, 2)).toEqual([
        FALLBACK,
        `Echo: back ${i}`,
      ]);
    }
    expect((await metricSum(app.url, FAILURES)) - before).toBe(people.length);
    await stillServing(app);
  });

  it('sends FALLBACK_MESSAGE when the LLM answers later than LLM_TIMEOUT_MS, after the call and one retry time out, and counts the failures', async () => {
    const people = customers('4472', 3);
    const before = await metricSum(app.url, FAILURES);
    // oxlint-disable-next-line unicorn/no-thenable -- the fake's field name
    openai.setDefault({
      type: 'delay',
      ms: 5000,
      then: { type: 'reply', content: 'too late' },
    });
    const startedAt = Date.now();
    await Promise.all(people.map((c, i) => send(app, c, `slow ${i}`)));
    for (const customer of people) {
      expect(await repliesOf(graph, customer, 1)).toEqual([FALLBACK]);
      // Not sooner than two timeouts (LLM_TIMEOUT_MS 1000, LLM_MAX_RETRIES 1).
      const [fallback] = sendRequestsTo(graph, customer);
      expect(fallback.at - startedAt).toBeGreaterThanOrEqual(1900);
    }
    expect(openai.requests.length).toBe(people.length * 2);
    // The reason label is "timeout" in a real process. Under Jest the SDK
    // cannot recognise undici's AbortError (another realm) and reports a
    // connection error, so only the count is checked here.
    expect((await metricSum(app.url, FAILURES)) - before).toBe(people.length);
    await sleep(300);
    expect(repliesTo(graph, people[0])).toEqual([FALLBACK]);
    await stillServing(app);
  });

  it.each<[string, ChatBehaviour]>([
    ['empty content', { type: 'empty', content: '' }],
    ['null content', { type: 'empty', content: null }],
    ['whitespace only', { type: 'reply', content: ' \n\t ' }],
    [
      'a call of a tool it was not offered',
      { type: 'tool-call', name: 'delete_database', arguments: '{"all":true}' },
    ],
  ])(
    'sends FALLBACK_MESSAGE when the LLM answers with %s, and keeps serving',
    async (_, behaviour) => {
      const [customer] = customers('4473', 1);
      const before = await metricSum(app.url, FAILURES);
      openai.setDefault(behaviour);
      await send(app, customer, 'hello?');
      expect(await repliesOf(graph, customer, 1)).toEqual([FALLBACK]);
      expect((await metricSum(app.url, FAILURES)) - before).toBe(1);
      // Nothing more goes out for that turn.
      await sleep(300);
      expect(repliesTo(graph, customer)).toEqual([FALLBACK]);
      await stillServing(app);
    },
  );
});

/**
 * What the FakeOpenAi cannot send: 200 responses whose bodies are not a chat
 * completion at all. Picked by the customer's text.
 */
const GARBAGE: Record<string, { type: string; body: string }> = {
  'html page': {
    type: 'text/html',
    body: '<html><body>502 Bad Gateway</body></html>',
  },
  'truncated json': {
    type: 'application/json',
    body: '{"id":"x","choices":[{"mess',
  },
  'json null': { type: 'application/json', body: 'null' },
  'empty body': { type: 'application/json', body: '' },
  'choices not a list': { type: 'application/json', body: '{"choices":"yes"}' },
  'content a number': {
    type: 'application/json',
    body: '{"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":42}}]}',
  },
  'content an object': {
    type: 'application/json',
    body: '{"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":{"text":"hi"}}}]}',
  },
  'tool_calls not a list': {
    type: 'application/json',
    body: '{"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":"request_human"}}]}',
  },
};

describe('LLM answers that are not chat completions', () => {
  let graph: FakeGraphApi;
  let openai: FakeOpenAi;
  let server: Server;
  let app: TestApp;
  let healthy = false;

  beforeAll(async () => {
    graph = await FakeGraphApi.start();
    // Only for fakeEnv's defaults; OPENAI_BASE_URL points at `server`.
    openai = await FakeOpenAi.start();
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let raw = '';
      req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
      req.on('end', () => {
        const body = JSON.parse(raw) as {
          messages: Array<{ role: string; content: string }>;
        };
        const text = body.messages.at(-1)?.content ?? '';
        const garbage = GARBAGE[text];
        if (healthy || !garbage) {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              id: 'chatcmpl-ok',
              object: 'chat.completion',
              created: 0,
              model: 'm',
              choices: [
                {
                  index: 0,
                  message: { role: 'assistant', content: `Fine: ${text}` },
                  finish_reason: 'stop',
                },
              ],
            }),
          );
          return;
        }
        res.writeHead(200, { 'content-type': garbage.type });
        res.end(garbage.body);
      });
    });
    await new Promise<void>((resolve) =>
      server.listen(0, '127.0.0.1', resolve),
    );
    const { port } = server.address() as AddressInfo;
    app = await startTestApp({
      ...fakeEnv(graph, openai),
      FALLBACK_MESSAGE: FALLBACK,
      OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1`,
    });
  });
  afterAll(async () => {
    await app.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await graph.close();
    await openai.close();
  });

  it('sends FALLBACK_MESSAGE for every kind of 200 that is not a usable completion (HTML, truncated JSON, null, empty, wrong types), never crashes, and replies normally afterwards', async () => {
    const cases = Object.keys(GARBAGE);
    const people = customers('4474', cases.length);
    const before = await metricSum(app.url, FAILURES);
    await Promise.all(cases.map((text, i) => send(app, people[i], text)));
    for (const [i, customer] of people.entries()) {
      expect([cases[i], await repliesOf(graph, customer, 1)]).toEqual([
        cases[i],
        [FALLBACK],
      ]);
    }
    expect((await metricSum(app.url, FAILURES)) - before).toBe(cases.length);
    await stillServing(app);

    healthy = true;
    await Promise.all(people.map((c) => send(app, c, 'and now?')));
    for (const customer of people) {
      expect(await repliesOf(graph, customer, 2)).toEqual([
        FALLBACK,
        'Fine: and now?',
      ]);
    }
    expect(graph.violations).toEqual([]);
  });
});
