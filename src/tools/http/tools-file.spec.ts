import { parseToolsFile } from './tools-file';

const orderTool = {
  name: 'order_status',
  description: 'The status of one of the customer’s orders',
  parameters: {
    type: 'object',
    properties: { order_id: { type: 'string' } },
    required: ['order_id'],
  },
  method: 'GET',
  url: 'https://shop.example/api/orders/{order_id}?customer={customer}',
  headers: { Authorization: 'Bearer ${SHOP_TOKEN}' },
  bind: { customer: 'customer.phone' },
};

const parse = (tools: unknown[], env: Record<string, string> = {}) =>
  parseToolsFile(JSON.stringify({ tools }), env);

describe('parseToolsFile', () => {
  it('reads a tool, resolving ${NAME} in header values from the environment', () => {
    const { tools, problems } = parse([orderTool], { SHOP_TOKEN: 's3cret' });
    expect(problems).toEqual([]);
    expect(tools).toEqual([
      expect.objectContaining({
        name: 'order_status',
        method: 'GET',
        headers: { Authorization: 'Bearer s3cret' },
        secretHeaders: ['Authorization'],
        secrets: ['s3cret'],
        bind: { customer: 'customer.phone' },
        timeoutMs: null,
      }),
    ]);
  });

  it('lists every problem at once, never quoting a header value', () => {
    const { tools, problems } = parse([
      { ...orderTool, headers: { Authorization: 'Bearer ${MISSING_TOKEN}' } },
      { ...orderTool, name: 'order_status', method: 'FETCH' },
      { ...orderTool, name: 'bad name!' },
    ]);
    expect(tools).toEqual([]);
    expect(problems).toEqual(
      expect.arrayContaining([
        'tools[1].method: must be one of GET, POST, PUT, PATCH, DELETE',
        expect.stringMatching(/^tools\[2\]\.name: must match pattern/),
      ]),
    );
    const again = parse([
      { ...orderTool, headers: { Authorization: 'Bearer ${MISSING_TOKEN}' } },
    ]);
    expect(again.problems).toEqual([
      'tools[0].headers.Authorization: ${MISSING_TOKEN} is not set',
    ]);
  });

  it('refuses a placeholder in the host, so no argument can choose where the call goes', () => {
    const { problems } = parse([
      {
        ...orderTool,
        headers: {},
        parameters: {
          type: 'object',
          properties: {
            host: { type: 'string' },
            order_id: { type: 'string' },
          },
        },
        url: 'https://{host}/orders/{order_id}?customer={customer}',
      },
    ]);
    expect(problems).toContain(
      'tools[0].url: a {parameter} may only stand in the path or query',
    );
  });

  it('refuses a placeholder that is neither a parameter nor bound', () => {
    const { problems } = parse([
      { ...orderTool, headers: {}, url: 'https://shop.example/{nope}' },
    ]);
    expect(problems).toEqual([
      'tools[0].url: {nope} is neither a parameter nor a bound value',
    ]);
  });

  it('refuses duplicate and reserved names, unknown fields and bad bind sources', () => {
    const { problems } = parse([
      { ...orderTool, headers: {} },
      { ...orderTool, headers: {} },
      { ...orderTool, headers: {}, name: 'request_human' },
      {
        ...orderTool,
        headers: {},
        name: 'x',
        bind: { customer: 'customer.email' },
      },
      { ...orderTool, headers: {}, name: 'y', secret: true },
    ]);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^tools\[3\]\.bind\.customer: must be one of customer\.id, customer\.phone, business\.number/,
        ),
        'tools[4]: unknown field "secret"',
      ]),
    );
    const names = parse([
      { ...orderTool, headers: {} },
      { ...orderTool, headers: {} },
      { ...orderTool, headers: {}, name: 'request_human' },
    ]).problems;
    expect(names).toEqual([
      'tools[1].name: "order_status" is already taken',
      'tools[2].name: "request_human" is already taken',
    ]);
  });

  it('refuses parameters that are not a valid JSON Schema, and text that is not JSON', () => {
    expect(
      parse([
        {
          ...orderTool,
          headers: {},
          parameters: {
            type: 'object',
            properties: { order_id: { type: 'strin' } },
          },
        },
      ]).problems[0],
    ).toMatch(/^tools\[0\]\.parameters: not a valid JSON Schema/);
    expect(parseToolsFile('{"tools": [', {}).problems[0]).toMatch(
      /^not valid JSON/,
    );
  });

  it('takes a method in any case, and a tool without parameters', () => {
    const { tools, problems } = parse([
      {
        name: 'opening_hours',
        description: 'Today’s opening hours',
        method: 'get',
        url: 'https://shop.example/api/hours',
      },
    ]);
    expect(problems).toEqual([]);
    expect(tools[0]).toMatchObject({
      method: 'GET',
      parameters: { type: 'object', properties: {} },
    });
  });
});
