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

  it('records nothing, and settles nothing, when the other transaction answers one of its messages', async () => {
    const { id, ids } = await ingest(2);
    await other.query('begin');
    await other.query('update messages set answered_at = now() where id = $1', [
      ids[0],
    ]);
    const reply = repo.recordReply(
      id,
      ids,
      'turn-late',
      [{ author: 'bot', text: 'late' }],
      new Date(),
    );
    await blocked();
    await other.query('commit');
    expect(await reply).toBeNull();
    expect((await repo.getUnanswered(id)).map((m) => m.id)).toEqual([ids[1]]);
    expect(await repo.getUnsent(id)).toEqual([]);
  });

  it('records no bot reply when an operator takes the conversation over meanwhile', async () => {
    const { id, ids } = await ingest(1);
    await other.query('begin');
    await other.query(
      `update conversations set state = 'handoff' where id = $1`,
      [id],
    );
    const reply = repo.recordReply(
      id,
      ids,
      'turn-late',
      [{ author: 'bot', text: 'late' }],
      new Date(),
    );
    await blocked();
    await other.query('commit');
    expect(await reply).toBeNull();
    expect((await repo.getUnanswered(id)).map((m) => m.id)).toEqual(ids);
    expect(await repo.getUnsent(id)).toEqual([]);
  });

  it('records the reply once the other transaction lets go without a change', async () => {
    const { id, ids } = await ingest(1);
    await other.query('begin');
    await other.query(
      'update conversations set customer_name = customer_name where id = $1',
      [id],
    );
    const reply = repo.recordReply(
      id,
      ids,
      'turn-on-time',
      [{ author: 'bot', text: 'on time' }],
      new Date(),
    );
    await blocked();
    await other.query('rollback');
    expect((await reply)?.map((m) => m.text)).toEqual(['on time']);
    expect(await repo.getUnanswered(id)).toEqual([]);
  });
});
