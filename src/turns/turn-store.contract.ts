import { sql } from 'drizzle-orm';
import { DatabaseConnection } from '../database/database-connection';
import { rowsOf } from '../database/executor';
import { DrizzleToolJournal } from './drizzle-tool.journal';
import {
  at,
  batch,
  conversationsOf,
  inbound,
  MINUTE,
  statementsOf,
  t0,
  TIMEOUT,
  unansweredIn,
  useStores,
} from '../database/store-contract.kit';

/**
 * The TurnStore contract, run on PGlite (real Postgres in WASM) and on the
 * PostgreSQL server in the integration run.
 */
export function turnStoreContract(open: () => Promise<DatabaseConnection>) {
  const stores = useStores(open);

  it('records a reply atomically and refuses to answer the same messages twice', async () => {
    const {
      conversationsToAnswer: [id],
    } = await stores.ingest.ingest(
      batch({ messages: [inbound(), inbound()] }),
      t0,
      TIMEOUT,
    );
    const pending = await unansweredIn(stores.connection, id);
    const ids = pending.map((m) => m.id);
    const drafts = [
      {
        author: 'bot' as const,
        text: 'part one',
        llm: { model: 'm', promptTokens: 10, completionTokens: 5 },
      },
      { author: 'bot' as const, text: 'part two' },
    ];
    const recorded = await stores.turns.recordReply(
      id,
      ids,
      'turn-1',
      drafts,
      at(1000),
    );
    expect(recorded?.map((m) => [m.text, m.status, m.chunkIndex])).toEqual([
      ['part one', 'sending', 0],
      ['part two', 'sending', 1],
    ]);
    expect(
      await stores.turns.recordReply(id, ids, 'turn-2', drafts, at(2000)),
    ).toBeNull();
    expect(await unansweredIn(stores.connection, id)).toEqual([]);
    expect((await stores.outbox.getUnsent(id)).map((m) => m.text)).toEqual([
      'part one',
      'part two',
    ]);
    // Claimed by the turn that recorded it: no one else's work until the
    // claim goes stale.
    expect(await stores.turns.findConversationsWithPendingWork()).toEqual([]);
    await stores.outbox.releaseStaleSends(at(5000));
    expect(await stores.turns.findConversationsWithPendingWork()).toEqual([id]);
  });

  it('stores what a turn understood of inbound media, reads it back, and keeps understood captionless media in the context', async () => {
    const customer = '14155550177';
    const voice = inbound({
      customerWaId: customer,
      kind: 'audio',
      text: null,
      mediaId: 'media-voice',
      raw: { type: 'audio', audio: { id: 'media-voice' } },
    });
    const doc = inbound({
      customerWaId: customer,
      kind: 'document',
      text: null,
      mediaId: 'media-doc',
      raw: { type: 'document', document: { filename: 'terms.pdf' } },
    });
    const {
      conversationsToAnswer: [id],
    } = await stores.ingest.ingest(
      batch({ messages: [voice, doc] }),
      t0,
      TIMEOUT,
    );
    const [v, d] = await unansweredIn(stores.connection, id);

    await stores.turns.saveMediaResults([
      { messageId: v.id, status: 'understood', text: 'hello', failure: null },
      {
        messageId: d.id,
        status: 'failed',
        text: null,
        failure: 'wrong-type: not a pdf',
      },
    ]);
    const before = await stores.turns.loadTurn(id, 10, t0);
    expect(
      before?.unanswered.map((m) => [
        m.mediaStatus,
        m.mediaText,
        m.mediaFailure,
        m.mediaFilename,
      ]),
    ).toEqual([
      ['understood', 'hello', null, null],
      ['failed', null, 'wrong-type: not a pdf', 'terms.pdf'],
    ]);

    await stores.turns.recordReply(id, [v.id, d.id], 'turn-media', [], at(1));
    const after = await stores.turns.loadTurn(id, 10, t0);
    // The transcript is context; the failed document has nothing to read.
    expect(after?.history.map((m) => m.mediaText)).toEqual(['hello']);
  });

  it('counts the turns that replied to a customer recently', async () => {
    const {
      conversationsToAnswer: [id],
    } = await stores.ingest.ingest(
      batch({ messages: [inbound(), inbound()] }),
      t0,
      TIMEOUT,
    );
    const [m1, m2] = await unansweredIn(stores.connection, id);
    await stores.turns.recordReply(
      id,
      [m1.id],
      'turn-a',
      [
        { author: 'bot', text: 'x' },
        { author: 'bot', text: 'y' },
      ],
      t0,
    );
    await stores.turns.recordReply(
      id,
      [m2.id],
      'turn-b',
      [{ author: 'fallback', text: 'z' }],
      t0,
    );
    const since = new Date(Date.now() - MINUTE);
    expect(
      (await stores.turns.loadTurn(id, 0, since))?.recentTurnTimes,
    ).toHaveLength(2);
    // Another customer's turns do not count.
    const other = await stores.conversations.openConversation(
      '19999999999',
      t0,
      TIMEOUT,
    );
    expect(
      (await stores.turns.loadTurn(other.id, 0, since))?.recentTurnTimes,
    ).toHaveLength(0);
  });

  it('reads what a turn needs in one go: conversation, unsent, unanswered, context and recent turns', async () => {
    const customer = '14155550100';
    const first = [1, 2].map((i) =>
      inbound({
        customerWaId: customer,
        timestamp: at(i * 1000),
        text: `q${i}`,
      }),
    );
    const {
      conversationsToAnswer: [id],
    } = await stores.ingest.ingest(batch({ messages: first }), t0, TIMEOUT);
    const answered = await unansweredIn(stores.connection, id);
    const reply = await stores.turns.recordReply(
      id,
      answered.map((m) => m.id),
      'turn-1',
      [
        {
          author: 'bot',
          text: 'a1',
          llm: { model: 'm', promptTokens: 3, completionTokens: 2 },
        },
      ],
      at(3000),
    );
    await stores.outbox.markSent(reply![0].id, 'wamid.out-1', at(3500));
    await stores.outbox.recordOperatorMessages(
      id,
      'op-1',
      [{ author: 'operator', text: 'from a person' }],
      at(4000),
    );
    await stores.ingest.ingest(
      batch({
        messages: [
          inbound({ customerWaId: customer, timestamp: at(5000), text: 'q3' }),
          inbound({ customerWaId: customer, timestamp: at(6000), text: 'q4' }),
        ],
      }),
      at(5000),
      TIMEOUT,
    );

    // A stored error comes back as the object it is.
    await stores.connection.db.execute(
      `update messages set error = '{"code": 131000, "title": "t", "message": "m", "details": null}' where text = 'q4'` as never,
    );

    const turn = await stores.turns.loadTurn(
      id,
      3,
      new Date(Date.now() - MINUTE),
    );
    // The same messages, mapped the same, as the separate reads give them.
    const unansweredNow = await unansweredIn(stores.connection, id);
    expect(turn?.unanswered).toEqual(unansweredNow);
    expect(turn?.unsent).toEqual(await stores.outbox.getUnsent(id));
    expect(turn?.history).toEqual(
      await stores.conversations.getRecentMessages(
        id,
        3,
        unansweredNow.map((m) => m.id),
      ),
    );
    expect(turn?.unanswered[1].error).toEqual({
      code: 131000,
      title: 't',
      message: 'm',
      details: null,
    });
    expect(turn?.conversation).toMatchObject({
      id,
      customerWaId: customer,
      customerName: 'Sheena',
      state: 'active',
      handoffUntil: null,
    });
    expect(turn?.conversation.startedAt).toEqual(t0);
    expect(turn?.unanswered.map((m) => m.text)).toEqual(['q3', 'q4']);
    expect(turn?.unanswered[0]).toMatchObject({
      direction: 'inbound',
      author: 'customer',
      status: 'received',
      replyAction: 'llm',
      answeredAt: null,
      sentAt: at(5000),
    });
    expect(turn?.unsent.map((m) => [m.text, m.status])).toEqual([
      ['from a person', 'pending'],
    ]);
    // The unanswered messages are not context; the last three others are.
    expect(turn?.history.map((m) => m.text)).toEqual([
      'q2',
      'a1',
      'from a person',
    ]);
    expect(turn?.history[1]).toMatchObject({
      wamid: 'wamid.out-1',
      status: 'sent',
      llmModel: 'm',
      promptTokens: 3,
      completionTokens: 2,
      acceptedAt: at(3500),
    });
    expect(turn?.history[0].answeredAt).toEqual(at(3000));
    // One bot turn; the operator's message is not a turn.
    expect(turn?.recentTurnTimes).toHaveLength(1);
    expect(turn?.recentTurnTimes[0]).toBeInstanceOf(Date);
    expect(
      (await stores.turns.loadTurn(id, 3, new Date(Date.now() + MINUTE)))
        ?.recentTurnTimes,
    ).toEqual([]);
    expect(await stores.turns.loadTurn(id, 0, t0)).toMatchObject({
      history: [],
    });
    expect(
      await stores.turns.loadTurn(
        '00000000-0000-4000-8000-000000000000',
        3,
        t0,
      ),
    ).toBeNull();
  });

  it('records no reply, and settles nothing, when another turn answered one of its messages', async () => {
    const {
      conversationsToAnswer: [id],
    } = await stores.ingest.ingest(
      batch({ messages: [inbound(), inbound()] }),
      t0,
      TIMEOUT,
    );
    const [m1, m2] = await unansweredIn(stores.connection, id);
    expect(
      await stores.turns.recordReply(
        id,
        [m1.id],
        'turn-a',
        [{ author: 'bot', text: 'x' }],
        t0,
      ),
    ).toHaveLength(1);
    expect(
      await stores.turns.recordReply(
        id,
        [m1.id, m2.id],
        'turn-b',
        [{ author: 'bot', text: 'y' }],
        at(1000),
      ),
    ).toBeNull();
    expect(
      (await unansweredIn(stores.connection, id)).map((m) => m.id),
    ).toEqual([m2.id]);
    expect((await stores.outbox.getUnsent(id)).map((m) => m.text)).toEqual([
      'x',
    ]);
  });

  it('records no bot reply once an operator has taken the conversation over', async () => {
    const {
      conversationsToAnswer: [id],
    } = await stores.ingest.ingest(
      batch({ messages: [inbound()] }),
      t0,
      TIMEOUT,
    );
    const unanswered = await unansweredIn(stores.connection, id);
    await stores.conversations.changeState(
      id,
      { state: 'handoff', actor: 'operator', reason: null },
      at(500),
    );
    expect(
      await stores.turns.recordReply(
        id,
        unanswered.map((m) => m.id),
        'turn-1',
        [{ author: 'bot', text: 'too late' }],
        at(1000),
      ),
    ).toBeNull();
    expect(await unansweredIn(stores.connection, id)).toHaveLength(1);
    expect(await stores.outbox.getUnsent(id)).toEqual([]);
    expect(
      (await stores.conversations.getConversation(id))?.lastActivityAt,
    ).toEqual(at(500));
  });

  it('records a reply with no chunks as answered', async () => {
    const {
      conversationsToAnswer: [id],
    } = await stores.ingest.ingest(
      batch({ messages: [inbound()] }),
      t0,
      TIMEOUT,
    );
    const unanswered = await unansweredIn(stores.connection, id);
    expect(
      await stores.turns.recordReply(
        id,
        unanswered.map((m) => m.id),
        'turn-1',
        [],
        at(1000),
      ),
    ).toEqual([]);
    expect(await unansweredIn(stores.connection, id)).toEqual([]);
    expect(
      (await stores.conversations.getConversation(id))?.lastActivityAt,
    ).toEqual(at(1000));
  });

  it('records a reply that hands the conversation over once, and hands it over, when given the same answered message twice', async () => {
    const {
      conversationsToAnswer: [id],
    } = await stores.ingest.ingest(
      batch({ messages: [inbound()] }),
      t0,
      TIMEOUT,
    );
    const [message] = await unansweredIn(stores.connection, id);
    const recorded = await stores.turns.recordReply(
      id,
      [message.id, message.id],
      'turn-handoff',
      [{ author: 'bot', text: 'A person will answer you here.' }],
      at(1000),
      { state: 'handoff', actor: 'system', reason: 'asked for a person' },
    );
    expect(recorded?.map((m) => [m.text, m.status, m.replyToId])).toEqual([
      ['A person will answer you here.', 'sending', message.id],
    ]);
    expect(await unansweredIn(stores.connection, id)).toEqual([]);
    expect((await stores.outbox.getUnsent(id)).map((m) => m.text)).toEqual([
      'A person will answer you here.',
    ]);
    expect(await stores.conversations.getConversation(id)).toMatchObject({
      state: 'handoff',
      stateReason: 'asked for a person',
      stateChangedAt: at(1000),
      lastActivityAt: at(1000),
    });
    const events = await stores.connection.db.execute(
      'select type, actor, reason from conversation_events' as never,
    );
    expect((events as unknown as { rows: unknown[] }).rows).toEqual([
      { type: 'handoff', actor: 'system', reason: 'asked for a person' },
    ]);
  });

  it('records no reply that hands the conversation over, and leaves its state alone, when another turn answered one of its messages first', async () => {
    const {
      conversationsToAnswer: [id],
    } = await stores.ingest.ingest(
      batch({ messages: [inbound(), inbound()] }),
      t0,
      TIMEOUT,
    );
    const [m1, m2] = await unansweredIn(stores.connection, id);
    expect(
      await stores.turns.recordReply(
        id,
        [m1.id],
        'turn-a',
        [{ author: 'bot', text: 'x' }],
        t0,
      ),
    ).toHaveLength(1);
    expect(
      await stores.turns.recordReply(
        id,
        [m1.id, m2.id],
        'turn-b',
        [{ author: 'bot', text: 'A person will answer you here.' }],
        at(1000),
        { state: 'handoff', actor: 'system', reason: 'asked for a person' },
      ),
    ).toBeNull();
    expect(
      (await unansweredIn(stores.connection, id)).map((m) => m.id),
    ).toEqual([m2.id]);
    expect((await stores.outbox.getUnsent(id)).map((m) => m.text)).toEqual([
      'x',
    ]);
    expect(await stores.conversations.getConversation(id)).toMatchObject({
      state: 'active',
      stateReason: null,
      lastActivityAt: t0,
    });
    const events = await stores.connection.db.execute(
      'select type from conversation_events' as never,
    );
    expect((events as unknown as { rows: unknown[] }).rows).toEqual([]);
  });

  it('reads the turns of several conversations at once in one statement, each its own', async () => {
    const { ids } = await conversationsOf(stores, '4911', '4912');
    const missing = '00000000-0000-4000-8000-000000000000';
    const { result, statements } = await statementsOf(stores.connection, () =>
      Promise.all([
        stores.turns.loadTurn(ids[0], 3, t0),
        stores.turns.loadTurn(missing, 3, t0),
        stores.turns.loadTurn(ids[1], 0, t0),
        stores.turns.loadTurn(ids[0], 3, t0),
      ]),
    );
    expect(statements).toBe(1);
    const [a, none, b, again] = result;
    expect(none).toBeNull();
    expect(a?.conversation.customerWaId).toBe('4911');
    expect(a?.unanswered).toEqual(
      await unansweredIn(stores.connection, ids[0]),
    );
    expect(again).toEqual(a);
    expect(b?.conversation.customerWaId).toBe('4912');
    expect(b?.unanswered).toEqual(
      await unansweredIn(stores.connection, ids[1]),
    );
  });

  it('records the replies of turns running at once in one statement, each with its own chunks', async () => {
    const { ids, unanswered } = await conversationsOf(
      stores,
      '4921',
      '4922',
      '4923',
    );
    // The third conversation's message is answered before its turn records.
    await stores.turns.recordReply(
      ids[2],
      unanswered[2],
      'earlier',
      [{ author: 'bot', text: 'earlier' }],
      t0,
    );
    const { result, statements } = await statementsOf(stores.connection, () =>
      Promise.all([
        stores.turns.recordReply(
          ids[0],
          unanswered[0],
          'turn-a',
          [
            { author: 'bot', text: 'a0' },
            { author: 'bot', text: 'a1' },
          ],
          at(1000),
        ),
        stores.turns.recordReply(
          ids[1],
          unanswered[1],
          'turn-b',
          [{ author: 'fallback', text: 'b0' }],
          at(2000),
        ),
        stores.turns.recordReply(
          ids[2],
          unanswered[2],
          'late',
          [{ author: 'bot', text: 'too late' }],
          at(3000),
        ),
      ]),
    );
    expect(statements).toBe(1);
    const [a, b, late] = result;
    expect(
      a?.map((m) => [m.conversationId, m.text, m.chunkIndex, m.turnKey]),
    ).toEqual([
      [ids[0], 'a0', 0, 'turn-a'],
      [ids[0], 'a1', 1, 'turn-a'],
    ]);
    expect(b?.map((m) => [m.conversationId, m.text, m.author])).toEqual([
      [ids[1], 'b0', 'fallback'],
    ]);
    expect(b?.[0]).toMatchObject({ replyToId: unanswered[1][0] });
    expect(late).toBeNull();
    expect(await unansweredIn(stores.connection, ids[0])).toEqual([]);
    expect(await unansweredIn(stores.connection, ids[1])).toEqual([]);
    expect((await stores.outbox.getUnsent(ids[2])).map((m) => m.text)).toEqual([
      'earlier',
    ]);
    // Each conversation got its own turn's time.
    expect(
      (await stores.conversations.getConversation(ids[0]))?.lastActivityAt,
    ).toEqual(at(1000));
    expect(
      (await stores.conversations.getConversation(ids[1]))?.lastActivityAt,
    ).toEqual(at(2000));
    expect(
      (await stores.conversations.getConversation(ids[2]))?.lastActivityAt,
    ).toEqual(t0);
  });

  it('lets only one of two concurrent turns record a reply to the same messages', async () => {
    for (let round = 0; round < 5; round++) {
      const {
        conversationsToAnswer: [id],
      } = await stores.ingest.ingest(
        batch({
          messages: [
            inbound({ customerWaId: `4930${round}` }),
            inbound({ customerWaId: `4930${round}` }),
          ],
        }),
        t0,
        TIMEOUT,
      );
      const ids = (await unansweredIn(stores.connection, id)).map((m) => m.id);
      const results = await Promise.all([
        stores.turns.recordReply(
          id,
          ids,
          `a-${round}`,
          [{ author: 'bot', text: 'a' }],
          t0,
        ),
        stores.turns.recordReply(
          id,
          ids.slice(1),
          `b-${round}`,
          [{ author: 'bot', text: 'b' }],
          t0,
        ),
      ]);
      expect(results.filter((r) => r !== null)).toHaveLength(1);
      // The winner settled exactly its own messages; the loser none.
      const left = results[0] ? [] : [ids[0]];
      expect(
        (await unansweredIn(stores.connection, id)).map((m) => m.id),
      ).toEqual(left);
      expect(await stores.outbox.getUnsent(id)).toHaveLength(1);
    }
  });

  describe('the tool journal (turn_steps)', () => {
    const call = (position: number, name = 'order_status') => ({
      position,
      kind: 'tool' as const,
      callId: `call_${position}`,
      name,
      arguments: `{"order_id":"A-${position}"}`,
    });
    const openTurn = async (customerWaId = '4915100000001') => {
      const {
        conversationsToAnswer: [id],
      } = await stores.ingest.ingest(
        batch({ messages: [inbound({ customerWaId })] }),
        t0,
        TIMEOUT,
      );
      const [first] = await unansweredIn(stores.connection, id);
      return { conversationId: id, openedBy: first.id, turnKey: `${id}:1` };
    };

    it('keeps a round as first recorded, and each result once', async () => {
      const journal = new DrizzleToolJournal(stores.connection);
      const turn = await openTurn();
      await journal.recordRound(turn, 1, [call(0), call(1)]);
      // A second run asking for other calls in the same round changes nothing.
      const again = await journal.recordRound(turn, 1, [call(0, 'other')]);
      expect(again.map((s) => [s.position, s.name, s.result])).toEqual([
        [0, 'order_status', null],
        [1, 'order_status', null],
      ]);
      await journal.recordResult(turn, 1, 1, {
        ok: true,
        content: 'shipped',
        durationMs: 12.4,
      });
      await journal.recordResult(turn, 1, 1, {
        ok: false,
        content: 'late duplicate',
        durationMs: 1,
      });
      const steps = await journal.open({
        ...turn,
        turnKey: `${turn.conversationId}:2`,
      });
      expect(steps).toEqual([
        {
          round: 1,
          position: 0,
          kind: 'tool',
          callId: 'call_0',
          name: 'order_status',
          arguments: '{"order_id":"A-0"}',
          result: null,
          ok: null,
          durationMs: null,
        },
        {
          round: 1,
          position: 1,
          kind: 'tool',
          callId: 'call_1',
          name: 'order_status',
          arguments: '{"order_id":"A-1"}',
          result: 'shipped',
          ok: true,
          durationMs: 12,
        },
      ]);
      // Re-tagged with the newer turn key.
      const keys = await stores.connection.db.execute(
        sql`select distinct turn_key from turn_steps`,
      );
      expect(rowsOf<{ turn_key: string }>(keys)).toEqual([
        { turn_key: `${turn.conversationId}:2` },
      ]);
    });

    it('keeps the steps of different turns apart', async () => {
      const journal = new DrizzleToolJournal(stores.connection);
      const one = await openTurn();
      const two = await openTurn('4915100000002');
      await journal.recordRound(one, 1, [call(0)]);
      expect(await journal.open(two)).toEqual([]);
      expect(await journal.open(one)).toHaveLength(1);
    });
  });
}
