import { Logger } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { AppConfig } from '../config/app-config';
import { validateEnv } from '../config/validate-env';
import type { Conversation } from '../conversation/conversation.types';
import { DatabaseConnection } from '../database/database-connection';
import { DomainEvent } from '../events/domain-events';
import { InProcessDomainEvents } from '../events/in-process-domain.events';
import { staleSendMs, PendingWorkSweeper } from '../turns/pending-work.sweeper';
import {
  FakeWhatsapp,
  permanentSendError,
} from '../../test/support/fake-whatsapp';
import {
  inboundText,
  InMemoryWorld,
  webhookWith,
} from '../../test/support/in-memory-stores';
import { RecordingQueue } from '../../test/support/recording-queue';
import { OutboxService } from './outbox.service';

const config = new AppConfig(validateEnv({}));

describe('OutboxService', () => {
  let world: InMemoryWorld;
  let whatsapp: FakeWhatsapp;
  let published: DomainEvent[];
  let outbox: OutboxService;
  let conversation: Conversation;

  beforeEach(async () => {
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    world = new InMemoryWorld();
    whatsapp = new FakeWhatsapp();
    published = [];
    const events = new InProcessDomainEvents();
    events.subscribe((event) => published.push(event));
    outbox = new OutboxService(world.outbox, whatsapp, events);
    conversation = await world.conversations.openConversation(
      '4860300001',
      new Date(),
      config.conversation.sessionTimeoutMs,
    );
  });
  afterEach(() => {
    jest.restoreAllMocks();
    jest.useRealTimers();
  });

  /** An operator's messages, recorded pending under one batch key. */
  const record = (batchKey: string, ...texts: string[]) =>
    world.outbox.recordOperatorMessages(
      conversation.id,
      batchKey,
      texts.map((text) => ({ author: 'operator' as const, text })),
      new Date(),
    );

  /** A turn's reply, recorded already claimed for sending, as a turn records it. */
  const recordReply = async (...texts: string[]) => {
    await world.ingest.ingest(
      webhookWith(inboundText(`wamid.in-${texts[0]}`, '4860300001')),
      new Date(),
      config.conversation.sessionTimeoutMs,
    );
    const snapshot = await world.turns.loadTurn(conversation.id, 0, new Date());
    return (await world.turns.recordReply(
      conversation.id,
      snapshot!.unanswered.map((m) => m.id),
      `turn-${texts[0]}`,
      texts.map((text) => ({ author: 'bot' as const, text })),
      new Date(),
    ))!;
  };

  it('sends pending messages in order, each claimed once and marked sent with its wamid', async () => {
    const recorded = await record('batch-1', 'one', 'two');

    const report = await outbox.sendUnsent(conversation);

    expect(whatsapp.sent).toEqual([
      { to: '4860300001', text: 'one', wamid: 'wamid.out-1' },
      { to: '4860300001', text: 'two', wamid: 'wamid.out-2' },
    ]);
    expect(world.outboundOf(conversation.id)).toMatchObject([
      { text: 'one', status: 'sent', wamid: 'wamid.out-1' },
      { text: 'two', status: 'sent', wamid: 'wamid.out-2' },
    ]);
    expect(recorded.map((m) => world.attemptsOf(m.id))).toEqual([1, 1]);
    expect(report.sent.map((s) => [s.message.text, s.message.wamid])).toEqual([
      ['one', 'wamid.out-1'],
      ['two', 'wamid.out-2'],
    ]);
    expect(published).toEqual(
      recorded.map((m, n) => ({
        type: 'message.sent',
        conversationId: conversation.id,
        messageId: m.id,
        author: 'operator',
        wamid: `wamid.out-${n + 1}`,
        code: null,
      })),
    );
  });

  it('sends a recorded media or interactive message as itself, and a text one as text', async () => {
    const image = {
      type: 'media' as const,
      mediaType: 'image' as const,
      source: { id: '1013859600285441' },
      caption: 'Your receipt',
    };
    await world.outbox.recordOperatorMessages(
      conversation.id,
      'batch-rich',
      [
        { author: 'operator', text: 'Your receipt', content: image },
        { author: 'operator', text: 'Anything else?' },
      ],
      new Date(),
    );

    await outbox.sendUnsent(conversation);

    expect(whatsapp.messages).toEqual([
      image,
      { type: 'text', body: 'Anything else?' },
    ]);
    expect(world.outboundOf(conversation.id)).toMatchObject([
      { kind: 'image', status: 'sent', wamid: 'wamid.out-1' },
      { kind: 'text', status: 'sent', wamid: 'wamid.out-2' },
    ]);
  });

  it("sends a turn's own claim (a reply recorded as sending) without claiming it again", async () => {
    const reply = await recordReply('answer');

    const report = await outbox.send(conversation, reply);

    expect(whatsapp.texts).toEqual(['answer']);
    expect(report.sent).toHaveLength(1);
    expect(world.outboundOf(conversation.id)).toMatchObject([
      { status: 'sent', wamid: 'wamid.out-1' },
    ]);
    expect(world.attemptsOf(reply[0].id)).toBe(1);
  });

  it('skips a message someone else claimed first', async () => {
    const [claimed, free] = await record('batch-1', 'theirs', 'mine');
    expect(await world.outbox.claimForSending(claimed.id, new Date())).toBe(
      true,
    );

    // The list was read before the other sender claimed its message.
    const report = await outbox.send(conversation, [claimed, free]);

    expect(whatsapp.texts).toEqual(['mine']);
    expect(report.sent.map((s) => s.message.id)).toEqual([free.id]);
    expect(world.outboundOf(conversation.id)).toMatchObject([
      { id: claimed.id, status: 'sending', wamid: null },
      { id: free.id, status: 'sent' },
    ]);
    expect(world.attemptsOf(claimed.id)).toBe(1);
  });

  it('fails the rest of a reply after a permanent refusal, with the error stored, and still sends the next reply', async () => {
    const first = await record('reply-1', 'part 1', 'part 2', 'part 3');
    const next = await record('reply-2', 'next reply');
    whatsapp.refuseCall(2, permanentSendError(131026, 'recipient unknown'));

    const report = await outbox.sendUnsent(conversation);

    // Part 3 was never offered to Meta: no retry storm.
    expect(whatsapp.texts).toEqual(['part 1', 'next reply']);
    const stored = {
      code: 131026,
      title: 'permanent',
      message: 'recipient unknown',
      details: null,
    };
    expect(world.outboundOf(conversation.id)).toMatchObject([
      { text: 'part 1', status: 'sent', error: null },
      { text: 'part 2', status: 'failed', error: stored, wamid: null },
      { text: 'part 3', status: 'failed', error: stored, wamid: null },
      { text: 'next reply', status: 'sent', error: null },
    ]);
    expect(report.failed.map((f) => f.message.id)).toEqual([
      first[1].id,
      first[2].id,
    ]);
    expect(
      published.map((e) =>
        e.type === 'message.sent' || e.type === 'message.failed'
          ? [e.type, e.messageId, e.code]
          : [e.type],
      ),
    ).toEqual([
      ['message.sent', first[0].id, null],
      ['message.failed', first[1].id, '131026'],
      ['message.failed', first[2].id, '131026'],
      ['message.sent', next[0].id, null],
    ]);
  });

  it('stores the kind of a refusal that carried no code', async () => {
    await record('reply-1', 'lost');
    whatsapp.refuseCall(
      1,
      Object.assign(permanentSendError(), { code: null, kind: 'network' }),
    );

    await outbox.sendUnsent(conversation);

    expect(world.outboundOf(conversation.id)[0].error).toMatchObject({
      code: 'network',
    });
    expect(published).toContainEqual(
      expect.objectContaining({ type: 'message.failed', code: 'network' }),
    );
  });

  it('leaves a message it could not hand over for any other reason claimed, for the sweeper to release', async () => {
    const [message] = await record('reply-1', 'stuck');
    jest
      .spyOn(whatsapp, 'send')
      .mockRejectedValueOnce(new Error('socket hang up'));

    await expect(outbox.sendUnsent(conversation)).rejects.toThrow(
      'socket hang up',
    );

    expect(world.outboundOf(conversation.id)).toMatchObject([
      { id: message.id, status: 'sending', error: null },
    ]);
  });

  describe('with the pending-work sweeper', () => {
    it('sends a message whose sender died mid-send once the sweeper releases it as stale, and schedules its conversation', async () => {
      const start = new Date('2026-03-01T10:00:00Z').getTime();
      jest.useFakeTimers({ now: start, doNotFake: ['setImmediate'] });
      const queue = new RecordingQueue();
      const sweeper = new PendingWorkSweeper(
        world.turns,
        world.outbox,
        queue,
        new SchedulerRegistry(),
        // Only its start-up recovery reads the driver; sweep() does not.
        { driver: 'postgres' } as DatabaseConnection,
        config,
      );
      jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      // A turn recorded (and so claimed) its reply, then its process died.
      const [reply] = await recordReply('cut short');

      // A live sender may still be at it: not stale yet.
      jest.setSystemTime(start + staleSendMs(config) - 1);
      await sweeper.sweep();
      expect(await outbox.sendUnsent(conversation)).toEqual({
        sent: [],
        failed: [],
      });
      expect(queue.scheduled).toEqual([]);

      jest.setSystemTime(start + staleSendMs(config) + 1);
      await sweeper.sweep();
      expect(queue.scheduled).toEqual([
        { id: conversation.id, options: { delayMs: 0 } },
      ]);
      await outbox.sendUnsent(conversation);

      expect(whatsapp.texts).toEqual(['cut short']);
      expect(world.outboundOf(conversation.id)).toMatchObject([
        { id: reply.id, status: 'sent', wamid: 'wamid.out-1' },
      ]);
      // Claimed by the turn, then again by the sender after the release.
      expect(world.attemptsOf(reply.id)).toBe(2);
    });
  });
});
