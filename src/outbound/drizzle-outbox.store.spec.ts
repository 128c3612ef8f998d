import { DatabaseConnection } from '../database/database-connection';
import {
  openEmbedded,
  storesOn,
  Stores,
  unansweredIn,
} from '../database/store-contract.kit';
import { outboxStoreContract } from './outbox-store.contract';

describe('DrizzleOutboxStore on PGlite', () => {
  outboxStoreContract(openEmbedded);
});

describe('DrizzleOutboxStore on PGlite, storing a wamid', () => {
  let connection: DatabaseConnection;
  let stores: Stores;

  beforeAll(async () => {
    connection = await openEmbedded();
    stores = storesOn(connection);
  });
  afterAll(async () => {
    await connection.close();
  });

  it('stores a wamid Meta accepted ahead of turn work already waiting for the database', async () => {
    const now = new Date();
    const {
      conversationsToAnswer: [id],
    } = await stores.ingest.ingest(
      {
        messages: [
          {
            wamid: 'wamid.ahead-in',
            customerWaId: '4861000001',
            customerName: null,
            timestamp: now,
            kind: 'text',
            text: 'hi',
            mediaId: null,
            reply: 'llm',
            raw: {},
          },
        ],
        statuses: [],
        errors: [],
      },
      now,
      60_000,
    );
    const answered = (await unansweredIn(connection, id)).map((m) => m.id);
    const [reply] = (await stores.turns.recordReply(
      id,
      answered,
      'turn-ahead',
      [{ author: 'bot', text: 'hello' }],
      now,
    ))!;

    // Both of the database's slots are busy; other turns' reads queue up.
    let release!: () => void;
    const busy = new Promise<void>((resolve) => (release = resolve));
    const holders = [1, 2].map(() =>
      connection.db.transaction(async () => {
        await busy;
      }),
    );
    await new Promise((resolve) => setImmediate(resolve));
    const order: string[] = [];
    const queued = [1, 2, 3].map((n) =>
      stores.conversations
        .getConversation(id)
        .then(() => order.push(`read ${n}`)),
    );
    await new Promise((resolve) => setImmediate(resolve));
    const mark = stores.outbox
      .markSent(reply.id, 'wamid.ahead-out', new Date())
      .then(() => order.push('wamid stored'));
    await new Promise((resolve) => setImmediate(resolve));
    release();
    await Promise.all([...holders, ...queued, mark]);

    expect(order[0]).toBe('wamid stored');
    const [stored] = await stores.conversations.getRecentMessages(id, 1);
    expect(stored).toMatchObject({ wamid: 'wamid.ahead-out', status: 'sent' });
  });
});
