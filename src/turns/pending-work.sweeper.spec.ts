import { SchedulerRegistry } from '@nestjs/schedule';
import { AppConfig } from '../config/app-config';
import { validateEnv } from '../config/validate-env';
import { DatabaseConnection } from '../database/database-connection';
import { DrizzleConversationRepository } from '../conversation/drizzle-conversation.repository';
import {
  inboundText,
  openEmbeddedRepository,
  RecordingQueue,
} from '../../test/support/conversation-kit';
import { longestSendMs, PendingWorkSweeper } from './pending-work.sweeper';

const config = new AppConfig(validateEnv({ REPLY_DEBOUNCE_MS: '1000' }));
const inbound = inboundText;

describe('PendingWorkSweeper', () => {
  let connection: DatabaseConnection;
  let repository: DrizzleConversationRepository;
  let queue: RecordingQueue;
  let sweeper: PendingWorkSweeper;

  beforeAll(async () => {
    ({ connection, repository } = await openEmbeddedRepository());
  });
  afterAll(async () => {
    await connection.close();
  });
  beforeEach(() => {
    queue = new RecordingQueue();
    sweeper = new PendingWorkSweeper(
      repository,
      queue,
      new SchedulerRegistry(),
      connection,
      config,
    );
  });

  it('schedules conversations with unanswered messages once they are older than the debounce plus a grace', async () => {
    const {
      conversationsToAnswer: [id],
    } = await repository.ingest(
      {
        messages: [inbound('wamid.sweep-1', '15550000001')],
        statuses: [],
        errors: [],
      },
      new Date(),
      60_000,
    );
    expect(await sweeper.sweep()).toBe(0);
    expect(queue.scheduled).toEqual([]);
    expect(await sweeper.sweep(0)).toBe(1);
    expect(queue.scheduled).toEqual([{ id, options: { delayMs: 0 } }]);
  });

  it('recovers everything at start on PGlite, which no other process can be using: unanswered messages and sends cut short', async () => {
    await connection.db.execute(
      'truncate messages, conversation_events, conversations, status_events, webhook_errors restart identity' as never,
    );
    const {
      conversationsToAnswer: [unanswered],
    } = await repository.ingest(
      {
        messages: [inbound('wamid.sweep-start-1', '15550000002')],
        statuses: [],
        errors: [],
      },
      new Date(),
      60_000,
    );
    // A reply recorded and claimed for sending when the process died.
    const {
      conversationsToAnswer: [interrupted],
    } = await repository.ingest(
      {
        messages: [inbound('wamid.sweep-start-2', '15550000003')],
        statuses: [],
        errors: [],
      },
      new Date(),
      60_000,
    );
    const [reply] = (await repository.recordReply(
      interrupted,
      (await repository.getUnanswered(interrupted)).map((m) => m.id),
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
    expect(
      (await repository.getUnsent(interrupted)).map((m) => m.status),
    ).toEqual(['pending']);
  });

  it('bounds one message send by the attempts, timeouts and backoff', () => {
    // 5 attempts of 15 s, and waits of 1 + 4 + 16 + 60 (capped) seconds.
    expect(longestSendMs(config)).toBe(
      5 * 15_000 + 1_000 + 4_000 + 16_000 + 60_000,
    );
  });
});
