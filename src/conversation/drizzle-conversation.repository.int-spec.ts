import { Client } from 'pg';
import { DatabaseConnection } from '../database/database-connection';
import { openDatabase } from '../database/open-database';
import { conversationRepositoryContract } from './conversation-repository.contract';
import { DrizzleConversationRepository } from './drizzle-conversation.repository';

const url =
  process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

describe('DrizzleConversationRepository on the PostgreSQL server', () => {
  conversationRepositoryContract(() =>
    openDatabase({ url, dataDir: 'unused', poolSize: 4 }),
  );
});

describe('recordReply on the PostgreSQL server, while another transaction holds its rows', () => {
  let connection: DatabaseConnection;
  let repo: DrizzleConversationRepository;
  let other: Client;

  beforeAll(async () => {
    connection = await openDatabase({ url, dataDir: 'unused', poolSize: 4 });
    other = new Client({ connectionString: url });
    await other.connect();
  });
  afterAll(async () => {
    await other.end();
    await connection.close();
  });
  beforeEach(async () => {
    repo = new DrizzleConversationRepository(connection);
    await other.query(
      'truncate messages, conversation_events, conversations, status_events, webhook_errors restart identity',
    );
  });

  const ingest = async (count: number) => {
    const now = new Date();
    const {
      conversationsToAnswer: [id],
    } = await repo.ingest(
      {
        messages: Array.from({ length: count }, (_, n) => ({
          wamid: `wamid.race-${n}`,
          customerWaId: '16505550000',
          customerName: null,
          timestamp: now,
          kind: 'text',
          text: `m${n}`,
          mediaId: null,
          reply: 'llm' as const,
          raw: {},
        })),
        statuses: [],
        errors: [],
      },
      now,
      30 * 60_000,
    );
    return { id, ids: (await repo.getUnanswered(id)).map((m) => m.id) };
  };

  /** Resolves once the reply waits on a lock this test's transaction holds. */
  const blocked = async () => {
    for (let n = 0; n < 100; n++) {
      // The query column may still show the previous statement while the
      // next one waits, so the wait itself is what counts.
      const { rows } = await other.query<{ n: number }>(
        `select count(*)::int as n from pg_stat_activity
          where wait_event_type = 'Lock' and pid <> pg_backend_pid()
            and datname = current_database()`,
      );
      if (rows[0].n > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error('the reply never waited on the lock');
  };

  /**
   * Records a one-message bot reply to `ids` while the other connection
   * holds the rows `statement` changed, then ends that transaction with
   * `end` and returns what the reply recorded.
   */
  const replyWhileHeld = async (
    { id, ids }: { id: string; ids: number[] },
    statement: string,
    params: unknown[],
    end: 'commit' | 'rollback',
  ) => {
    await other.query('begin');
    await other.query(statement, params);
    const reply = repo.recordReply(
      id,
      ids,
      'turn-raced',
      [{ author: 'bot', text: 'raced' }],
      new Date(),
    );
    await blocked();
    await other.query(end);
    return reply;
  };

  it('records nothing, and settles nothing, when the other transaction answers one of its messages', async () => {
    const turn = await ingest(2);
    const recorded = await replyWhileHeld(
      turn,
      'update messages set answered_at = now() where id = $1',
      [turn.ids[0]],
      'commit',
    );
    expect(recorded).toBeNull();
    expect((await repo.getUnanswered(turn.id)).map((m) => m.id)).toEqual([
      turn.ids[1],
    ]);
    expect(await repo.getUnsent(turn.id)).toEqual([]);
  });

  it('records no bot reply when an operator takes the conversation over meanwhile', async () => {
    const turn = await ingest(1);
    const recorded = await replyWhileHeld(
      turn,
      `update conversations set state = 'handoff' where id = $1`,
      [turn.id],
      'commit',
    );
    expect(recorded).toBeNull();
    expect((await repo.getUnanswered(turn.id)).map((m) => m.id)).toEqual(
      turn.ids,
    );
    expect(await repo.getUnsent(turn.id)).toEqual([]);
  });

  it('records the reply once the other transaction lets go without a change', async () => {
    const turn = await ingest(1);
    const recorded = await replyWhileHeld(
      turn,
      'update conversations set customer_name = customer_name where id = $1',
      [turn.id],
      'rollback',
    );
    expect(recorded?.map((m) => m.text)).toEqual(['raced']);
    expect(await repo.getUnanswered(turn.id)).toEqual([]);
  });
});
