import { FakeGraphApi } from './fakes/fake-graph-api';
import { FakeMcpServer } from './fakes/fake-mcp-server';
import { FakeOpenAi } from './fakes/fake-openai';
import { waitFor } from './fakes/wait-for';
import { ADMIN_KEY, fakeEnv, startTestApp, TestApp } from './support/test-app';
import { postWebhook, textWebhook } from './support/webhooks';

interface McpServerHealth {
  name: string;
  url: string;
  status: string;
  tools: number;
  error: string | null;
}

let graph: FakeGraphApi;
let openai: FakeOpenAi;
let mcp: FakeMcpServer;
let app: TestApp;
let mcpUrl: string;

beforeAll(async () => {
  graph = await FakeGraphApi.start();
  openai = await FakeOpenAi.start();
  mcp = new FakeMcpServer();
  // Down when the app starts: the start must neither wait for it nor fail.
  mcpUrl = await mcp.reservePort();
  app = await startTestApp({
    ...fakeEnv(graph, openai),
    MCP_SERVERS: `${mcpUrl}#shop`,
    MCP_SERVERS_HEADERS: JSON.stringify({
      [`${mcpUrl}#shop`]: { Authorization: 'Bearer ${SHOP_MCP_TOKEN}' },
    }),
    SHOP_MCP_TOKEN: 'shop-secret-token',
  });
});

afterAll(async () => {
  await app?.close();
  await mcp?.stop();
  await graph?.close();
  await openai?.close();
});

async function health(): Promise<{
  httpStatus: number;
  status: string;
  servers: McpServerHealth[];
  text: string;
}> {
  const res = await fetch(`${app.url}/api/health`);
  const text = await res.text();
  const body = JSON.parse(text) as {
    data: { status: string; services: { mcp: { servers: McpServerHealth[] } } };
  };
  return {
    httpStatus: res.status,
    status: body.data.status,
    servers: body.data.services.mcp.servers,
    text,
  };
}

describe('MCP servers in GET /api/health', () => {
  it('reports a server that is down without making the service degraded, then up once it answers', async () => {
    const down = await waitFor(async () => {
      const h = await health();
      return h.servers[0]?.status === 'down' ? h : null;
    });
    expect(down.httpStatus).toBe(200);
    expect(down.status).toBe('ok');
    expect(down.servers).toEqual([
      expect.objectContaining({
        name: 'shop',
        url: mcpUrl,
        tools: 0,
        error: expect.any(String),
      }),
    ]);

    await mcp.start();

    const up = await waitFor(
      async () => {
        const h = await health();
        return h.servers[0]?.status === 'up' ? h : null;
      },
      { timeoutMs: 30_000 },
    );
    expect(up.servers).toEqual([
      expect.objectContaining({
        name: 'shop',
        status: 'up',
        tools: 5,
        error: null,
      }),
    ]);
    expect(up.text).not.toContain('shop-secret-token');
    expect(mcp.requestHeaders.at(-1)?.authorization).toBe(
      'Bearer shop-secret-token',
    );
  });
});

describe('MCP tools in a turn', () => {
  it("answers with an MCP tool's result: listed in GET /api/tools, called through the loop, shown with the reply", async () => {
    await mcp.start().catch(() => undefined);
    const tools = await waitFor(
      async () => {
        const res = await fetch(`${app.url}/api/tools`, {
          headers: { authorization: `Bearer ${ADMIN_KEY}` },
        });
        const body = (await res.json()) as {
          data: Array<{ name: string; kind: string; origin: string }>;
        };
        return body.data.some((t) => t.name === 'shop__echo') && body.data;
      },
      { timeoutMs: 30_000 },
    );
    expect(tools).toContainEqual(
      expect.objectContaining({
        name: 'shop__echo',
        kind: 'mcp',
        origin: mcpUrl,
      }),
    );
    const customer = '15570001111';
    openai.enqueue(
      {
        type: 'tool-call',
        name: 'shop__echo',
        arguments: '{"text":"blue mug"}',
      },
      {
        type: 'reply',
        content: (req) =>
          `The tool said ${String(req.messages.filter((m) => m.role === 'tool').at(-1)?.content)}`,
      },
    );

    await postWebhook(
      app.url,
      textWebhook(customer, 'Do you have the blue mug?'),
    );

    const sent = await waitFor(() => {
      const texts = graph
        .sentMessages()
        .filter((m) => m.to.replace(/\D/g, '') === customer);
      return texts.length > 0 && texts;
    });
    expect(sent.map((m) => m.body)).toEqual([
      'The tool said {"text":"blue mug"}',
    ]);
    expect(mcp.calls).toContainEqual({
      name: 'echo',
      arguments: { text: 'blue mug' },
    });
  });
});
