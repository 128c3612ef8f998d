import { Logger } from '@nestjs/common';
import type { McpConfig, ToolsConfig } from '../../config/app-config';
import { parseMcpServers } from '../../config/mcp-servers';
import { FakeMcpServer } from '../../../test/fakes/fake-mcp-server';
import { waitFor } from '../../../test/fakes/wait-for';
import type { ToolContext } from '../tool-source';
import { McpToolSource } from './mcp-tool.source';
import { MODEL_TOOL_NAME } from './mcp-tool-name';

const context: ToolContext = {
  conversationId: 'c-1',
  customerId: '15551230000',
  customerPhone: '15551230000',
  businessNumber: '106540352242922',
};

const never = () => new AbortController().signal;

describe('McpToolSource', () => {
  const fakes: FakeMcpServer[] = [];
  const sources: McpToolSource[] = [];
  /** What the source logged, by level (the logger is silent otherwise). */
  let logged: { level: string; message: string }[] = [];

  beforeEach(() => {
    logged = [];
    const keep =
      (level: string) =>
      (message: unknown): void => {
        logged.push({ level, message: String(message) });
      };
    Logger.overrideLogger({
      log: keep('log'),
      warn: keep('warn'),
      error: keep('error'),
      debug: keep('debug'),
      verbose: keep('verbose'),
    });
  });

  afterAll(() => {
    Logger.overrideLogger(true);
  });

  async function fakeServer(): Promise<FakeMcpServer> {
    const fake = new FakeMcpServer();
    fakes.push(fake);
    await fake.start();
    return fake;
  }

  /** A source for `servers` (MCP_SERVERS as written), started as the module would be. */
  function startSource(
    servers: string,
    opts: {
      headers?: string;
      env?: Record<string, string>;
      tools?: Partial<ToolsConfig>;
    } = {},
  ): McpToolSource {
    const parsed = parseMcpServers(
      servers,
      opts.headers ?? '',
      (name) => opts.env?.[name],
    );
    expect(parsed.problems).toEqual([]);
    const mcp: McpConfig = {
      servers: parsed.servers,
      retryBaseMs: 50,
      retryMaxMs: 400,
    };
    const source = new McpToolSource(mcp, {
      httpTools: [],
      maxRounds: 3,
      timeoutMs: 5000,
      maxResultChars: 500,
      ...opts.tools,
    });
    sources.push(source);
    source.onModuleInit();
    return source;
  }

  const names = (source: McpToolSource) =>
    source.list().map((t) => t.definition.name);

  afterEach(async () => {
    await Promise.all(sources.splice(0).map((s) => s.onModuleDestroy()));
    await Promise.all(fakes.splice(0).map((f) => f.stop()));
  });

  it('lists every tool of a server across pages, as <server>__<tool> with its input schema', async () => {
    const fake = await fakeServer();
    const source = startSource(fake.url);

    await waitFor(() => source.list().length > 0);

    expect(names(source)).toEqual([
      'mcp1__echo',
      'mcp1__fail',
      'mcp1__hang',
      'mcp1__huge',
      'mcp1__picture',
    ]);
    expect(source.list()[0]).toEqual({
      definition: {
        name: 'mcp1__echo',
        description: 'Answers its arguments',
        parameters: {
          type: 'object',
          properties: { text: { type: 'string' } },
          required: ['text'],
        },
      },
      kind: 'mcp',
      origin: fake.url,
    });
    expect(source.status()).toEqual([
      expect.objectContaining({
        name: 'mcp1',
        url: fake.url,
        status: 'up',
        tools: 5,
        error: null,
      }),
    ]);
  });

  it('calls a tool with the arguments the model gave and returns its text', async () => {
    const fake = await fakeServer();
    const source = startSource(fake.url);
    await waitFor(() => names(source).includes('mcp1__echo'));

    const result = await source.call(
      'mcp1__echo',
      { text: 'where is order 42?' },
      context,
      never(),
    );

    expect(result).toEqual({
      ok: true,
      content: '{"text":"where is order 42?"}',
    });
    expect(fake.calls).toEqual([
      { name: 'echo', arguments: { text: 'where is order 42?' } },
    ]);
  });

  it('reports a result with isError as ok:false, with the server’s message', async () => {
    const fake = await fakeServer();
    const source = startSource(fake.url);
    await waitFor(() => names(source).includes('mcp1__fail'));

    const result = await source.call('mcp1__fail', {}, context, never());

    expect(result).toEqual({ ok: false, content: 'order service unavailable' });
  });

  it('stops waiting for a tool after TOOL_TIMEOUT_MS and cancels the call on the server', async () => {
    const fake = await fakeServer();
    const source = startSource(fake.url, { tools: { timeoutMs: 400 } });
    await waitFor(() => names(source).includes('mcp1__hang'));

    const result = await source.call('mcp1__hang', {}, context, never());

    expect(result).toEqual({
      ok: false,
      content: 'MCP server mcp1 did not answer within 400 ms.',
    });
    await waitFor(() => fake.cancelledHangs === 1);
  });

  it('cuts a huge result to TOOL_RESULT_MAX_CHARS and says so', async () => {
    const fake = await fakeServer();
    const source = startSource(fake.url);
    await waitFor(() => names(source).includes('mcp1__huge'));

    const result = await source.call(
      'mcp1__huge',
      { size: 100_000 },
      context,
      never(),
    );

    expect(result.ok).toBe(true);
    expect(result.content.length).toBeLessThanOrEqual(500);
    expect(result.content).toMatch(/^x{400,}\n\[… \d+ more characters cut\]$/);
  });

  it('describes parts that are not text instead of passing their bytes', async () => {
    const fake = await fakeServer();
    const source = startSource(fake.url);
    await waitFor(() => names(source).includes('mcp1__picture'));

    const result = await source.call('mcp1__picture', {}, context, never());

    expect(result).toEqual({
      ok: true,
      content: 'Here is the map\n\n[image (image/png), not shown]',
    });
  });

  it('stops waiting when the turn’s signal aborts, and cancels the call on the server', async () => {
    const fake = await fakeServer();
    const source = startSource(fake.url);
    await waitFor(() => names(source).includes('mcp1__hang'));
    const abort = new AbortController();

    const pending = source.call('mcp1__hang', {}, context, abort.signal);
    await waitFor(() => fake.calls.some((c) => c.name === 'hang'));
    abort.abort();

    await expect(pending).resolves.toEqual({
      ok: false,
      content: 'The call was cancelled.',
    });
    await waitFor(() => fake.cancelledHangs === 1);
  });

  it('skips a server that is down at start, reports it, and offers its tools once it answers', async () => {
    const fake = new FakeMcpServer();
    fakes.push(fake);
    const url = await fake.reservePort();
    const source = startSource(url);

    const [down] = await waitFor(() =>
      source.status()[0].status === 'down' ? source.status() : null,
    );
    expect(down).toEqual(
      expect.objectContaining({
        name: 'mcp1',
        status: 'down',
        tools: 0,
        error: expect.any(String),
      }),
    );
    expect(source.list()).toEqual([]);
    expect(
      await source.call('mcp1__echo', { text: 'hi' }, context, never()),
    ).toEqual({
      ok: false,
      content: 'There is no tool named mcp1__echo.',
    });

    await fake.start();

    await waitFor(() => names(source).includes('mcp1__echo'), {
      timeoutMs: 15_000,
    });
    expect(source.status()[0]).toEqual(
      expect.objectContaining({ status: 'up', tools: 5, error: null }),
    );
  });

  it('logs a server that stays down once, not at every retry', async () => {
    const fake = new FakeMcpServer();
    fakes.push(fake);
    const source = startSource(await fake.reservePort());

    await waitFor(
      () =>
        logged.filter((l) => l.message.includes('next attempt')).length >= 3,
    );

    expect(source.status()[0].status).toBe('down');
    expect(logged.filter((l) => l.level === 'warn')).toHaveLength(1);
  });

  it('notices a server that goes away without a call, drops its tools, and offers them again when it is back', async () => {
    const fake = await fakeServer();
    const source = startSource(fake.url);
    await waitFor(() => names(source).includes('mcp1__echo'));

    await fake.stop();
    await waitFor(() => source.status()[0].status === 'down');
    expect(source.list()).toEqual([]);

    await fake.start();
    await waitFor(() => names(source).includes('mcp1__echo'), {
      timeoutMs: 15_000,
    });
    const result = await source.call(
      'mcp1__echo',
      { text: 'back' },
      context,
      never(),
    );
    expect(result).toEqual({ ok: true, content: '{"text":"back"}' });
  });

  it('answers ok:false when a call finds its server gone, and connects again', async () => {
    const fake = await fakeServer();
    const source = startSource(fake.url);
    await waitFor(() => names(source).includes('mcp1__echo'));

    await fake.stop();
    const failed = await source.call(
      'mcp1__echo',
      { text: 'hi' },
      context,
      never(),
    );
    expect(failed.ok).toBe(false);
    await waitFor(() => source.status()[0].status === 'down');
    expect(source.list()).toEqual([]);

    await fake.start();
    await waitFor(() => names(source).includes('mcp1__echo'), {
      timeoutMs: 15_000,
    });
    const result = await source.call(
      'mcp1__echo',
      { text: 'back' },
      context,
      never(),
    );
    expect(result).toEqual({ ok: true, content: '{"text":"back"}' });
  });

  it('shows a tool the server adds at runtime and drops one it removes (tools/list_changed)', async () => {
    const fake = await fakeServer();
    const source = startSource(fake.url);
    await waitFor(() => names(source).includes('mcp1__echo'));

    fake.addTool({
      name: 'track.parcel',
      description: 'Where a parcel is',
      handler: () => ({ content: [{ type: 'text', text: 'in Lisbon' }] }),
    });
    fake.removeTool('fail');

    await waitFor(() => names(source).includes('mcp1__track_parcel'));
    await waitFor(() => !names(source).includes('mcp1__fail'));
    expect(
      await source.call('mcp1__track_parcel', {}, context, never()),
    ).toEqual({
      ok: true,
      content: 'in Lisbon',
    });
    expect(fake.calls.at(-1)?.name).toBe('track.parcel');
  });

  it('keeps the same tool of two servers apart by their names, and sends each its own headers', async () => {
    const crm = await fakeServer();
    const shop = await fakeServer();
    const source = startSource(`${crm.url}#crm,${shop.url}`, {
      headers: JSON.stringify({
        [`${crm.url}#crm`]: { 'X-Api-Key': '${CRM_KEY}' },
      }),
      env: { CRM_KEY: 'k-123' },
    });
    await waitFor(() => source.list().length === 10);

    expect(names(source)).toEqual(
      expect.arrayContaining(['crm__echo', 'mcp2__echo']),
    );
    expect(names(source).every((n) => MODEL_TOOL_NAME.test(n))).toBe(true);
    await source.call('mcp2__echo', { text: 'shop' }, context, never());
    expect(crm.calls).toEqual([]);
    expect(shop.calls).toEqual([{ name: 'echo', arguments: { text: 'shop' } }]);
    expect(crm.requestHeaders.every((h) => h['x-api-key'] === 'k-123')).toBe(
      true,
    );
    expect(shop.requestHeaders.some((h) => 'x-api-key' in h)).toBe(false);
  });

  it('answers ok:false, never rejects, for an unknown tool or arguments that are not an object', async () => {
    const fake = await fakeServer();
    const source = startSource(fake.url);
    await waitFor(() => names(source).includes('mcp1__echo'));

    expect(await source.call('nope', {}, context, never())).toEqual({
      ok: false,
      content: 'There is no tool named nope.',
    });
    expect(await source.call('mcp1__echo', ['a'], context, never())).toEqual({
      ok: false,
      content: 'The arguments must be a JSON object.',
    });
    expect(fake.calls).toEqual([]);
  });
});
