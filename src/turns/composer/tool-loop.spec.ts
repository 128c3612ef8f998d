import { FakeBusinessApi } from '../../../test/fakes/fake-business-api';
import { inboundText } from '../../../test/support/in-memory-stores';
import { turnKit } from '../../../test/support/turn-kit';
import { parseToolsFile } from '../../tools/http/tools-file';
import type { ChatMessage } from '../../llm/llm.provider';

const CUSTOMER = '4915112345678';

describe('A turn with tools', () => {
  const api = new FakeBusinessApi();
  let base: string;
  beforeAll(async () => {
    base = await api.start();
  });
  afterAll(() => api.stop());
  beforeEach(() => {
    api.requests.length = 0;
    api.orders.length = 0;
    api.orders.push(
      { id: 'A-1', customer: CUSTOMER, status: 'shipped', items: ['mug'] },
      { id: 'B-9', customer: '4470000000', status: 'packed', items: ['ring'] },
    );
  });

  function kit(env: Record<string, string> = {}) {
    const { tools, problems } = parseToolsFile(
      JSON.stringify({
        tools: [
          {
            name: 'order_status',
            description: 'Status of one order of this customer',
            parameters: {
              type: 'object',
              properties: { order_id: { type: 'string' } },
              required: ['order_id'],
            },
            method: 'GET',
            url: `${base}/orders/{order_id}?customer={customer}`,
            bind: { customer: 'customer.phone' },
          },
          {
            name: 'slow',
            description: 'Never answers',
            parameters: { type: 'object', properties: {} },
            method: 'GET',
            url: `${base}/hang`,
            timeoutMs: 200,
          },
        ],
      }),
      {},
    );
    expect(problems).toEqual([]);
    return turnKit(env, tools);
  }

  const toolMessages = (prompt: ChatMessage[]) =>
    prompt.filter((m) => m.role === 'tool').map((m) => m.content);

  it("answers from a tool's result: the model reads it, the reply is sent and the call is recorded", async () => {
    const { llm, whatsapp, world, turns, receive } = kit();
    const id = await receive(
      inboundText('wamid.t1', CUSTOMER, 'where is A-1?'),
    );
    llm.callToolsNext({ name: 'order_status', arguments: { order_id: 'A-1' } });
    llm.answerNext('Your order A-1 has shipped.');

    expect(await turns.run(id)).toEqual({ status: 'replied' });

    expect(api.requests.map((r) => r.target)).toEqual([
      `/orders/A-1?customer=${CUSTOMER}`,
    ]);
    expect(llm.options[0]).toEqual({
      tools: ['request_human', 'order_status', 'slow'],
      toolChoice: 'auto',
    });
    expect(JSON.parse(toolMessages(llm.prompts[1])[0] as string)).toMatchObject(
      {
        id: 'A-1',
        status: 'shipped',
      },
    );
    expect(whatsapp.texts).toEqual(['Your order A-1 has shipped.']);
    expect(world.turnSteps).toEqual([
      expect.objectContaining({
        conversationId: id,
        turnKey: expect.stringMatching(new RegExp(`^${id}:`)),
        round: 1,
        name: 'order_status',
        arguments: '{"order_id":"A-1"}',
        ok: true,
        result: expect.stringContaining('"shipped"'),
      }),
    ]);
  });

  it('reports a failing tool to the model as an error, and still answers', async () => {
    const { llm, whatsapp, turns, receive, published } = kit();
    const id = await receive(inboundText('wamid.t2', CUSTOMER, 'status?'));
    llm.callToolsNext(
      { name: 'slow', arguments: {} },
      {
        name: 'order_status',
        arguments: { order_id: 'B-9', customer: '4470000000' },
      },
      { name: 'no_such_tool', arguments: {} },
      { name: 'order_status', arguments: '{not json' },
    );
    llm.answerNext('Sorry, I could not check that.');

    await turns.run(id);

    expect(toolMessages(llm.prompts[1])).toEqual([
      'ERROR: the call failed: no answer within 200 ms',
      expect.stringMatching(/^ERROR: customer cannot be given/),
      'ERROR: there is no tool named no_such_tool',
      'ERROR: the arguments are not valid JSON',
    ]);
    // The model could not look up another customer's order.
    expect(api.requests.map((r) => r.path)).toEqual(['/hang']);
    expect(whatsapp.texts).toEqual(['Sorry, I could not check that.']);
    expect(
      published.filter((e) => e.type === 'tool.called').map((e) => e.ok),
    ).toEqual([false, false, false, false]);
  });

  it('stops a model that loops on tools after TOOL_MAX_ROUNDS rounds and makes it answer', async () => {
    const { llm, whatsapp, turns, receive } = kit({ TOOL_MAX_ROUNDS: '2' });
    const id = await receive(inboundText('wamid.t3', CUSTOMER, 'A-1?'));
    for (let n = 0; n < 5; n++) {
      llm.callToolsNext({
        name: 'order_status',
        arguments: { order_id: 'A-1' },
      });
    }

    await turns.run(id);

    expect(llm.options.map((o) => o.toolChoice)).toEqual([
      'auto',
      'auto',
      'none',
    ]);
    expect(api.requests).toHaveLength(2);
    expect(whatsapp.texts).toHaveLength(1);
    expect(whatsapp.texts[0]).toMatch(/^Echo: /);
  });

  it('hands off when the model calls the handoff tool, calling none of the others', async () => {
    const { llm, world, turns, receive } = kit();
    const id = await receive(
      inboundText('wamid.t4', CUSTOMER, 'a person please'),
    );
    llm.callToolsNext(
      { name: 'order_status', arguments: { order_id: 'A-1' } },
      { name: 'request_human', arguments: { reason: 'asked' } },
    );

    await turns.run(id);

    expect(world.conversation(id).state).toBe('handoff');
    expect(api.requests).toEqual([]);
  });

  it('repeats no tool call that returned when the turn is composed again (a crash before the reply was recorded)', async () => {
    const { llm, world, composer, receive } = kit();
    const id = await receive(
      inboundText('wamid.t5', CUSTOMER, 'where is A-1?'),
    );
    llm.callToolsNext({ name: 'order_status', arguments: { order_id: 'A-1' } });
    llm.answerNext('It shipped.');
    const snapshot = await world.turns.loadTurn(id, 10, new Date(0));
    await composer.compose(snapshot!, `${id}:1`, {});
    expect(api.requests).toHaveLength(1);

    // Run again: the recorded round is replayed, not asked for or called again.
    llm.answerNext('It shipped, as I said.');
    const again = await composer.compose(snapshot!, `${id}:1`, {});

    expect(api.requests).toHaveLength(1);
    expect(llm.prompts).toHaveLength(3);
    expect(toolMessages(llm.prompts[2])).toEqual(toolMessages(llm.prompts[1]));
    expect(again.drafts[0].text).toBe('It shipped, as I said.');
  });

  it('runs a recorded call that never returned, once', async () => {
    const { llm, world, composer, receive } = kit();
    const id = await receive(inboundText('wamid.t6', CUSTOMER, 'A-1?'));
    const snapshot = (await world.turns.loadTurn(id, 10, new Date(0)))!;
    // A crash after the round was recorded, before its call returned.
    const turn = {
      conversationId: id,
      openedBy: snapshot.unanswered[0].id,
      turnKey: 'old-key',
    };
    await world.journal.recordRound(turn, 1, [
      {
        position: 0,
        kind: 'tool',
        callId: 'call_1',
        name: 'order_status',
        arguments: '{"order_id":"A-1"}',
      },
    ]);
    llm.answerNext('Shipped.');

    await composer.compose(snapshot, `${id}:new`, {});

    expect(api.requests).toHaveLength(1);
    expect(llm.prompts).toHaveLength(1);
    expect(world.turnSteps).toEqual([
      expect.objectContaining({ turnKey: `${id}:new`, ok: true }),
    ]);
  });

  it('runs at most 10 calls of one answer; the others get an error result', async () => {
    const { llm, turns, receive } = kit();
    const id = await receive(inboundText('wamid.t7', CUSTOMER, 'all of them'));
    llm.callToolsNext(
      ...Array.from({ length: 12 }, () => ({
        name: 'order_status',
        arguments: { order_id: 'A-1' },
      })),
    );
    llm.answerNext('Done.');

    await turns.run(id);

    expect(api.requests).toHaveLength(10);
    const results = toolMessages(llm.prompts[1]);
    expect(results).toHaveLength(12);
    expect(results.slice(10)).toEqual([
      'ERROR: not run: at most 10 calls are made per answer',
      'ERROR: not run: at most 10 calls are made per answer',
    ]);
  });

  it('sends the fallback and counts a failure when the model answers with nothing to send', async () => {
    const { llm, whatsapp, turns, receive, published, config } = kit();
    const id = await receive(inboundText('wamid.t8', CUSTOMER, 'hello?'));
    llm.callToolsNext({ name: 'delete_database', arguments: { all: true } });
    llm.answerNext('');

    await turns.run(id);

    expect(whatsapp.texts).toEqual([config.llm.fallbackMessage]);
    expect(toolMessages(llm.prompts[1])).toEqual([
      'ERROR: there is no tool named delete_database',
    ]);
    expect(
      published.flatMap((e) =>
        e.type === 'llm.called' && e.failure ? [e.failure] : [],
      ),
    ).toEqual(['empty-answer']);
  });
});
