import {
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { ConversationRepository } from './conversation.repository';
import { TurnQueue } from './turn.queue';

const JOB = 'pending-work-sweep';
const SWEEP_EVERY_MS = 30_000;

/**
 * Crash recovery: on start, and every 30 s after, every conversation with
 * unanswered or unsent messages gets a turn. A message acknowledged before a
 * crash, or whose turn failed for good, is answered this way.
 */
@Injectable()
export class PendingWorkSweeper
  implements OnApplicationBootstrap, OnApplicationShutdown
{
  private readonly logger = new Logger(PendingWorkSweeper.name);

  constructor(
    private readonly repository: ConversationRepository,
    private readonly queue: TurnQueue,
    private readonly scheduler: SchedulerRegistry,
  ) {}

  async onApplicationBootstrap() {
    const recovered = await this.sweep();
    if (recovered > 0) {
      this.logger.log(
        { conversations: recovered },
        'scheduled turns for work left from before the start',
      );
    }
    const interval = setInterval(() => void this.sweep(), SWEEP_EVERY_MS);
    interval.unref();
    this.scheduler.addInterval(JOB, interval);
  }

  onApplicationShutdown() {
    if (this.scheduler.doesExist('interval', JOB))
      this.scheduler.deleteInterval(JOB);
  }

  async sweep(): Promise<number> {
    try {
      const ids = await this.repository.findConversationsWithPendingWork();
      await Promise.all(
        ids.map((id) => this.queue.schedule(id, { delayMs: 0 })),
      );
      return ids.length;
    } catch (error) {
      this.logger.error(
        { err: error },
        'pending-work sweep failed; will try again',
      );
      return 0;
    }
  }
}
