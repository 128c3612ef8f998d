import { FakeBusinessApi } from '../../../test/fakes/fake-business-api';
import type { ToolsConfig } from '../../config/app-config';
import type { ToolContext } from '../tool-source';
import { HttpToolSource } from './http-tool.source';
import { HttpToolSpec, parseToolsFile } from './tools-file';

const customer: ToolContext = {
  conversationId: 'c-1',
  customerId: '4915112345678',
  customerPhone: '4915112345678',
  businessNumber: '106540352242922',
};

describe('HttpToolSource against a business API', () => {
  const api = new FakeBusinessApi();
  let base: string;
  beforeAll(async () => {
    base = await api.start();
  });
  afterAll(() => api.stop());
  beforeEach(() => {
    api.requests.length = 0;
    api.orders.length = 0;
    api.token = 'shop-token-123';
    api.orders.push(
      {
        id: 'A-1',
        customer: customer.customerId,
        status: 'shipped',
        items: ['mug'],
      },
      {
        id: 'B-9',
        customer: '4470000000',
        status: 'packed',
        items: ['secret'],
      },
    );
  });

  /** A source with the given tools (TOOLS_FILE entries, `{base}` for the fake's URL). */
  function source(tools: unknown[], over: Partial<ToolsConfig> = {}) {
    const text = JSON.stringify({ tools }).replaceAll('{base}', base);
    const parsed = parseToolsFile(text, { SHOP_TOKEN: 'shop-token-123' });
    expect(parsed.problems).toEqual([]);
    return new HttpToolSource({
      httpTools: parsed.tools,
      maxRounds: 3,
      timeoutMs: 2000,
      maxResultChars: 1000,
      ...over,
    });
  }
  const call = (
    s: HttpToolSource,
    name: string,
    args: unknown,
    who = customer,
  ) => s.call(name, args, who, new AbortController().signal);

  const orderTool = {
    name: 'order_status',
    description: 'Status of one order of this customer',
    parameters: {
      type: 'object',
      properties: {
        order_id: { type: 'string', maxLength: 40 },
        customer: { type: 'string' },
      },
      required: ['order_id', 'customer'],
    },
    method: 'GET',
    url: '{base}/orders/{order_id}?customer={customer}',
    headers: { Authorization: 'Bearer ${SHOP_TOKEN}' },
    bind: { customer: 'customer.phone' },
  };

  it('offers the model the parameters without the bound ones, and nothing beyond them', () => {
    const [offered] = source([orderTool]).list();
    expect(offered.definition.parameters).toEqual({
      type: 'object',
      properties: { order_id: { type: 'string', maxLength: 40 } },
      required: ['order_id'],
      additionalProperties: false,
    });
    expect(offered.kind).toBe('http');
  });

  it("looks up the customer's own order, the customer filled in by ClariOps and the secret header sent", async () => {
    const result = await call(source([orderTool]), 'order_status', {
      order_id: 'A-1',
    });
    expect(result.ok).toBe(true);
    expect(JSON.parse(result.content)).toMatchObject({
      id: 'A-1',
      status: 'shipped',
    });
    expect(api.requests).toEqual([
      expect.objectContaining({
        method: 'GET',
        target: `/orders/A-1?customer=${customer.customerId}`,
      }),
    ]);
    expect(api.requests[0].headers.authorization).toBe('Bearer shop-token-123');
  });

  it('refuses a model that gives the bound parameter itself: no request is made', async () => {
    const result = await call(source([orderTool]), 'order_status', {
      order_id: 'B-9',
      customer: '4470000000',
    });
    expect(result).toEqual({
      ok: false,
      content: expect.stringMatching(/^customer cannot be given/),
    });
    expect(api.requests).toEqual([]);
  });

  it('encodes arguments so they cannot climb the path or add query parameters', async () => {
    const s = source([orderTool]);
    await call(s, 'order_status', {
      order_id: '../orders?customer=4470000000',
    });
    await call(s, 'order_status', { order_id: 'B-9&customer=4470000000' });
    await call(s, 'order_status', { order_id: '%2e%2e' });
    expect(api.requests.map((r) => r.target)).toEqual([
      `/orders/..%2Forders%3Fcustomer%3D4470000000?customer=${customer.customerId}`,
      `/orders/B-9%26customer%3D4470000000?customer=${customer.customerId}`,
      `/orders/%252e%252e?customer=${customer.customerId}`,
    ]);
    expect(
      api.requests.every((r) => r.query.customer === customer.customerId),
    ).toBe(true);
    const dots = await call(s, 'order_status', { order_id: '..' });
    expect(dots.ok).toBe(false);
    expect(api.requests).toHaveLength(3);
  });

  it('refuses arguments the schema does not allow, with a message the model can act on', async () => {
    const s = source([orderTool]);
    const results = [
      await call(s, 'order_status', {}),
      await call(s, 'order_status', { order_id: 'x'.repeat(41) }),
      await call(s, 'order_status', { order_id: 'A-1', admin: true }),
      await call(s, 'order_status', ['A-1']),
    ];
    expect(results.map((r) => r.ok)).toEqual([false, false, false, false]);
    expect(results[0].content).toMatch(/^invalid arguments: .*order_id/);
    expect(api.requests).toEqual([]);
  });

  it('sends the other arguments as a JSON body for POST, with bound values and without unknown keys', async () => {
    const ticket = {
      name: 'open_ticket',
      description: 'Open a support ticket',
      parameters: {
        type: 'object',
        properties: {
          subject: { type: 'string' },
          priority: { enum: ['low', 'high'] },
        },
        required: ['subject'],
      },
      method: 'POST',
      url: '{base}/tickets',
      headers: { Authorization: 'Bearer ${SHOP_TOKEN}' },
      bind: { phone: 'customer.phone', line: 'business.number' },
    };
    const result = await call(source([ticket]), 'open_ticket', {
      subject: 'broken mug',
      priority: 'high',
    });
    expect(result.ok).toBe(true);
    expect(JSON.parse(api.requests[0].body)).toEqual({
      subject: 'broken mug',
      priority: 'high',
      phone: customer.customerPhone,
      line: customer.businessNumber,
    });
    expect(api.requests[0].headers['content-type']).toBe('application/json');
  });

  it('fails a tool bound to the phone number for a customer known only by a BSUID', async () => {
    const result = await call(
      source([orderTool]),
      'order_status',
      { order_id: 'A-1' },
      {
        ...customer,
        customerId: 'US.13491208655302741918',
        customerPhone: null,
      },
    );
    expect(result).toEqual({
      ok: false,
      content:
        'invalid arguments: this conversation has no phone number for the customer',
    });
    expect(api.requests).toEqual([]);
  });

  it('cuts an answer of 10 MB to TOOL_RESULT_MAX_CHARS and stops reading it', async () => {
    const huge = {
      ...orderTool,
      name: 'huge',
      url: '{base}/huge',
      bind: {},
      parameters: { type: 'object', properties: {} },
    };
    const result = await call(source([huge]), 'huge', {});
    expect(result.ok).toBe(true);
    expect(result.content).toBe(
      `${'x'.repeat(1000)}\n[cut: the answer was longer than 1000 characters]`,
    );
    // Reading stopped early: far less than 10 MB was ever sent.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(api.hugeBytesWritten).toBeLessThan(5 * 1024 * 1024);
  });

  it('gives up on a tool that hangs after its timeout', async () => {
    const hang = {
      ...orderTool,
      name: 'hang',
      url: '{base}/hang',
      bind: {},
      parameters: { type: 'object', properties: {} },
      timeoutMs: 300,
    };
    const started = Date.now();
    const result = await call(source([hang]), 'hang', {});
    expect(result).toEqual({
      ok: false,
      content: 'the call failed: no answer within 300 ms',
    });
    expect(Date.now() - started).toBeLessThan(1900);
  });

  it('stops when the turn is stopped', async () => {
    const hang = {
      ...orderTool,
      name: 'hang',
      url: '{base}/hang',
      bind: {},
      parameters: { type: 'object', properties: {} },
    };
    const stop = new AbortController();
    const pending = source([hang]).call('hang', {}, customer, stop.signal);
    stop.abort();
    await expect(pending).resolves.toEqual({
      ok: false,
      content: 'the call failed: the turn was stopped',
    });
  });

  it('does not follow a redirect, and reports an HTTP error as a failed result', async () => {
    const moved = {
      ...orderTool,
      name: 'moved',
      url: '{base}/moved',
      bind: {},
      parameters: { type: 'object', properties: {} },
    };
    const s = source([moved, orderTool]);
    const redirect = await call(s, 'moved', {});
    expect(redirect).toEqual({
      ok: false,
      content: 'the service answered HTTP 302',
    });
    expect(api.requests.map((r) => r.path)).toContain('/moved');
    expect(api.requests.map((r) => r.path)).not.toContain('/secret');
    const missing = await call(s, 'order_status', { order_id: 'B-9' });
    expect(missing).toEqual({
      ok: false,
      content: 'the service answered HTTP 404: {"error":"no such order"}',
    });
  });

  it('never gives the model the secret of a service that echoes it', async () => {
    const echo = {
      ...orderTool,
      name: 'echo',
      url: '{base}/echo-auth',
      bind: {},
      parameters: { type: 'object', properties: {} },
    };
    const result = await call(source([echo]), 'echo', {});
    expect(result.content).toBe('{"youSent":"Bearer ****"}');
  });

  it('reports an unreachable service as a failed result', async () => {
    const spec: HttpToolSpec = {
      ...(
        source([orderTool]) as unknown as {
          tools: Map<string, { spec: HttpToolSpec }>;
        }
      ).tools.get('order_status')!.spec,
      url: 'http://127.0.0.1:9/orders/{order_id}?customer={customer}',
    };
    const s = new HttpToolSource({
      httpTools: [spec],
      maxRounds: 3,
      timeoutMs: 2000,
      maxResultChars: 1000,
    });
    const result = await call(s, 'order_status', { order_id: 'A-1' });
    expect(result).toEqual({
      ok: false,
      content: 'the call failed: the service could not be reached',
    });
  });
});
