import { DatabaseConnection } from '../database/database-connection';
import {
  at,
  batch,
  inbound,
  MINUTE,
  status,
  t0,
  TIMEOUT,
  unansweredIn,
  useStores,
} from '../database/store-contract.kit';

/**
 * The IngestStore contract, run on PGlite (real Postgres in WASM) and on the
 * PostgreSQL server in the integration run.
 */
export function ingestStoreContract(open: () => Promise<DatabaseConnection>) {
  const stores = useStores(open);

  it('stores a message once when Meta re-delivers it', async () => {
    const message = inbound();
    const first = await stores.ingest.ingest(
      batch({ messages: [message] }),
      t0,
      TIMEOUT,
    );
    const again = await stores.ingest.ingest(
      batch({ messages: [message, message] }),
      at(1000),
      TIMEOUT,
    );
    expect(first.stored).toBe(1);
    expect(first.conversationsToAnswer).toHaveLength(1);
    expect(first.messagesToAnswer).toEqual([
      { wamid: message.wamid, conversationId: first.conversationsToAnswer[0] },
    ]);
    expect(again).toEqual({
      stored: 0,
      duplicates: 2,
      conversationsToAnswer: [],
      messagesToAnswer: [],
    });
    const unanswered = await unansweredIn(
      stores.connection,
      first.conversationsToAnswer[0],
    );
    expect(unanswered.map((m) => m.wamid)).toEqual([message.wamid]);
  });

  it('stores webhooks that arrive together in one transaction, each answered with its own messages', async () => {
    const a = inbound({ customerWaId: '4970000001' });
    const b = inbound({ customerWaId: '4970000002' });
    const c = inbound({ customerWaId: '4970000003' });
    const write = jest.spyOn(stores.connection, 'atomically');
    try {
      const [first, second, third] = await Promise.all([
        stores.ingest.ingest(batch({ messages: [a] }), t0, TIMEOUT),
        stores.ingest.ingest(batch({ messages: [b, c] }), t0, TIMEOUT),
        // The same message again, in the same group.
        stores.ingest.ingest(batch({ messages: [a] }), t0, TIMEOUT),
      ]);
      expect(write).toHaveBeenCalledTimes(1);
      expect(first.messagesToAnswer.map((m) => m.wamid)).toEqual([a.wamid]);
      expect(first).toMatchObject({ stored: 1, duplicates: 0 });
      expect(second.messagesToAnswer.map((m) => m.wamid)).toEqual([
        b.wamid,
        c.wamid,
      ]);
      expect(second).toMatchObject({ stored: 2, duplicates: 0 });
      expect(second.conversationsToAnswer).toHaveLength(2);
      expect(third).toEqual({
        stored: 0,
        duplicates: 1,
        conversationsToAnswer: [],
        messagesToAnswer: [],
      });
    } finally {
      write.mockRestore();
    }
  });

  it('keeps one open conversation per customer and saves the profile name', async () => {
    const a = await stores.ingest.ingest(
      batch({ messages: [inbound({ customerName: null })] }),
      t0,
      TIMEOUT,
    );
    const b = await stores.ingest.ingest(
      batch({ messages: [inbound({ customerName: 'Sheena N.' })] }),
      at(MINUTE),
      TIMEOUT,
    );
    expect(b.conversationsToAnswer).toEqual(a.conversationsToAnswer);
    const conversation = await stores.conversations.getConversation(
      a.conversationsToAnswer[0],
    );
    expect(conversation).toMatchObject({
      customerWaId: '16505551234',
      customerName: 'Sheena N.',
      state: 'active',
    });
  });

  it('isolates customers in their own conversations', async () => {
    const result = await stores.ingest.ingest(
      batch({
        messages: [
          inbound({ customerWaId: '111111111' }),
          inbound({ customerWaId: '222222222' }),
        ],
      }),
      t0,
      TIMEOUT,
    );
    expect(result.conversationsToAnswer).toHaveLength(2);
  });

  it('opens a new conversation when the customer writes after the session timeout', async () => {
    const first = await stores.ingest.ingest(
      batch({ messages: [inbound()] }),
      t0,
      TIMEOUT,
    );
    const later = await stores.ingest.ingest(
      batch({ messages: [inbound()] }),
      at(TIMEOUT + 1),
      TIMEOUT,
    );
    expect(later.conversationsToAnswer[0]).not.toEqual(
      first.conversationsToAnswer[0],
    );
    expect(
      (
        await stores.conversations.getConversation(
          first.conversationsToAnswer[0],
        )
      )?.state,
    ).toBe('expired');
    expect(
      await stores.conversations.getRecentMessages(
        later.conversationsToAnswer[0],
        10,
      ),
    ).toHaveLength(1);
  });

  it('settles kinds that get no reply at once and does not schedule them', async () => {
    const result = await stores.ingest.ingest(
      batch({
        messages: [inbound({ kind: 'reaction', text: null, reply: 'none' })],
      }),
      t0,
      TIMEOUT,
    );
    expect(result).toEqual({
      stored: 1,
      duplicates: 0,
      conversationsToAnswer: [],
      messagesToAnswer: [],
    });
    expect(await stores.turns.findConversationsWithPendingWork()).toEqual([]);
  });

  it('settles a message for a business number the app does not serve at once, schedules no turn, and leaves it out of later context', async () => {
    const elsewhere = inbound({
      text: 'to the other number',
      reply: 'not-served',
    });
    const result = await stores.ingest.ingest(
      batch({ messages: [elsewhere] }),
      t0,
      TIMEOUT,
    );
    expect(result).toMatchObject({ stored: 1, conversationsToAnswer: [] });
    expect(await stores.turns.findConversationsWithPendingWork()).toEqual([]);

    const later = await stores.ingest.ingest(
      batch({
        messages: [inbound({ text: 'to our number', timestamp: at(1000) })],
      }),
      at(1000),
      TIMEOUT,
    );
    const [conversationId] = later.conversationsToAnswer;
    const turn = await stores.turns.loadTurn(conversationId, 10, t0);
    expect(turn?.unanswered.map((m) => m.text)).toEqual(['to our number']);
    expect(turn?.history).toEqual([]);
    const stored = await stores.conversations.getRecentMessages(
      conversationId,
      10,
    );
    expect(stored.map((m) => [m.text, m.replyAction])).toEqual([
      ['to the other number', 'not-served'],
      ['to our number', 'llm'],
    ]);
  });

  it('applies statuses monotonically and keeps failed final with its error', async () => {
    const {
      conversationsToAnswer: [id],
    } = await stores.ingest.ingest(
      batch({ messages: [inbound()] }),
      t0,
      TIMEOUT,
    );
    const [message] = await unansweredIn(stores.connection, id);
    const [a, b] = (await stores.turns.recordReply(
      id,
      [message.id],
      'turn',
      [
        { author: 'bot', text: 'a' },
        { author: 'bot', text: 'b' },
      ],
      t0,
    ))!;
    await stores.outbox.markSent(a.id, 'wamid.out-a', t0);
    await stores.outbox.markSent(b.id, 'wamid.out-b', t0);
    await stores.ingest.ingest(
      batch({
        statuses: [
          status('wamid.out-a', 'read'),
          status('wamid.out-a', 'delivered'),
        ],
      }),
      t0,
      TIMEOUT,
    );
    const error = {
      code: 131047,
      title: 'Re-engagement message',
      message: null,
      details: null,
    };
    await stores.ingest.ingest(
      batch({ statuses: [status('wamid.out-b', 'failed', { error })] }),
      t0,
      TIMEOUT,
    );
    await stores.ingest.ingest(
      batch({ statuses: [status('wamid.out-b', 'delivered')] }),
      t0,
      TIMEOUT,
    );
    const [ma, mb] = await stores.conversations.getRecentMessages(id, 10, [
      message.id,
    ]);
    expect(ma).toMatchObject({ wamid: 'wamid.out-a', status: 'read' });
    // failed messages are not context
    expect(mb).toBeUndefined();
    const all = await stores.connection.db.execute(
      "select wamid, status, error from messages where wamid = 'wamid.out-b'" as never,
    );
    expect((all as unknown as { rows: unknown[] }).rows).toEqual([
      { wamid: 'wamid.out-b', status: 'failed', error },
    ]);
  });

  it('stores account errors from value.errors', async () => {
    await stores.ingest.ingest(
      batch({
        errors: [
          {
            phoneNumberId: '1',
            code: 130429,
            title: 'Rate limit hit',
            message: null,
            details: null,
            raw: {},
          },
        ],
      }),
      t0,
      TIMEOUT,
    );
    const result = await stores.connection.db.execute(
      'select code, title from webhook_errors' as never,
    );
    expect((result as unknown as { rows: unknown[] }).rows).toEqual([
      { code: 130429, title: 'Rate limit hit' },
    ]);
  });
}
