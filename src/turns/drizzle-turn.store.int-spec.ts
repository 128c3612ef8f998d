import { Client } from 'pg';
import { DatabaseConnection } from '../database/database-connection';
import { openDatabase } from '../database/open-database';
import {
  openServer,
  serverUrl as url,
  storesOn,
  Stores,
  TRUNCATE_ALL,
  unansweredIn,
} from '../database/store-contract.kit';
import type { InboundMessageInput } from '../inbound/ingest.types';
import { turnStoreContract } from './turn-store.contract';

/** A text message from a customer, as a webhook carries it. */
const textFrom = (
  customerWaId: string,
  wamid: string,
  text: string,
  timestamp: Date,
): InboundMessageInput => ({
  wamid,
  customerWaId,
  customerName: null,
  timestamp,
  kind: 'text',
  text,
  mediaId: null,
  reply: 'llm',
  raw: {},
});

describe('DrizzleTurnStore on the PostgreSQL server', () => {
  turnStoreContract(openServer);
});

describe('recordReply on the PostgreSQL server, while another transaction holds its rows', () => {
  let connection: DatabaseConnection;
  let stores: Stores;
  let other: Client;

  beforeAll(async () => {
    connection = await openServer();
    other = new Client({ connectionString: url });
    await other.connect();
  });
  afterAll(async () => {
    await other.end();
    await connection.close();
  });
  beforeEach(async () => {
    stores = storesOn(connection);
    await other.query(TRUNCATE_ALL);
  });

  const ingest = async (count: number) => {
    const now = new Date();
    const {
      conversationsToAnswer: [id],
    } = await stores.ingest.ingest(
      {
        messages: Array.from({ length: count }, (_, n) =>
          textFrom('16505550000', `wamid.race-${n}`, `m${n}`, now),
        ),
        statuses: [],
        errors: [],
      },
      now,
      30 * 60_000,
    );
    return {
      id,
      ids: (await unansweredIn(connection, id)).map((m) => m.id),
    };
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
    const reply = stores.turns.recordReply(
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
    expect((await unansweredIn(connection, turn.id)).map((m) => m.id)).toEqual([
      turn.ids[1],
    ]);
    expect(await stores.outbox.getUnsent(turn.id)).toEqual([]);
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
    expect((await unansweredIn(connection, turn.id)).map((m) => m.id)).toEqual(
      turn.ids,
    );
    expect(await stores.outbox.getUnsent(turn.id)).toEqual([]);
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
    expect(await unansweredIn(connection, turn.id)).toEqual([]);
  });
});

describe('webhooks and grouped turns over the same conversations on the PostgreSQL server', () => {
  const customers = Array.from(
    { length: 20 },
    (_, n) => `4899${String(n).padStart(5, '0')}`,
  );
  let seq = 0;

  async function deadlocksSoFar(client: Client): Promise<number> {
    const { rows } = await client.query<{ n: string }>(
      'select deadlocks as n from pg_stat_database where datname = current_database()',
    );
    return Number(rows[0].n);
  }

  it('never deadlocks: every statement over several conversations locks them in one order', async () => {
    const other = new Client({ connectionString: url });
    await other.connect();
    const connection = await openDatabase({
      url,
      dataDir: 'unused',
      poolSize: 20,
    });
    let before = 0;
    try {
      await other.query(TRUNCATE_ALL);
      before = await deadlocksSoFar(other);
      const stores = storesOn(connection);
      const shuffled = () =>
        customers
          .map((c) => [Math.random(), c] as const)
          .sort((a, b) => a[0] - b[0])
          .map(([, c]) => c);
      // Webhooks from a dozen customers at a time, in any order...
      const webhooks = async () => {
        for (let round = 0; round < 60; round++) {
          const now = new Date();
          await stores.ingest.ingest(
            {
              messages: shuffled()
                .slice(0, 12)
                .map((customer) =>
                  textFrom(customer, `wamid.lock-${seq++}`, 'hello', now),
                ),
              statuses: [],
              errors: [],
            },
            now,
            30 * 60_000,
          );
        }
      };
      // ...while turns of the same customers read, record and mark sent,
      // grouped into statements over several conversations.
      let replies = 0;
      const turns = async (worker: number) => {
        for (let round = 0; round < 60; round++) {
          const customer =
            customers[(round * 7 + worker * 3) % customers.length];
          const open = await stores.conversations.findOpenConversation(
            customer,
            new Date(),
            30 * 60_000,
          );
          if (!open) continue;
          const turn = await stores.turns.loadTurn(
            open.id,
            10,
            new Date(Date.now() - 60_000),
          );
          const ids = turn!.unanswered.map((m) => m.id);
          if (ids.length === 0) continue;
          const recorded = await stores.turns.recordReply(
            open.id,
            ids,
            `${open.id}:${ids.at(-1)}:${worker}`,
            [{ author: 'bot', text: 'ok' }],
            new Date(),
          );
          if (!recorded) continue;
          replies++;
          await stores.outbox.markSent(
            recorded[0].id,
            `wamid.lock-out-${seq++}`,
            new Date(),
          );
        }
      };
      await Promise.all([
        webhooks(),
        webhooks(),
        ...Array.from({ length: 12 }, (_, worker) => turns(worker)),
      ]);
      expect(replies).toBeGreaterThan(0);
      // No inbound message was answered by two turns.
      const { rows } = await other.query<{ n: number }>(
        `select count(*)::int as n from (
           select reply_to_id from messages where direction = 'outbound'
            group by reply_to_id having count(distinct turn_key) > 1) twice`,
      );
      expect(rows[0].n).toBe(0);
    } finally {
      // A backend reports its counters when it ends.
      await connection.close();
    }
    try {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const fresh = new Client({ connectionString: url });
      await fresh.connect();
      try {
        expect(await deadlocksSoFar(fresh)).toBe(before);
      } finally {
        await fresh.end();
      }
    } finally {
      await other.end();
    }
  });
});
