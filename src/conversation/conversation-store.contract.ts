import { DatabaseConnection } from '../database/database-connection';
import {
  at,
  batch,
  inbound,
  MINUTE,
  t0,
  TIMEOUT,
  unansweredIn,
  useStores,
} from '../database/store-contract.kit';
import { DrizzleConversationStore } from './drizzle-conversation.store';

/**
 * The ConversationStore contract, run on PGlite (real Postgres in WASM) and
 * on the PostgreSQL server in the integration run.
 */
export function conversationStoreContract(
  open: () => Promise<DatabaseConnection>,
) {
  const stores = useStores(open);

  it('expires idle conversations in the background job', async () => {
    const {
      conversationsToAnswer: [id],
    } = await stores.ingest.ingest(
      batch({ messages: [inbound()] }),
      t0,
      TIMEOUT,
    );
    expect(await stores.conversations.expireIdle(at(-1), at(1))).toBe(0);
    expect(await stores.conversations.expireIdle(at(1), at(1))).toBe(1);
    expect((await stores.conversations.getConversation(id))?.state).toBe(
      'expired',
    );
  });

  it('returns the last messages with text, oldest first, without the excluded ones', async () => {
    const messages = [1, 2, 3, 4].map((i) =>
      inbound({ timestamp: at(i * 1000), text: `m${i}` }),
    );
    const {
      conversationsToAnswer: [id],
    } = await stores.ingest.ingest(batch({ messages }), t0, TIMEOUT);
    const unanswered = await unansweredIn(stores.connection, id);
    const recent = await stores.conversations.getRecentMessages(id, 2, [
      unanswered[3].id,
    ]);
    expect(recent.map((m) => m.text)).toEqual(['m2', 'm3']);
  });

  it('opens a conversation for a customer who never wrote, and reuses an open one', async () => {
    const first = await stores.conversations.openConversation(
      '4915112345678',
      t0,
      TIMEOUT,
    );
    const again = await stores.conversations.openConversation(
      '4915112345678',
      at(1000),
      TIMEOUT,
    );
    expect(again.id).toBe(first.id);
    expect(
      await stores.conversations.findOpenConversation(
        '4915112345678',
        at(1000),
        TIMEOUT,
      ),
    ).toMatchObject({ id: first.id });
    expect(
      await stores.conversations.findOpenConversation(
        '4915112345678',
        at(TIMEOUT + 1),
        TIMEOUT,
      ),
    ).toBeNull();
    const later = await stores.conversations.openConversation(
      '4915112345678',
      at(TIMEOUT + 1),
      TIMEOUT,
    );
    expect(later.id).not.toBe(first.id);
  });

  it('pauses and resumes a conversation, recording each change with its reason', async () => {
    const conversation = await stores.conversations.openConversation(
      '4915112345678',
      t0,
      TIMEOUT,
    );
    const paused = await stores.conversations.changeState(
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
    await stores.ingest.ingest(
      batch({ messages: [inbound({ customerWaId: '4915112345678' })] }),
      at(2000),
      TIMEOUT,
    );
    expect(await stores.turns.findConversationsWithPendingWork()).toEqual([]);
    expect(
      await stores.conversations.resumeDueHandoffs(at(4 * MINUTE)),
    ).toEqual([]);
    expect(
      await stores.conversations.resumeDueHandoffs(at(5 * MINUTE)),
    ).toEqual([conversation.id]);
    expect(
      (await stores.conversations.getConversation(conversation.id))?.state,
    ).toBe('active');
    expect(await stores.turns.findConversationsWithPendingWork()).toEqual([
      conversation.id,
    ]);
    const result = await stores.connection.db.execute(
      'select type, actor, reason from conversation_events order by id' as never,
    );
    expect((result as unknown as { rows: unknown[] }).rows).toEqual([
      { type: 'handoff', actor: 'operator', reason: 'refund question' },
      { type: 'resume', actor: 'system', reason: 'handoff time ended' },
    ]);
  });

  it('resumes a due handoff once when several instances look at the same time', async () => {
    const conversation = await stores.conversations.openConversation(
      '4915112340000',
      t0,
      TIMEOUT,
    );
    await stores.conversations.changeState(
      conversation.id,
      {
        state: 'handoff',
        actor: 'operator',
        reason: null,
        handoffUntil: at(MINUTE),
      },
      t0,
    );
    const other = new DrizzleConversationStore(stores.connection);
    const [a, b] = await Promise.all([
      stores.conversations.resumeDueHandoffs(at(2 * MINUTE)),
      other.resumeDueHandoffs(at(2 * MINUTE)),
    ]);
    expect([...a, ...b]).toEqual([conversation.id]);
    const result = await stores.connection.db.execute(
      "select type from conversation_events where type = 'resume'" as never,
    );
    expect((result as unknown as { rows: unknown[] }).rows).toHaveLength(1);
  });
}
