import { AppConfig } from '../config/app-config';
import { validateEnv } from '../config/validate-env';
import { DatabaseConnection } from '../database/database-connection';
import { MetricsService } from '../metrics/metrics.service';
import { InboundMessageInput } from '../conversation/conversation.types';
import { DrizzleConversationRepository } from '../conversation/drizzle-conversation.repository';
import {
  inboundText,
  openEmbeddedRepository,
  RecordingQueue,
} from '../../test/support/conversation-kit';
import { IngestService } from './ingest.service';

const text = inboundText;
const webhook = (...messages: InboundMessageInput[]) => ({
  messages,
  statuses: [],
  errors: [],
});

describe('IngestService', () => {
  let connection: DatabaseConnection;
  let repository: DrizzleConversationRepository;
  let queue: RecordingQueue;
  let ingest: IngestService;

  beforeAll(async () => {
    ({ connection, repository } = await openEmbeddedRepository());
  });
  afterAll(async () => {
    await connection.close();
  });
  beforeEach(() => {
    queue = new RecordingQueue();
    ingest = new IngestService(
      repository,
      queue,
      new AppConfig(validateEnv({})),
      new MetricsService(),
    );
  });

  it('schedules each conversation of webhooks stored together with the correlation ids of its own webhooks', async () => {
    // Arriving together, the three share one transaction.
    const [first, second, third] = await Promise.all([
      ingest.ingest(webhook(text('wamid.corr-a1', '4860100001')), 'req-a'),
      ingest.ingest(webhook(text('wamid.corr-b1', '4860100002')), 'req-b'),
      ingest.ingest(
        webhook(
          text('wamid.corr-c1', '4860100002'),
          text('wamid.corr-c2', '4860100003'),
        ),
        'req-c',
      ),
    ]);
    // One transaction: every webhook got the group's result.
    expect(second).toEqual(first);
    expect(third).toEqual(first);
    const conversationOf = (wamid: string) =>
      first.messagesToAnswer.find((m) => m.wamid === wamid)!.conversationId;
    const scheduled = new Map(
      queue.scheduled.map((s) => [s.id, s.options?.correlationIds]),
    );
    expect(scheduled).toEqual(
      new Map([
        [conversationOf('wamid.corr-a1'), ['req-a']],
        [conversationOf('wamid.corr-b1'), ['req-b', 'req-c']],
        [conversationOf('wamid.corr-c2'), ['req-c']],
      ]),
    );
  });

  it('gives a re-delivered message no correlation id of the webhook that repeated it', async () => {
    await ingest.ingest(webhook(text('wamid.corr-d1', '4860100004')), 'req-d');
    queue.scheduled.length = 0;
    await Promise.all([
      ingest.ingest(webhook(text('wamid.corr-d1', '4860100004')), 'req-again'),
      ingest.ingest(webhook(text('wamid.corr-e1', '4860100005')), 'req-e'),
    ]);
    expect(queue.scheduled.map((s) => s.options?.correlationIds)).toEqual([
      ['req-e'],
    ]);
  });
});
