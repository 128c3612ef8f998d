import {
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { AppConfig } from '../config/app-config';
import { DatabaseConnection } from '../database/database-connection';
import { longestSendMs } from '../whatsapp/graph-error.classifier';
import { MAX_SEND_RETRY_DELAY_MS } from '../whatsapp/whatsapp.client';
import { OutboxStore } from '../outbound/outbox.store';
import { TurnStore } from './turn.store';
import { TurnQueue } from './queue/turn.queue';

const JOB = 'pending-work-sweep';
const SWEEP_EVERY_MS = 10_000;
/** Work younger than its debounce plus this is still on its way through a queue. */
const GRACE_MS = 5_000;

/**
 * How long a claim for sending may stand before it is taken back: longer
 * than any one message can take to send, retries included.
 */
export function staleSendMs(config: AppConfig): number {
  const { sendMaxAttempts, httpTimeoutMs, retryBaseMs } = config.whatsapp;
  return longestSendMs({
    sendMaxAttempts,
    httpTimeoutMs,
    retryBaseMs,
    maxRetryDelayMs: MAX_SEND_RETRY_DELAY_MS,
  });
}

/**
 * Crash recovery: on start, and every 10 s after, every conversation with
 * unanswered or unsent messages gets a turn. A message acknowledged before a
 * crash, or whose turn failed for good, is answered this way.
 */
@Injectable()
export class PendingWorkSweeper
  implements OnApplicationBootstrap, OnApplicationShutdown
{
  private readonly logger = new Logger(PendingWorkSweeper.name);

  /** Longer than any one message can take to send, retries included. */
  private readonly staleSendMs: number;
  private readonly graceMs: number;

  constructor(
    private readonly turns: TurnStore,
    private readonly outbox: OutboxStore,
    private readonly queue: TurnQueue,
    private readonly scheduler: SchedulerRegistry,
    private readonly connection: DatabaseConnection,
    config: AppConfig,
  ) {
    this.staleSendMs = staleSendMs(config);
    this.graceMs = config.conversation.replyDebounceMs + GRACE_MS;
  }

  async onApplicationBootstrap() {
    // PGlite belongs to this process alone: whatever it left in `sending`
    // was interrupted by the last stop. A shared server may have live
    // senders, so only stale claims are taken back there.
    await this.releaseStaleSends(
      this.connection.driver === 'pglite'
        ? new Date()
        : new Date(Date.now() - this.staleSendMs),
    );
    const recovered = await this.sweep(
      this.connection.driver === 'pglite' ? 0 : this.graceMs,
    );
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

  private async releaseStaleSends(before: Date) {
    try {
      const released = await this.outbox.releaseStaleSends(before);
      for (const message of released) {
        // Meta has no idempotency key: we cannot know whether it arrived,
        // and a possible repeat beats silence.
        this.logger.warn(
          { messageId: message.id, conversationId: message.conversationId },
          'resending a message interrupted mid-send; the customer may see it twice',
        );
      }
    } catch (error) {
      this.logger.error({ err: error }, 'could not release interrupted sends');
    }
  }

  async sweep(graceMs = this.graceMs): Promise<number> {
    await this.releaseStaleSends(new Date(Date.now() - this.staleSendMs));
    try {
      const ids = await this.turns.findConversationsWithPendingWork(
        new Date(Date.now() - graceMs),
      );
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
