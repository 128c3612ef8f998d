import { FakeGraphApi } from './fakes/fake-graph-api';
import { FakeOpenAi } from './fakes/fake-openai';
import { waitFor } from './fakes/wait-for';
import { ADMIN_KEY, fakeEnv, startTestApp, TestApp } from './support/test-app';
import { postWebhook, textWebhook } from './support/webhooks';

let graph: FakeGraphApi;
let openai: FakeOpenAi;
let app: TestApp;
let seq = 0;
const newCustomer = () =>
  `3161${String(Date.now()).slice(-5)}${String(++seq).padStart(2, '0')}`;
const sentTo = (waId: string) =>
  graph.sentMessages().filter((m) => m.to === `+${waId}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Envelope<T = any> {
  success: boolean;
  message: string;
  data: T;
  errors?: string[];
}

async function api<T = any>(
  method: string,
  path: string,
  body?: unknown,
  key: string | null = ADMIN_KEY,
): Promise<{ status: number; body: Envelope<T>; headers: Headers }> {
  const headers: Record<string, string> = {};
  if (key !== null) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${app.url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return {
    status: res.status,
    body: (await res.json()) as Envelope<T>,
    headers: res.headers,
  };
}

beforeAll(async () => {
  graph = await FakeGraphApi.start();
  openai = await FakeOpenAi.start();
  app = await startTestApp({
    ...fakeEnv(graph, openai),
    LOG_LEVEL: 'error',
    NODE_ENV: 'production',
  });
});
afterAll(async () => {
  await app.close();
  await graph.close();
  await openai.close();
});
beforeEach(() => {
  graph.reset();
  openai.reset();
});
afterEach(() => {
  expect(graph.violations).toEqual([]);
  expect(openai.violations).toEqual([]);
});

describe('admin API: authentication', () => {
  it.each([
    ['no key', null],
    ['a wrong key', 'wrong-key-wrong-key-wrong'],
  ])('refuses %s with 401 and sends nothing', async (_name, key) => {
    const customer = newCustomer();
    const res = await api(
      'POST',
      '/api/send-message',
      { phoneNumber: customer, message: 'hi' },
      key,
    );
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ success: false, data: null });
    expect(graph.requests).toHaveLength(0);
  });

  it('keeps /api/health public', async () => {
    const res = await api('GET', '/api/health', undefined, null);
    expect(res.status).toBe(200);
  });
});

describe('POST /api/send-message', () => {
  it('sends, records the message in the conversation and returns the Graph response', async () => {
    const customer = newCustomer();
    const res = await api('POST', '/api/send-message', {
      phoneNumber: `+${customer}`,
      message: 'Your order shipped',
    });
    expect(res.status).toBe(200);
    expect(res.body.success).toBe(true);
    expect(res.body.data).toMatchObject({
      messaging_product: 'whatsapp',
      contacts: [{ wa_id: customer }],
      messages: [{ id: expect.stringMatching(/^wamid\./) }],
    });
    expect(sentTo(customer).map((m) => m.body)).toEqual(['Your order shipped']);
    const session = await api('GET', `/api/session/${customer}`);
    expect(session.body.data.context.previousMessages).toEqual([
      expect.objectContaining({
        role: 'assistant',
        author: 'operator',
        text: 'Your order shipped',
      }),
    ]);
  });

  it.each([
    [{ phoneNumber: 'abc', message: 'x' }, 'phoneNumber'],
    [{ phoneNumber: '123', message: 'x' }, 'phoneNumber'],
    [{ phoneNumber: '16505551234', message: '' }, 'message'],
    [{ phoneNumber: '16505551234' }, 'message'],
    [{ phoneNumber: '16505551234', message: 'x', extra: 1 }, 'extra'],
  ])(
    'rejects %j with 400 naming %s, and sends nothing',
    async (body, field) => {
      const res = await api('POST', '/api/send-message', body);
      expect(res.status).toBe(400);
      expect(res.body.success).toBe(false);
      expect(res.body.message).toContain(field);
      expect(graph.requests).toHaveLength(0);
    },
  );

  it('answers 502 with Meta error when WhatsApp refuses, and records the failure', async () => {
    const customer = newCustomer();
    graph.failSendsTo(customer, {
      status: 400,
      code: 131047,
      message: 'Re-engagement message',
    });
    const res = await api('POST', '/api/send-message', {
      phoneNumber: customer,
      message: 'late',
    });
    expect(res.status).toBe(502);
    expect(res.body.message).toContain('131047');

    const page = await api('GET', `/api/conversations?customer=${customer}`);
    expect(page.body.data.items).toHaveLength(1);
    const messages = await api(
      'GET',
      `/api/conversations/${page.body.data.items[0].id}/messages`,
    );
    expect(messages.body.data.items).toEqual([
      expect.objectContaining({
        direction: 'outbound',
        author: 'operator',
        text: 'late',
        status: 'failed',
        wamid: null,
        error: expect.objectContaining({ code: 131047 }),
      }),
    ]);
  });
});

describe('handoff', () => {
  it('pauses the bot, lets an operator reply, and resumes', async () => {
    const customer = newCustomer();
    await postWebhook(app.url, textWebhook(customer, 'hello bot'));
    await waitFor(() => sentTo(customer).length === 1);

    const paused = await api('POST', `/api/conversations/${customer}/handoff`, {
      reason: 'VIP',
    });
    expect(paused.status).toBe(200);
    expect(paused.body.data).toMatchObject({
      state: 'handoff',
      stateReason: 'VIP',
      phoneNumber: customer,
    });

    await postWebhook(app.url, textWebhook(customer, 'are you a person?'));
    await sleep(500);
    expect(sentTo(customer)).toHaveLength(1);

    const reply = await api('POST', `/api/conversations/${customer}/reply`, {
      message: 'Yes, I am Ana.',
    });
    expect(reply.status).toBe(200);
    expect(sentTo(customer).map((m) => m.body)).toEqual([
      'Echo: hello bot',
      'Yes, I am Ana.',
    ]);

    const resumed = await api(
      'DELETE',
      `/api/conversations/${customer}/handoff`,
    );
    expect(resumed.status).toBe(200);
    expect(resumed.body.data.state).toBe('active');
    await postWebhook(app.url, textWebhook(customer, 'thanks'));
    await waitFor(() => sentTo(customer).length === 3);
    const prompt = openai.requests
      .at(-1)!
      .messages.map((m) => `${m.role}:${String(m.content)}`);
    expect(prompt.slice(1)).toEqual([
      'user:hello bot',
      'assistant:Echo: hello bot',
      'user:are you a person?',
      'assistant:Yes, I am Ana.',
      'user:thanks',
    ]);

    const detail = await api(
      'GET',
      `/api/conversations/${resumed.body.data.id}`,
    );
    expect(
      detail.body.data.events.map((e: { type: string }) => e.type),
    ).toEqual(['handoff', 'resume']);
  });

  it('hands over when the LLM calls request_human, and tells the customer', async () => {
    const customer = newCustomer();
    openai.enqueue({
      type: 'tool-call',
      name: 'request_human',
      arguments: '{"reason":"wants a person"}',
    });
    await postWebhook(app.url, textWebhook(customer, 'let me talk to someone'));
    const [notice] = await waitFor(
      () => sentTo(customer).length > 0 && sentTo(customer),
    );
    expect(notice.body).toMatch(/member of our team/);
    const session = await api('GET', `/api/session/${customer}`);
    expect(session.body.data.state).toBe('handoff');
  });
});

describe('inbox and stats', () => {
  it('lists conversations newest first with cursor pagination and every message of one', async () => {
    const customers = [newCustomer(), newCustomer(), newCustomer()];
    for (const c of customers) {
      await postWebhook(app.url, textWebhook(c, `hi from ${c}`));
      await waitFor(() => sentTo(c).length === 1);
    }
    const first = await api('GET', '/api/conversations?limit=2');
    expect(first.status).toBe(200);
    expect(
      first.body.data.items.map((c: { phoneNumber: string }) => c.phoneNumber),
    ).toEqual([customers[2], customers[1]]);
    const second = await api(
      'GET',
      `/api/conversations?limit=2&cursor=${first.body.data.nextCursor}`,
    );
    expect(second.body.data.items[0].phoneNumber).toBe(customers[0]);

    const byCustomer = await api(
      'GET',
      `/api/conversations?customer=%2B${customers[0]}`,
    );
    expect(byCustomer.body.data.items).toHaveLength(1);
    const messages = await api(
      'GET',
      `/api/conversations/${byCustomer.body.data.items[0].id}/messages`,
    );
    expect(
      messages.body.data.items.map((m: { direction: string; text: string }) => [
        m.direction,
        m.text,
      ]),
    ).toEqual([
      ['inbound', `hi from ${customers[0]}`],
      ['outbound', `Echo: hi from ${customers[0]}`],
    ]);
    expect(messages.body.data.items[1]).toMatchObject({
      status: 'sent',
      wamid: expect.stringMatching(/^wamid\./),
    });
  });

  it('answers 404 for unknown conversations and sessions', async () => {
    expect(
      (
        await api(
          'GET',
          '/api/conversations/00000000-0000-4000-8000-000000000000',
        )
      ).status,
    ).toBe(404);
    expect((await api('GET', '/api/conversations/not-a-uuid')).status).toBe(
      404,
    );
    expect((await api('GET', '/api/session/19998887777')).status).toBe(404);
  });

  it("reports exactly one customer's traffic, tokens and reply latency for a period holding only them", async () => {
    // An app of its own, so that the period holds this test's traffic only.
    const own = await startTestApp({
      ...fakeEnv(graph, openai),
      LOG_LEVEL: 'error',
    });
    try {
      const customer = newCustomer();
      const from = new Date(Date.now() - 60_000).toISOString();
      openai.enqueue({
        type: 'reply',
        content: 'We open at nine.',
        usage: { prompt: 40, completion: 6 },
      });
      await postWebhook(own.url, textWebhook(customer, 'when do you open?'));
      await waitFor(() => sentTo(customer).length === 1);
      const to = new Date(Date.now() + 60_000).toISOString();

      const res = await fetch(`${own.url}/api/stats?from=${from}&to=${to}`, {
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
      });
      expect(res.status).toBe(200);
      const stats = ((await res.json()) as Envelope).data;
      expect(stats).toMatchObject({
        inboundMessages: 1,
        outboundMessages: 1,
        conversationsOpened: 1,
        handoffs: 0,
        fallbackReplies: 0,
        llmTokens: { prompt: 40, completion: 6, total: 46 },
        sendFailures: [],
      });
      expect(stats.replyLatencyMs.samples).toBe(1);
      expect(stats.replyLatencyMs.median).toBeGreaterThanOrEqual(0);
      expect(stats.replyLatencyMs.p95).toBe(stats.replyLatencyMs.median);
    } finally {
      await own.close();
    }
  });
});

describe('POST /api/generate-response', () => {
  it('runs the LLM without sending anything', async () => {
    const res = await api('POST', '/api/generate-response', {
      message: 'Do you have it in blue?',
      context: [{ role: 'user', content: 'I saw a jacket' }],
    });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({
      reply: 'Echo: Do you have it in blue?',
      conversationId: null,
      metadata: { model: 'test-model', tokens: expect.any(Number) },
    });
    const { tokens, usage } = res.body.data.metadata;
    expect(usage.prompt + usage.completion).toBe(tokens);
    expect(usage.total).toBe(tokens);
    expect(graph.requests).toHaveLength(0);
  });

  it('says the LLM failed instead of returning the fallback text', async () => {
    openai.enqueue({ type: 'error', status: 500 });
    const res = await api('POST', '/api/generate-response', {
      message: 'hello',
    });
    expect(res.status).toBe(502);
    expect(res.body.success).toBe(false);
  });
});
