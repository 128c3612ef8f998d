import {
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { HandoffService } from './handoff.service';

const JOB = 'handoff-resume';
/** A handoff with `autoResumeMinutes` ends within this long of its time. */
export const HANDOFF_RESUME_EVERY_MS = 5_000;

/**
 * Ends handoffs whose auto-resume time has passed (`autoResumeMinutes`), on
 * every instance: the repository's single update lets only one of them
 * resume a given conversation.
 */
@Injectable()
export class HandoffResumeJob
  implements OnApplicationBootstrap, OnApplicationShutdown
{
  private readonly logger = new Logger(HandoffResumeJob.name);
  private running = false;

  constructor(
    private readonly handoffs: HandoffService,
    private readonly scheduler: SchedulerRegistry,
  ) {}

  onApplicationBootstrap() {
    const interval = setInterval(
      () => void this.run(),
      HANDOFF_RESUME_EVERY_MS,
    );
    interval.unref();
    this.scheduler.addInterval(JOB, interval);
  }

  onApplicationShutdown() {
    if (this.scheduler.doesExist('interval', JOB))
      this.scheduler.deleteInterval(JOB);
  }

  /** One pass; returns the conversations given back to the bot. */
  async run(now = new Date()): Promise<string[]> {
    if (this.running) return [];
    this.running = true;
    try {
      return await this.handoffs.resumeDue(now);
    } catch (error) {
      this.logger.error(
        { err: error },
        'resuming due handoffs failed; will try again',
      );
      return [];
    } finally {
      this.running = false;
    }
  }
}
