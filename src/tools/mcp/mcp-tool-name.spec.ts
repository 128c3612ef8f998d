import { MODEL_TOOL_NAME, modelToolName } from './mcp-tool-name';

describe('modelToolName', () => {
  it('prefixes the server name and keeps a valid tool name as it is', () => {
    expect(modelToolName('crm', 'lookup_order', new Set())).toBe(
      'crm__lookup_order',
    );
  });

  it('replaces characters OpenAI does not accept with _', () => {
    expect(modelToolName('mcp1', 'orders.find by-id/v2', new Set())).toBe(
      'mcp1__orders_find_by-id_v2',
    );
  });

  it('cuts long names to 64 characters', () => {
    const name = modelToolName('mcp1', 'a'.repeat(100), new Set());
    expect(name).toHaveLength(64);
    expect(name).toMatch(MODEL_TOOL_NAME);
  });

  it('numbers a name that another tool of the server already took', () => {
    const taken = new Set(['mcp1__a_b']);
    expect(modelToolName('mcp1', 'a.b', taken)).toBe('mcp1__a_b_2');
    expect(
      modelToolName('mcp1', 'a.b', new Set([...taken, 'mcp1__a_b_2'])),
    ).toBe('mcp1__a_b_3');
    const long = 'x'.repeat(100);
    const first = modelToolName('mcp1', long, new Set());
    const second = modelToolName('mcp1', long + 'y', new Set([first]));
    expect(second).toHaveLength(64);
    expect(second.endsWith('_2')).toBe(true);
  });
});
