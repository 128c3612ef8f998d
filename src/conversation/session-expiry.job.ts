import {
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { ConversationConfig } from '../config/app-config';
import { ConversationStore } from './conversation.store';

const JOB = 'session-expiry';

/**
 * Marks conversations idle for SESSION_TIMEOUT_MINUTES expired. Runs every
 * quarter of the timeout (between 1 s and 60 s). Ingest checks idleness too,
 * so correctness never waits for this job. (Handoffs that end on their own
 * are the HandoffResumeJob's.)
 */
@Injectable()
export class SessionExpiryJob
  implements OnApplicationBootstrap, OnApplicationShutdown
{
  private readonly logger = new Logger(SessionExpiryJob.name);
  private running = false;

  constructor(
    private readonly repository: ConversationStore,
    private readonly scheduler: SchedulerRegistry,
    private readonly settings: ConversationConfig,
  ) {}

  onApplicationBootstrap() {
    const timeout = this.settings.sessionTimeoutMs;
    const every = Math.min(60_000, Math.max(1000, Math.floor(timeout / 4)));
    const interval = setInterval(() => void this.expire(), every);
    interval.unref();
    this.scheduler.addInterval(JOB, interval);
  }

  onApplicationShutdown() {
    if (this.scheduler.doesExist('interval', JOB))
      this.scheduler.deleteInterval(JOB);
  }

  async expire(now = new Date()): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    try {
      const cutoff = new Date(now.getTime() - this.settings.sessionTimeoutMs);
      const expired = await this.repository.expireIdle(cutoff, now);
      if (expired > 0)
        this.logger.log({ expired }, 'expired idle conversations');
      return expired;
    } catch (error) {
      this.logger.error(
        { err: error },
        'session expiry failed; will try again',
      );
      return 0;
    } finally {
      this.running = false;
    }
  }
}
