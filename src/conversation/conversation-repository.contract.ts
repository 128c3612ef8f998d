import { DatabaseConnection } from '../database/database-connection';
import {
  InboundMessageInput,
  IngestBatch,
  StatusUpdateInput,
} from './conversation.types';
import { DrizzleConversationRepository } from './drizzle-conversation.repository';

const MINUTE = 60_000;
const TIMEOUT = 30 * MINUTE;
const t0 = new Date('2026-11-25T10:00:00Z');
const at = (ms: number) => new Date(t0.getTime() + ms);

let seq = 0;
const inbound = (
  over: Partial<InboundMessageInput> = {},
): InboundMessageInput => ({
  wamid: `wamid.in-${++seq}`,
  customerWaId: '16505551234',
  customerName: 'Sheena',
  timestamp: t0,
  kind: 'text',
  text: `message ${seq}`,
  mediaId: null,
  reply: 'llm',
  raw: { id: seq },
  ...over,
});
const batch = (over: Partial<IngestBatch>): IngestBatch => ({
  messages: [],
  statuses: [],
  errors: [],
  ...over,
});
const status = (
  wamid: string,
  s: string,
  over: Partial<StatusUpdateInput> = {},
): StatusUpdateInput => ({
  wamid,
  status: s,
  timestamp: t0,
  error: null,
  raw: {},
  ...over,
});

/**
 * The repository contract, run on PGlite here (real Postgres in WASM) and on
 * the PostgreSQL server in the integration run.
 */
export function conversationRepositoryContract(
  open: () => Promise<DatabaseConnection>,
) {
  let connection: DatabaseConnection;
  let repo: DrizzleConversationRepository;

  beforeAll(async () => {
    connection = await open();
  });
  afterAll(async () => {
    await connection.close();
  });
  beforeEach(async () => {
    repo = new DrizzleConversationRepository(connection);
    await connection.db.execute(
      // Each test starts from empty tables.
      'truncate messages, conversation_events, conversations, status_events, webhook_errors restart identity' as never,
    );
  });

  it('stores a message once when Meta re-delivers it', async () => {
    const message = inbound();
    const first = await repo.ingest(
      batch({ messages: [message] }),
      t0,
      TIMEOUT,
    );
    const again = await repo.ingest(
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
    const unanswered = await repo.getUnanswered(first.conversationsToAnswer[0]);
    expect(unanswered.map((m) => m.wamid)).toEqual([message.wamid]);
  });

  it('keeps one open conversation per customer and saves the profile name', async () => {
    const a = await repo.ingest(
      batch({ messages: [inbound({ customerName: null })] }),
      t0,
      TIMEOUT,
    );
    const b = await repo.ingest(
      batch({ messages: [inbound({ customerName: 'Sheena N.' })] }),
      at(MINUTE),
      TIMEOUT,
    );
    expect(b.conversationsToAnswer).toEqual(a.conversationsToAnswer);
    const conversation = await repo.getConversation(a.conversationsToAnswer[0]);
    expect(conversation).toMatchObject({
      customerWaId: '16505551234',
      customerName: 'Sheena N.',
      state: 'active',
    });
  });

  it('isolates customers in their own conversations', async () => {
    const result = await repo.ingest(
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
    const first = await repo.ingest(
      batch({ messages: [inbound()] }),
      t0,
      TIMEOUT,
    );
    const later = await repo.ingest(
      batch({ messages: [inbound()] }),
      at(TIMEOUT + 1),
      TIMEOUT,
    );
    expect(later.conversationsToAnswer[0]).not.toEqual(
      first.conversationsToAnswer[0],
    );
    expect(
      (await repo.getConversation(first.conversationsToAnswer[0]))?.state,
    ).toBe('expired');
    expect(
      await repo.getRecentMessages(later.conversationsToAnswer[0], 10),
    ).toHaveLength(1);
  });

  it('expires idle conversations in the background job', async () => {
    const {
      conversationsToAnswer: [id],
    } = await repo.ingest(batch({ messages: [inbound()] }), t0, TIMEOUT);
    expect(await repo.expireIdle(at(-1), at(1))).toBe(0);
    expect(await repo.expireIdle(at(1), at(1))).toBe(1);
    expect((await repo.getConversation(id))?.state).toBe('expired');
  });

  it('settles kinds that get no reply at once and does not schedule them', async () => {
    const result = await repo.ingest(
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
    expect(await repo.findConversationsWithPendingWork()).toEqual([]);
  });

  it('settles a message for a business number the app does not serve at once, schedules no turn, and leaves it out of later context', async () => {
    const elsewhere = inbound({
      text: 'to the other number',
      reply: 'not-served',
    });
    const result = await repo.ingest(
      batch({ messages: [elsewhere] }),
      t0,
      TIMEOUT,
    );
    expect(result).toMatchObject({ stored: 1, conversationsToAnswer: [] });
    expect(await repo.findConversationsWithPendingWork()).toEqual([]);

    const later = await repo.ingest(
      batch({
        messages: [inbound({ text: 'to our number', timestamp: at(1000) })],
      }),
      at(1000),
      TIMEOUT,
    );
    const [conversationId] = later.conversationsToAnswer;
    const turn = await repo.loadTurn(conversationId, 10, t0);
    expect(turn?.unanswered.map((m) => m.text)).toEqual(['to our number']);
    expect(turn?.history).toEqual([]);
    const stored = await repo.getRecentMessages(conversationId, 10);
    expect(stored.map((m) => [m.text, m.replyAction])).toEqual([
      ['to the other number', 'not-served'],
      ['to our number', 'llm'],
    ]);
  });

  it('records a reply atomically and refuses to answer the same messages twice', async () => {
    const {
      conversationsToAnswer: [id],
    } = await repo.ingest(
      batch({ messages: [inbound(), inbound()] }),
      t0,
      TIMEOUT,
    );
    const pending = await repo.getUnanswered(id);
    const ids = pending.map((m) => m.id);
    const drafts = [
      {
        author: 'bot' as const,
        text: 'part one',
        llm: { model: 'm', promptTokens: 10, completionTokens: 5 },
      },
      { author: 'bot' as const, text: 'part two' },
    ];
    const recorded = await repo.recordReply(
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
      await repo.recordReply(id, ids, 'turn-2', drafts, at(2000)),
    ).toBeNull();
    expect(await repo.getUnanswered(id)).toEqual([]);
    expect((await repo.getUnsent(id)).map((m) => m.text)).toEqual([
      'part one',
      'part two',
    ]);
    // Claimed by the turn that recorded it: no one else's work until the
    // claim goes stale.
    expect(await repo.findConversationsWithPendingWork()).toEqual([]);
    await repo.releaseStaleSends(at(5000));
    expect(await repo.findConversationsWithPendingWork()).toEqual([id]);
  });

  it('applies statuses monotonically and keeps failed final with its error', async () => {
    const {
      conversationsToAnswer: [id],
    } = await repo.ingest(batch({ messages: [inbound()] }), t0, TIMEOUT);
    const [message] = await repo.getUnanswered(id);
    const [a, b] = (await repo.recordReply(
      id,
      [message.id],
      'turn',
      [
        { author: 'bot', text: 'a' },
        { author: 'bot', text: 'b' },
      ],
      t0,
    ))!;
    await repo.markSent(a.id, 'wamid.out-a', t0);
    await repo.markSent(b.id, 'wamid.out-b', t0);
    await repo.ingest(
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
    await repo.ingest(
      batch({ statuses: [status('wamid.out-b', 'failed', { error })] }),
      t0,
      TIMEOUT,
    );
    await repo.ingest(
      batch({ statuses: [status('wamid.out-b', 'delivered')] }),
      t0,
      TIMEOUT,
    );
    const [ma, mb] = await repo.getRecentMessages(id, 10, [message.id]);
    expect(ma).toMatchObject({ wamid: 'wamid.out-a', status: 'read' });
    // failed messages are not context
    expect(mb).toBeUndefined();
    const all = await connection.db.execute(
      "select wamid, status, error from messages where wamid = 'wamid.out-b'" as never,
    );
    expect((all as unknown as { rows: unknown[] }).rows).toEqual([
      { wamid: 'wamid.out-b', status: 'failed', error },
    ]);
  });

  it('applies a status that arrived before the send was recorded', async () => {
    const {
      conversationsToAnswer: [id],
    } = await repo.ingest(batch({ messages: [inbound()] }), t0, TIMEOUT);
    const [message] = await repo.getUnanswered(id);
    const [reply] = (await repo.recordReply(
      id,
      [message.id],
      'turn',
      [{ author: 'bot', text: 'hi' }],
      t0,
    ))!;
    expect(reply.status).toBe('sending');
    await repo.ingest(
      batch({ statuses: [status('wamid.early', 'delivered')] }),
      t0,
      TIMEOUT,
    );
    await repo.markSent(reply.id, 'wamid.early', t0);
    const [stored] = await repo.getRecentMessages(id, 1);
    expect(stored).toMatchObject({ wamid: 'wamid.early', status: 'delivered' });
  });

  it('returns the last messages with text, oldest first, without the excluded ones', async () => {
    const messages = [1, 2, 3, 4].map((i) =>
      inbound({ timestamp: at(i * 1000), text: `m${i}` }),
    );
    const {
      conversationsToAnswer: [id],
    } = await repo.ingest(batch({ messages }), t0, TIMEOUT);
    const unanswered = await repo.getUnanswered(id);
    const recent = await repo.getRecentMessages(id, 2, [unanswered[3].id]);
    expect(recent.map((m) => m.text)).toEqual(['m2', 'm3']);
  });

  it('counts the turns that replied to a customer recently', async () => {
    const {
      conversationsToAnswer: [id],
    } = await repo.ingest(
      batch({ messages: [inbound(), inbound()] }),
      t0,
      TIMEOUT,
    );
    const [m1, m2] = await repo.getUnanswered(id);
    await repo.recordReply(
      id,
      [m1.id],
      'turn-a',
      [
        { author: 'bot', text: 'x' },
        { author: 'bot', text: 'y' },
      ],
      t0,
    );
    await repo.recordReply(
      id,
      [m2.id],
      'turn-b',
      [{ author: 'fallback', text: 'z' }],
      t0,
    );
    const since = new Date(Date.now() - MINUTE);
    expect((await repo.loadTurn(id, 0, since))?.recentTurnTimes).toHaveLength(
      2,
    );
    // Another customer's turns do not count.
    const other = await repo.openConversation('19999999999', t0, TIMEOUT);
    expect(
      (await repo.loadTurn(other.id, 0, since))?.recentTurnTimes,
    ).toHaveLength(0);
  });

  it('stores account errors from value.errors', async () => {
    await repo.ingest(
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
    const result = await connection.db.execute(
      'select code, title from webhook_errors' as never,
    );
    expect((result as unknown as { rows: unknown[] }).rows).toEqual([
      { code: 130429, title: 'Rate limit hit' },
    ]);
  });

  it('lets only one sender claim a pending message, and takes back stale claims', async () => {
    const {
      conversationsToAnswer: [id],
    } = await repo.ingest(batch({ messages: [inbound()] }), t0, TIMEOUT);
    const [reply] = await repo.recordOperatorMessages(
      id,
      'operator-batch',
      [{ author: 'operator', text: 'x' }],
      t0,
    );
    expect(reply.status).toBe('pending');
    const claims = await Promise.all([
      repo.claimForSending(reply.id, t0),
      repo.claimForSending(reply.id, t0),
    ]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await repo.releaseStaleSends(at(-1000))).toEqual([]);
    const released = await repo.releaseStaleSends(at(1000));
    expect(released.map((m) => [m.id, m.status])).toEqual([
      [reply.id, 'pending'],
    ]);
    expect(await repo.claimForSending(reply.id, at(2000))).toBe(true);
  });

  it('settles the customer messages an operator answers, and records the operator reply', async () => {
    const {
      conversationsToAnswer: [id],
    } = await repo.ingest(
      batch({ messages: [inbound(), inbound()] }),
      t0,
      TIMEOUT,
    );
    const recorded = await repo.recordOperatorMessages(
      id,
      'op-1',
      [{ author: 'operator', text: 'Hi, this is Ana from support' }],
      new Date(),
    );
    expect(recorded.map((m) => [m.author, m.status])).toEqual([
      ['operator', 'pending'],
    ]);
    expect(await repo.getUnanswered(id)).toEqual([]);
  });

  it('opens a conversation for a customer who never wrote, and reuses an open one', async () => {
    const first = await repo.openConversation('4915112345678', t0, TIMEOUT);
    const again = await repo.openConversation(
      '4915112345678',
      at(1000),
      TIMEOUT,
    );
    expect(again.id).toBe(first.id);
    expect(
      await repo.findOpenConversation('4915112345678', at(1000), TIMEOUT),
    ).toMatchObject({ id: first.id });
    expect(
      await repo.findOpenConversation(
        '4915112345678',
        at(TIMEOUT + 1),
        TIMEOUT,
      ),
    ).toBeNull();
    const later = await repo.openConversation(
      '4915112345678',
      at(TIMEOUT + 1),
      TIMEOUT,
    );
    expect(later.id).not.toBe(first.id);
  });

  it('pauses and resumes a conversation, recording each change with its reason', async () => {
    const conversation = await repo.openConversation(
      '4915112345678',
      t0,
      TIMEOUT,
    );
    const paused = await repo.changeState(
      conversation.id,
      {
        state: 'handoff',
        actor: 'operator',
        reason: 'refund question',
        handoffUntil: at(5 * MINUTE),
      },
      at(1000),
    );
    expect(paused).toMatchObject({
      state: 'handoff',
      stateReason: 'refund question',
      handoffUntil: at(5 * MINUTE),
    });
    await repo.ingest(
      batch({ messages: [inbound({ customerWaId: '4915112345678' })] }),
      at(2000),
      TIMEOUT,
    );
    expect(await repo.findConversationsWithPendingWork()).toEqual([]);
    expect(await repo.resumeDueHandoffs(at(4 * MINUTE))).toEqual([]);
    expect(await repo.resumeDueHandoffs(at(5 * MINUTE))).toEqual([
      conversation.id,
    ]);
    expect((await repo.getConversation(conversation.id))?.state).toBe('active');
    expect(await repo.findConversationsWithPendingWork()).toEqual([
      conversation.id,
    ]);
    const result = await connection.db.execute(
      'select type, actor, reason from conversation_events order by id' as never,
    );
    expect((result as unknown as { rows: unknown[] }).rows).toEqual([
      { type: 'handoff', actor: 'operator', reason: 'refund question' },
      { type: 'resume', actor: 'system', reason: 'handoff time ended' },
    ]);
  });

  it('resumes a due handoff once when several instances look at the same time', async () => {
    const conversation = await repo.openConversation(
      '4915112340000',
      t0,
      TIMEOUT,
    );
    await repo.changeState(
      conversation.id,
      {
        state: 'handoff',
        actor: 'operator',
        reason: null,
        handoffUntil: at(MINUTE),
      },
      t0,
    );
    const other = new DrizzleConversationRepository(connection);
    const [a, b] = await Promise.all([
      repo.resumeDueHandoffs(at(2 * MINUTE)),
      other.resumeDueHandoffs(at(2 * MINUTE)),
    ]);
    expect([...a, ...b]).toEqual([conversation.id]);
    const result = await connection.db.execute(
      "select type from conversation_events where type = 'resume'" as never,
    );
    expect((result as unknown as { rows: unknown[] }).rows).toHaveLength(1);
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
    } = await repo.ingest(batch({ messages: first }), t0, TIMEOUT);
    const answered = await repo.getUnanswered(id);
    const reply = await repo.recordReply(
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
    await repo.markSent(reply![0].id, 'wamid.out-1', at(3500));
    await repo.recordOperatorMessages(
      id,
      'op-1',
      [{ author: 'operator', text: 'from a person' }],
      at(4000),
    );
    await repo.ingest(
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
    await connection.db.execute(
      `update messages set error = '{"code": 131000, "title": "t", "message": "m", "details": null}' where text = 'q4'` as never,
    );

    const turn = await repo.loadTurn(id, 3, new Date(Date.now() - MINUTE));
    // The same messages, mapped the same, as the separate reads give them.
    const unansweredNow = await repo.getUnanswered(id);
    expect(turn?.unanswered).toEqual(unansweredNow);
    expect(turn?.unsent).toEqual(await repo.getUnsent(id));
    expect(turn?.history).toEqual(
      await repo.getRecentMessages(
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
      (await repo.loadTurn(id, 3, new Date(Date.now() + MINUTE)))
        ?.recentTurnTimes,
    ).toEqual([]);
    expect(await repo.loadTurn(id, 0, t0)).toMatchObject({ history: [] });
    expect(
      await repo.loadTurn('00000000-0000-4000-8000-000000000000', 3, t0),
    ).toBeNull();
  });

  it('records no reply, and settles nothing, when another turn answered one of its messages', async () => {
    const {
      conversationsToAnswer: [id],
    } = await repo.ingest(
      batch({ messages: [inbound(), inbound()] }),
      t0,
      TIMEOUT,
    );
    const [m1, m2] = await repo.getUnanswered(id);
    expect(
      await repo.recordReply(
        id,
        [m1.id],
        'turn-a',
        [{ author: 'bot', text: 'x' }],
        t0,
      ),
    ).toHaveLength(1);
    expect(
      await repo.recordReply(
        id,
        [m1.id, m2.id],
        'turn-b',
        [{ author: 'bot', text: 'y' }],
        at(1000),
      ),
    ).toBeNull();
    expect((await repo.getUnanswered(id)).map((m) => m.id)).toEqual([m2.id]);
    expect((await repo.getUnsent(id)).map((m) => m.text)).toEqual(['x']);
  });

  it('records no bot reply once an operator has taken the conversation over', async () => {
    const {
      conversationsToAnswer: [id],
    } = await repo.ingest(batch({ messages: [inbound()] }), t0, TIMEOUT);
    const unanswered = await repo.getUnanswered(id);
    await repo.changeState(
      id,
      { state: 'handoff', actor: 'operator', reason: null },
      at(500),
    );
    expect(
      await repo.recordReply(
        id,
        unanswered.map((m) => m.id),
        'turn-1',
        [{ author: 'bot', text: 'too late' }],
        at(1000),
      ),
    ).toBeNull();
    expect(await repo.getUnanswered(id)).toHaveLength(1);
    expect(await repo.getUnsent(id)).toEqual([]);
    expect((await repo.getConversation(id))?.lastActivityAt).toEqual(at(500));
  });

  it('records a reply with no chunks as answered', async () => {
    const {
      conversationsToAnswer: [id],
    } = await repo.ingest(batch({ messages: [inbound()] }), t0, TIMEOUT);
    const unanswered = await repo.getUnanswered(id);
    expect(
      await repo.recordReply(
        id,
        unanswered.map((m) => m.id),
        'turn-1',
        [],
        at(1000),
      ),
    ).toEqual([]);
    expect(await repo.getUnanswered(id)).toEqual([]);
    expect((await repo.getConversation(id))?.lastActivityAt).toEqual(at(1000));
  });

  /** Runs `work` and counts the statements it sent through the Drizzle handle. */
  async function statementsOf<T>(work: () => Promise<T>) {
    const execute = jest.spyOn(connection.db, 'execute');
    try {
      const result = await work();
      return { result, statements: execute.mock.calls.length };
    } finally {
      execute.mockRestore();
    }
  }

  /** One conversation per customer, each with one unanswered message. */
  async function conversationsOf(...customers: string[]) {
    const ids: string[] = [];
    const unanswered: number[][] = [];
    for (const customer of customers) {
      const {
        conversationsToAnswer: [id],
      } = await repo.ingest(
        batch({ messages: [inbound({ customerWaId: customer })] }),
        t0,
        TIMEOUT,
      );
      ids.push(id);
      unanswered.push((await repo.getUnanswered(id)).map((m) => m.id));
    }
    return { ids, unanswered };
  }

  it('reads the turns of several conversations at once in one statement, each its own', async () => {
    const { ids } = await conversationsOf('4911', '4912');
    const missing = '00000000-0000-4000-8000-000000000000';
    const { result, statements } = await statementsOf(() =>
      Promise.all([
        repo.loadTurn(ids[0], 3, t0),
        repo.loadTurn(missing, 3, t0),
        repo.loadTurn(ids[1], 0, t0),
        repo.loadTurn(ids[0], 3, t0),
      ]),
    );
    expect(statements).toBe(1);
    const [a, none, b, again] = result;
    expect(none).toBeNull();
    expect(a?.conversation.customerWaId).toBe('4911');
    expect(a?.unanswered).toEqual(await repo.getUnanswered(ids[0]));
    expect(again).toEqual(a);
    expect(b?.conversation.customerWaId).toBe('4912');
    expect(b?.unanswered).toEqual(await repo.getUnanswered(ids[1]));
  });

  it('records the replies of turns running at once in one statement, each with its own chunks', async () => {
    const { ids, unanswered } = await conversationsOf('4921', '4922', '4923');
    // The third conversation's message is answered before its turn records.
    await repo.recordReply(
      ids[2],
      unanswered[2],
      'earlier',
      [{ author: 'bot', text: 'earlier' }],
      t0,
    );
    const { result, statements } = await statementsOf(() =>
      Promise.all([
        repo.recordReply(
          ids[0],
          unanswered[0],
          'turn-a',
          [
            { author: 'bot', text: 'a0' },
            { author: 'bot', text: 'a1' },
          ],
          at(1000),
        ),
        repo.recordReply(
          ids[1],
          unanswered[1],
          'turn-b',
          [{ author: 'fallback', text: 'b0' }],
          at(2000),
        ),
        repo.recordReply(
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
    expect(await repo.getUnanswered(ids[0])).toEqual([]);
    expect(await repo.getUnanswered(ids[1])).toEqual([]);
    expect((await repo.getUnsent(ids[2])).map((m) => m.text)).toEqual([
      'earlier',
    ]);
    // Each conversation got its own turn's time.
    expect((await repo.getConversation(ids[0]))?.lastActivityAt).toEqual(
      at(1000),
    );
    expect((await repo.getConversation(ids[1]))?.lastActivityAt).toEqual(
      at(2000),
    );
    expect((await repo.getConversation(ids[2]))?.lastActivityAt).toEqual(t0);
  });

  it('marks the sends of turns running at once in one statement, and fails only a send whose wamid is taken', async () => {
    const { ids, unanswered } = await conversationsOf('4931', '4932', '4933');
    const replies = await Promise.all(
      ids.map((id, n) =>
        repo.recordReply(
          id,
          unanswered[n],
          `turn-${n}`,
          [{ author: 'bot', text: `r${n}` }],
          t0,
        ),
      ),
    );
    const [r0, r1, r2] = replies.map((r) => r![0]);
    await repo.ingest(
      batch({ statuses: [status('wamid.early-1', 'read')] }),
      t0,
      TIMEOUT,
    );
    const { result, statements } = await statementsOf(() =>
      Promise.allSettled([
        repo.markSent(r0.id, 'wamid.sent-0', at(1000)),
        repo.markSent(r1.id, 'wamid.early-1', at(2000)),
        repo.markSent(r2.id, 'wamid.sent-0', at(3000)),
      ]),
    );
    expect(result.map((r) => r.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
    ]);
    // One statement for the three, then each again on its own, since one of
    // them failed.
    expect(statements).toBe(4);
    const [m0] = await repo.getRecentMessages(ids[0], 1);
    expect(m0).toMatchObject({ wamid: 'wamid.sent-0', status: 'sent' });
    expect(m0.acceptedAt).toEqual(at(1000));
    const [m1] = await repo.getRecentMessages(ids[1], 1);
    expect(m1).toMatchObject({ wamid: 'wamid.early-1', status: 'read' });
    expect((await repo.getUnsent(ids[2])).map((m) => m.status)).toEqual([
      'sending',
    ]);
    expect((await repo.getConversation(ids[1]))?.lastActivityAt).toEqual(
      at(2000),
    );
  });

  it('leaves a stored wamid and the statuses since alone when a send is marked again', async () => {
    const { ids, unanswered } = await conversationsOf('4941');
    const [reply] = (await repo.recordReply(
      ids[0],
      unanswered[0],
      'turn',
      [{ author: 'bot', text: 'hi' }],
      t0,
    ))!;
    await repo.markSent(reply.id, 'wamid.again', at(1000));
    await repo.ingest(
      batch({ statuses: [status('wamid.again', 'delivered')] }),
      at(1500),
      TIMEOUT,
    );
    // As when a group of sends is written again after one of them failed.
    await repo.markSent(reply.id, 'wamid.again', at(2000));
    const [stored] = await repo.getRecentMessages(ids[0], 1);
    expect(stored).toMatchObject({ wamid: 'wamid.again', status: 'delivered' });
    expect(stored.acceptedAt).toEqual(at(1000));
  });

  it('lets only one of two concurrent turns record a reply to the same messages', async () => {
    for (let round = 0; round < 5; round++) {
      const {
        conversationsToAnswer: [id],
      } = await repo.ingest(
        batch({
          messages: [
            inbound({ customerWaId: `4930${round}` }),
            inbound({ customerWaId: `4930${round}` }),
          ],
        }),
        t0,
        TIMEOUT,
      );
      const ids = (await repo.getUnanswered(id)).map((m) => m.id);
      const results = await Promise.all([
        repo.recordReply(
          id,
          ids,
          `a-${round}`,
          [{ author: 'bot', text: 'a' }],
          t0,
        ),
        repo.recordReply(
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
      expect((await repo.getUnanswered(id)).map((m) => m.id)).toEqual(left);
      expect(await repo.getUnsent(id)).toHaveLength(1);
    }
  });
}
