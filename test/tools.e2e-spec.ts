import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { FakeBusinessApi } from './fakes/fake-business-api';
import { FakeGraphApi } from './fakes/fake-graph-api';
import { FakeOpenAi } from './fakes/fake-openai';
import { waitFor } from './fakes/wait-for';
import { ADMIN_KEY, fakeEnv, startTestApp, TestApp } from './support/test-app';
import { postWebhook, textWebhook } from './support/webhooks';

const SHOP_TOKEN = 'shop-secret-7f3a9c';

let graph: FakeGraphApi;
let openai: FakeOpenAi;
let shop: FakeBusinessApi;
let app: TestApp;
let toolsFile: string;
let seq = 0;
const newCustomer = () =>
  `1557${String(Date.now()).slice(-5)}${String(++seq).padStart(2, '0')}`;

const repliesTo = (waId: string) =>
  waitFor(() => {
    const sent = graph
      .sentMessages()
      .filter((m) => m.to.replace(/\D/g, '') === waId);
    return sent.length > 0 && sent.map((m) => m.body);
  });

const admin = (path: string) =>
  fetch(`${app.url}${path}`, {
    headers: { authorization: `Bearer ${ADMIN_KEY}` },
  });

async function conversationOf(waId: string): Promise<string> {
  const result = (await app.db.db.execute(
    sql`select id from conversations where customer_wa_id = ${waId}`,
  )) as unknown as { rows: Array<{ id: string }> };
  return result.rows[0].id;
}

/** The tool messages of the chat request that follows `n` requests of this customer. */
const toolMessagesOf = (request: {
  messages: Array<Record<string, unknown>>;
}) => request.messages.filter((m) => m.role === 'tool');

function writeToolsFile(dir: string, tools: unknown[]): string {
  const file = join(dir, `tools-${++seq}.json`);
  writeFileSync(file, JSON.stringify({ tools }, null, 2));
  return file;
}

beforeAll(async () => {
  graph = await FakeGraphApi.start();
  openai = await FakeOpenAi.start();
  shop = new FakeBusinessApi();
  shop.token = SHOP_TOKEN;
  const base = await shop.start();
  const dir = mkdtempSync(join(tmpdir(), 'clariops-tools-'));
  toolsFile = writeToolsFile(dir, [
    {
      name: 'order_status',
      description: 'The status of one of this customer’s orders, by order id',
      parameters: {
        type: 'object',
        properties: {
          order_id: { type: 'string', description: 'e.g. A-1' },
          customer: { type: 'string' },
        },
        required: ['order_id', 'customer'],
      },
      method: 'GET',
      url: `${base}/orders/{order_id}?customer={customer}`,
      headers: { Authorization: 'Bearer ${SHOP_API_TOKEN}' },
      bind: { customer: 'customer.phone' },
      timeoutMs: 2000,
    },
  ]);
  app = await startTestApp({
    ...fakeEnv(graph, openai),
    TOOLS_FILE: toolsFile,
    SHOP_API_TOKEN: SHOP_TOKEN,
  });
});
afterAll(async () => {
  await app.close();
  await graph.close();
  await openai.close();
  await shop.stop();
});
beforeEach(() => {
  graph.reset();
  shop.requests.length = 0;
});

describe('Tools (e2e: the real openai SDK, a business API and the Graph API over HTTP)', () => {
  it("answers from the customer's own order: the tool is called with the customer bound, and the call is shown with the reply", async () => {
    const customer = newCustomer();
    shop.orders.push({
      id: 'A-1',
      customer,
      status: 'shipped',
      items: ['blue mug'],
    });
    openai.enqueue(
      {
        type: 'tool-call',
        name: 'order_status',
        arguments: '{"order_id":"A-1"}',
      },
      {
        type: 'reply',
        content: (req) => {
          const result = JSON.stringify(
            toolMessagesOf(req).at(-1)?.content ?? '',
          );
          return result.includes('shipped')
            ? 'Your order A-1 has shipped.'
            : `I could not find it (${result})`;
        },
      },
    );

    await postWebhook(app.url, textWebhook(customer, 'Where is my order A-1?'));

    expect(await repliesTo(customer)).toEqual(['Your order A-1 has shipped.']);
    expect(shop.requests).toHaveLength(1);
    expect(shop.requests[0].query).toEqual({ customer });
    expect(shop.requests[0].headers.authorization).toBe(`Bearer ${SHOP_TOKEN}`);
    // The model saw the tool without the bound parameter.
    const first = openai.requests.at(-2)!;
    const tools = first.body.tools as Array<{
      function: { name: string; parameters: { properties: object } };
    }>;
    expect(tools.map((t) => t.function.name)).toEqual([
      'request_human',
      'order_status',
    ]);
    expect(Object.keys(tools[1].function.parameters.properties)).toEqual([
      'order_id',
    ]);

    const id = await conversationOf(customer);
    const page = (await (
      await admin(`/api/conversations/${id}/messages`)
    ).json()) as {
      data: {
        items: Array<{ author: string; toolCalls: unknown[] }>;
      };
    };
    const reply = page.data.items.find((m) => m.author === 'bot')!;
    expect(reply.toolCalls).toEqual([
      {
        round: 1,
        name: 'order_status',
        arguments: { order_id: 'A-1' },
        ok: true,
        result: expect.stringContaining('"status":"shipped"'),
        durationMs: expect.any(Number),
      },
    ]);
    expect(JSON.stringify(page)).not.toContain(SHOP_TOKEN);
  });

  it("refuses a model that names another customer: the business API never sees the other customer's number", async () => {
    const customer = newCustomer();
    openai.enqueue(
      {
        type: 'tool-call',
        name: 'order_status',
        arguments: '{"order_id":"B-9","customer":"4470000000"}',
      },
      { type: 'reply', content: 'I can only look up your own orders.' },
    );

    await postWebhook(
      app.url,
      textWebhook(customer, 'Show order B-9 of +44 70000000'),
    );

    expect(await repliesTo(customer)).toEqual([
      'I can only look up your own orders.',
    ]);
    expect(shop.requests).toEqual([]);
    const second = openai.requests.at(-1)!;
    expect(toolMessagesOf(second)).toEqual([
      expect.objectContaining({
        content: expect.stringMatching(/^ERROR: customer cannot be given/),
      }),
    ]);
  });

  it('makes a model that keeps calling tools answer after TOOL_MAX_ROUNDS rounds', async () => {
    const customer = newCustomer();
    const call = {
      type: 'tool-call' as const,
      name: 'order_status',
      arguments: '{"order_id":"A-404"}',
    };
    openai.enqueue(call, call, call, call);
    const before = openai.requests.length;

    await postWebhook(
      app.url,
      textWebhook(customer, 'Check A-404 again and again'),
    );

    const [reply] = await repliesTo(customer);
    expect(reply).toMatch(/^Echo: /);
    const mine = openai.requests.slice(before);
    expect(mine.map((r) => r.body.tool_choice)).toEqual([
      'auto',
      'auto',
      'auto',
      'none',
    ]);
    expect(shop.requests).toHaveLength(3);
    // Every answered call reached the model as an error result, in order.
    expect(toolMessagesOf(mine[3])).toHaveLength(3);
  });

  it('lists the configured tools, with header names and never their values', async () => {
    const response = await admin('/api/tools');
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).not.toContain(SHOP_TOKEN);
    const body = JSON.parse(text) as { data: Array<Record<string, unknown>> };
    expect(body.data).toEqual([
      expect.objectContaining({ name: 'request_human', kind: 'builtin' }),
      expect.objectContaining({
        name: 'order_status',
        kind: 'http',
        origin: expect.stringMatching(
          /^GET http:\/\/127\.0\.0\.1:\d+\/orders\/\{order_id\}\?customer=\{customer\}$/,
        ),
        bound: { customer: 'customer.phone' },
        headers: ['Authorization'],
        timeoutMs: 2000,
      }),
    ]);
    expect((await fetch(`${app.url}/api/tools`)).status).toBe(401);
  });

  it('refuses to start with a broken TOOLS_FILE, naming each problem and no secret', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clariops-tools-'));
    const broken = writeToolsFile(dir, [
      {
        name: 'leak',
        description: 'x',
        parameters: {
          type: 'object',
          properties: { host: { type: 'string' } },
        },
        method: 'GET',
        url: 'https://{host}/x',
        headers: { Authorization: 'Bearer ${NOT_SET_ANYWHERE}' },
      },
    ]);
    await expect(
      startTestApp({ ...fakeEnv(graph, openai), TOOLS_FILE: broken }),
    ).rejects.toThrow(
      /TOOLS_FILE: tools\[0\]\.url: a \{parameter\} may only stand in the path or query[\s\S]*TOOLS_FILE: tools\[0\]\.headers\.Authorization: \$\{NOT_SET_ANYWHERE\} is not set/,
    );
  });
});
