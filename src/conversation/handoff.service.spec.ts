import { Logger } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { DomainError } from '../common/domain.error';
import { AppConfig } from '../config/app-config';
import { validateEnv } from '../config/validate-env';
import { DomainEvent } from '../events/domain-events';
import { InProcessDomainEvents } from '../events/in-process-domain.events';
import { ResumedConversationScheduler } from '../turns/resumed-conversation.scheduler';
import {
  inboundText,
  InMemoryWorld,
  webhookWith,
} from '../../test/support/in-memory-stores';
import { RecordingQueue } from '../../test/support/recording-queue';
import {
  HANDOFF_RESUME_EVERY_MS,
  HandoffResumeJob,
} from './handoff-resume.job';
import { HandoffService } from './handoff.service';

const config = new AppConfig(validateEnv({}));

describe('HandoffService with the resumed-conversation scheduler', () => {
  let world: InMemoryWorld;
  let published: DomainEvent[];
  let queue: RecordingQueue;
  let scheduler: ResumedConversationScheduler;
  let handoffs: HandoffService;

  beforeEach(() => {
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    world = new InMemoryWorld();
    published = [];
    queue = new RecordingQueue();
    const events = new InProcessDomainEvents();
    events.subscribe((event) => published.push(event));
    scheduler = new ResumedConversationScheduler(events, queue);
    handoffs = new HandoffService(
      world.conversations,
      events,
      config.conversation,
    );
  });
  afterEach(() => {
    scheduler.onModuleDestroy();
    jest.restoreAllMocks();
    jest.useRealTimers();
  });

  const stateChanges = () =>
    published.filter((e) => e.type === 'conversation.state-changed');

  it('pauses the bot for a customer: the conversation is handed off until the set time, the change published, no turn scheduled', async () => {
    const before = Date.now();
    const paused = await handoffs.pause('4860400001', {
      reason: 'billing question',
      autoResumeMinutes: 30,
    });

    expect(world.conversation(paused.id)).toMatchObject({
      customerWaId: '4860400001',
      state: 'handoff',
      stateReason: 'billing question',
    });
    const until = world.conversation(paused.id).handoffUntil!.getTime();
    expect(until - before).toBeGreaterThanOrEqual(30 * 60_000);
    expect(until - Date.now()).toBeLessThanOrEqual(30 * 60_000);
    expect(stateChanges()).toEqual([
      {
        type: 'conversation.state-changed',
        conversationId: paused.id,
        state: 'handoff',
        actor: 'operator',
        reason: 'billing question',
      },
    ]);
    expect(queue.scheduled).toEqual([]);
  });

  it("pauses the customer's open conversation rather than opening another", async () => {
    await world.ingest.ingest(
      webhookWith(inboundText('wamid.before-pause', '4860400002')),
      new Date(),
      config.conversation.sessionTimeoutMs,
    );
    const [open] = world.conversationRows;

    const paused = await handoffs.pause('4860400002', {});

    expect(paused.id).toBe(open.id);
    expect(world.conversationRows).toHaveLength(1);
    expect(paused.handoffUntil).toBeNull();
  });

  it('resumes the bot: the conversation is active again, the change published, and a turn scheduled for what the customer wrote meanwhile', async () => {
    const paused = await handoffs.pause('4860400003', {});
    published.length = 0;

    const resumed = await handoffs.resume('4860400003', 'done here');

    expect(world.conversation(resumed.id)).toMatchObject({
      state: 'active',
      stateReason: 'done here',
      handoffUntil: null,
    });
    expect(stateChanges()).toEqual([
      {
        type: 'conversation.state-changed',
        conversationId: paused.id,
        state: 'active',
        actor: 'operator',
        reason: 'done here',
      },
    ]);
    expect(queue.scheduled).toEqual([{ id: paused.id, options: undefined }]);
  });

  it('refuses to resume a bot that is not paused, and publishes and schedules nothing', async () => {
    await world.conversations.openConversation(
      '4860400004',
      new Date(),
      config.conversation.sessionTimeoutMs,
    );

    const refused = handoffs.resume('4860400004');

    await expect(refused).rejects.toBeInstanceOf(DomainError);
    await expect(refused).rejects.toMatchObject({
      code: 'not-in-handoff',
    });
    await expect(handoffs.resume('4860400099')).rejects.toMatchObject({
      code: 'not-in-handoff',
    });
    expect(published).toEqual([]);
    expect(queue.scheduled).toEqual([]);
  });

  it('gives back each conversation whose handoff time has passed, once, with a turn scheduled for each', async () => {
    const start = new Date('2026-03-01T10:00:00Z').getTime();
    jest.useFakeTimers({ now: start });
    const soon = await handoffs.pause('4860400005', { autoResumeMinutes: 5 });
    const sooner = await handoffs.pause('4860400006', { autoResumeMinutes: 1 });
    const later = await handoffs.pause('4860400007', { autoResumeMinutes: 60 });
    const open = await handoffs.pause('4860400008', {});
    published.length = 0;

    const now = new Date(start + 5 * 60_000);
    const resumed = await handoffs.resumeDue(now);
    const again = await handoffs.resumeDue(now);

    expect([...resumed].sort()).toEqual([soon.id, sooner.id].sort());
    expect(again).toEqual([]);
    expect(
      stateChanges().map((e) => [e.conversationId, e.state, e.actor, e.reason]),
    ).toEqual(
      resumed.map((id) => [id, 'active', 'system', 'handoff time ended']),
    );
    expect(queue.scheduled.map((s) => s.id)).toEqual(resumed);
    expect(world.conversation(later.id).state).toBe('handoff');
    expect(world.conversation(open.id).state).toBe('handoff');
  });

  it('resumes a due handoff from the job, within one interval of its time, and schedules its turn', async () => {
    const start = new Date('2026-03-01T10:00:00Z').getTime();
    jest.useFakeTimers({ now: start });
    const job = new HandoffResumeJob(handoffs, new SchedulerRegistry());
    const paused = await handoffs.pause('4860400009', {
      autoResumeMinutes: 1,
    });
    job.onApplicationBootstrap();
    try {
      await jest.advanceTimersByTimeAsync(60_000 - HANDOFF_RESUME_EVERY_MS);
      expect(world.conversation(paused.id).state).toBe('handoff');
      expect(queue.scheduled).toEqual([]);

      await jest.advanceTimersByTimeAsync(HANDOFF_RESUME_EVERY_MS);
      expect(world.conversation(paused.id).state).toBe('active');
      expect(queue.scheduled.map((s) => s.id)).toEqual([paused.id]);

      // Later passes find nothing more to resume.
      await jest.advanceTimersByTimeAsync(3 * HANDOFF_RESUME_EVERY_MS);
      expect(queue.scheduled.map((s) => s.id)).toEqual([paused.id]);
    } finally {
      job.onApplicationShutdown();
    }
  });

  it('schedules no turn once the scheduler has stopped', async () => {
    await handoffs.pause('4860400010', {});
    scheduler.onModuleDestroy();

    await handoffs.resume('4860400010');

    expect(queue.scheduled).toEqual([]);
  });
});
