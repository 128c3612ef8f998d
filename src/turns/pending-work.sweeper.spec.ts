import { SchedulerRegistry } from '@nestjs/schedule';
import { AppConfig } from '../config/app-config';
import { validateEnv } from '../config/validate-env';
import { DatabaseConnection } from '../database/database-connection';
import { openDatabase } from '../database/open-database';
import { DrizzleIngestStore } from '../inbound/drizzle-ingest.store';
import { DrizzleOutboxStore } from '../outbound/drizzle-outbox.store';
import {
  inboundText as inbound,
  webhookWith,
} from '../../test/support/in-memory-stores';
import { RecordingQueue } from '../../test/support/recording-queue';
import { DrizzleTurnStore } from './drizzle-turn.store';
import { staleSendMs, PendingWorkSweeper } from './pending-work.sweeper';

const config = new AppConfig(validateEnv({ REPLY_DEBOUNCE_MS: '1000' }));

// On the real stores and embedded PostgreSQL: what counts as pending work
// is the stores' SQL, and the start-up recovery depends on the driver.
describe('PendingWorkSweeper', () => {
  let connection: DatabaseConnection;
  let ingest: DrizzleIngestStore;
  let turns: DrizzleTurnStore;
  let outbox: DrizzleOutboxStore;
  let queue: RecordingQueue;
  let sweeper: PendingWorkSweeper;

  beforeAll(async () => {
    connection = await openDatabase({
      url: null,
      dataDir: 'memory://',
      poolSize: 1,
    });
  });
  afterAll(async () => {
    await connection.close();
  });
  // Each test owns its data: it starts from empty tables.
  beforeEach(async () => {
    await connection.db.execute(
      'truncate turn_steps, messages, conversation_events, conversations, status_events, webhook_errors restart identity' as never,
    );
    ingest = new DrizzleIngestStore(connection);
    turns = new DrizzleTurnStore(connection);
    outbox = new DrizzleOutboxStore(connection);
    queue = new RecordingQueue();
    sweeper = new PendingWorkSweeper(
      turns,
      outbox,
      queue,
      new SchedulerRegistry(),
      connection,
      config,
    );
  });

  const receive = async (wamid: string, customer: string) => {
    const {
      conversationsToAnswer: [id],
    } = await ingest.ingest(
      webhookWith(inbound(wamid, customer)),
      new Date(),
      60_000,
    );
    return id;
  };

  it('schedules conversations with unanswered messages once they are older than the debounce plus a grace', async () => {
    const id = await receive('wamid.sweep-1', '15550000001');
    expect(await sweeper.sweep()).toBe(0);
    expect(queue.scheduled).toEqual([]);
    expect(await sweeper.sweep(0)).toBe(1);
    expect(queue.scheduled).toEqual([{ id, options: { delayMs: 0 } }]);
  });

  it('recovers everything at start on PGlite, which no other process can be using: unanswered messages and sends cut short', async () => {
    const unanswered = await receive('wamid.sweep-start-1', '15550000002');
    // A reply recorded and claimed for sending when the process died.
    const interrupted = await receive('wamid.sweep-start-2', '15550000003');
    const snapshot = await turns.loadTurn(interrupted, 10, new Date(0));
    const [reply] = (await turns.recordReply(
      interrupted,
      snapshot!.unanswered.map((m) => m.id),
      'turn-cut-short',
      [{ author: 'bot', text: 'hello' }],
      new Date(),
    ))!;
    expect(reply.status).toBe('sending');

    await sweeper.onApplicationBootstrap();
    sweeper.onApplicationShutdown();

    expect(
      [...queue.scheduled].sort((a, b) => a.id.localeCompare(b.id)),
    ).toEqual(
      [unanswered, interrupted]
        .sort((a, b) => a.localeCompare(b))
        .map((id) => ({ id, options: { delayMs: 0 } })),
    );
    // The send cut short is pending again, for the turn to send.
    expect((await outbox.getUnsent(interrupted)).map((m) => m.status)).toEqual([
      'pending',
    ]);
  });
});

describe('staleSendMs', () => {
  it('bounds one message send by the attempts, timeouts and backoff', () => {
    // 5 attempts of 15 s, and waits of 1 + 4 + 16 + 60 (capped) seconds.
    expect(staleSendMs(config)).toBe(
      5 * 15_000 + 1_000 + 4_000 + 16_000 + 60_000,
    );
  });
});
