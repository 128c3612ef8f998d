import { Logger } from '@nestjs/common';
import { DomainError } from '../common/domain.error';
import { AppConfig } from '../config/app-config';
import { validateEnv } from '../config/validate-env';
import { DomainEvent } from '../events/domain-events';
import { InProcessDomainEvents } from '../events/in-process-domain.events';
import {
  inboundText as text,
  InMemoryWorld,
  webhookWith as webhook,
} from '../../test/support/in-memory-stores';
import { RecordingQueue } from '../../test/support/recording-queue';
import { IngestService } from './ingest.service';

describe('IngestService', () => {
  let world: InMemoryWorld;
  let queue: RecordingQueue;
  let published: DomainEvent[];
  let ingest: IngestService;

  beforeEach(() => {
    world = new InMemoryWorld();
    queue = new RecordingQueue();
    published = [];
    const events = new InProcessDomainEvents();
    events.subscribe((event) => published.push(event));
    ingest = new IngestService(
      world.ingest,
      queue,
      new AppConfig(validateEnv({})).conversation,
      events,
    );
  });
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('schedules each conversation of webhooks stored together with the correlation ids of its own webhooks', async () => {
    // Arriving together, the three share one write.
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
    // Each webhook gets the result for its own messages.
    expect(first.messagesToAnswer.map((m) => m.wamid)).toEqual([
      'wamid.corr-a1',
    ]);
    expect(second.messagesToAnswer.map((m) => m.wamid)).toEqual([
      'wamid.corr-b1',
    ]);
    expect(third.messagesToAnswer.map((m) => m.wamid)).toEqual([
      'wamid.corr-c1',
      'wamid.corr-c2',
    ]);
    const conversationOf = (wamid: string) =>
      [first, second, third]
        .flatMap((r) => r.messagesToAnswer)
        .find((m) => m.wamid === wamid)!.conversationId;
    // Scheduling a conversation again adds to its ids, as the queues do.
    const scheduled = new Map<string, string[]>();
    for (const { id, options } of queue.scheduled) {
      scheduled.set(id, [
        ...(scheduled.get(id) ?? []),
        ...(options?.correlationIds ?? []),
      ]);
    }
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

  it('gives a message two webhooks of one group carry the correlation id of the first', async () => {
    await Promise.all([
      ingest.ingest(webhook(text('wamid.corr-f1', '4860100012')), 'req-f'),
      ingest.ingest(webhook(text('wamid.corr-f1', '4860100012')), 'req-g'),
    ]);
    expect(queue.scheduled.map((s) => s.options?.correlationIds)).toEqual([
      ['req-f'],
    ]);
  });

  it('stores a message Meta delivers twice once, and schedules no second turn for it', async () => {
    const first = await ingest.ingest(
      webhook(text('wamid.twice', '4860100006')),
      'req-1',
    );
    const again = await ingest.ingest(
      webhook(text('wamid.twice', '4860100006')),
      'req-2',
    );
    const [id] = first.conversationsToAnswer;
    expect(world.messagesOf(id).map((m) => m.wamid)).toEqual(['wamid.twice']);
    expect(again).toEqual({
      stored: 0,
      duplicates: 1,
      conversationsToAnswer: [],
      messagesToAnswer: [],
    });
    expect(queue.scheduled).toEqual([
      { id, options: { correlationIds: ['req-1'] } },
    ]);
  });

  it('schedules a turn only for conversations whose new messages need an answer', async () => {
    const result = await ingest.ingest({
      messages: [
        text('wamid.answer-me', '4860100007'),
        { ...text('wamid.reaction', '4860100008'), reply: 'none' },
      ],
      statuses: [],
      errors: [],
    });
    expect(world.conversationRows.map((c) => c.customerWaId).sort()).toEqual([
      '4860100007',
      '4860100008',
    ]);
    const answered = world.conversationRows.find(
      (c) => c.customerWaId === '4860100007',
    )!;
    expect(result.conversationsToAnswer).toEqual([answered.id]);
    expect(queue.scheduled.map((s) => s.id)).toEqual([answered.id]);
  });

  it('publishes what one write stored: new messages, duplicates, statuses, errors and the conversations to answer', async () => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    await ingest.ingest(webhook(text('wamid.stored-1', '4860100009')));
    published.length = 0;
    const result = await ingest.ingest({
      messages: [
        text('wamid.stored-1', '4860100009'),
        text('wamid.stored-2', '4860100009'),
      ],
      statuses: [
        {
          wamid: 'wamid.unknown',
          status: 'delivered',
          timestamp: new Date(),
          error: null,
          raw: {},
        },
      ],
      errors: [
        {
          phoneNumberId: '1',
          code: 131000,
          title: 'Something went wrong',
          message: null,
          details: null,
          raw: {},
        },
      ],
    });
    expect(published).toEqual([
      {
        type: 'messages.stored',
        stored: 1,
        duplicates: 1,
        statuses: 1,
        errors: 1,
        conversationIds: result.conversationsToAnswer,
      },
    ]);
    expect(world.webhookErrors.map((e) => e.code)).toEqual([131000]);
  });

  it('answers 503 when the events cannot be stored, and schedules and publishes nothing', async () => {
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    world.outage = new Error('connection refused');
    const failed = ingest.ingest(
      webhook(text('wamid.lost', '4860100010')),
      'req-x',
    );
    await expect(failed).rejects.toBeInstanceOf(DomainError);
    await expect(failed).rejects.toMatchObject({
      code: 'storage-unavailable',
    });
    expect(queue.scheduled).toEqual([]);
    expect(published).toEqual([]);
    expect(world.messageRows).toEqual([]);
  });

  it('stores and schedules a webhook delivered again after a failed write', async () => {
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    world.outage = new Error('connection refused');
    await expect(
      ingest.ingest(webhook(text('wamid.retried', '4860100011')), 'req-1'),
    ).rejects.toBeInstanceOf(DomainError);
    world.outage = null;
    const result = await ingest.ingest(
      webhook(text('wamid.retried', '4860100011')),
      'req-2',
    );
    expect(result.stored).toBe(1);
    expect(queue.scheduled).toEqual([
      {
        id: result.conversationsToAnswer[0],
        options: { correlationIds: ['req-2'] },
      },
    ]);
  });

  it('stores nothing and publishes nothing for a webhook that carries no events', async () => {
    expect(await ingest.ingest(webhook())).toEqual({
      stored: 0,
      duplicates: 0,
      conversationsToAnswer: [],
      messagesToAnswer: [],
    });
    expect(published).toEqual([]);
    expect(queue.scheduled).toEqual([]);
  });
});
