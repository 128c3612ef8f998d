import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { DelayedError, Job, Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { RedisConnection } from '../../../redis/redis-connection';
import {
  addCorrelationIds,
  MAX_CORRELATION_IDS,
  QueueCounts,
  ScheduleOptions,
  TurnQueue,
} from '../turn.queue';
import { TurnService } from '../../turn.service';

interface TurnJob {
  conversationId: string;
  correlationIds?: string[];
}

const QUEUE = 'turns';
/** A worker that stops renewing its lock (it died) loses its job within ~15 s. */
const LOCK_DURATION_MS = 10_000;
const STALLED_INTERVAL_MS = 5_000;
const CONVERSATION_LOCK_MS = 15_000;
const LOCK_BUSY_RETRY_MS = 1_000;

/** Correlation ids waiting for a conversation's next run are kept this long at most. */
const CORRELATION_TTL_MS = 3_600_000;

const RELEASE_LOCK = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const RENEW_LOCK = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const TAKE_LIST = `local ids = redis.call('lrange', KEYS[1], 0, -1) redis.call('del', KEYS[1]) return ids`;

/**
 * Turns on BullMQ, shared by every instance. One job per conversation:
 * BullMQ's deduplication (keyed by the conversation) makes a burst, or a
 * re-delivery on another instance, one delayed job whose delay restarts with
 * each message (the debounce), and a job added while one runs becomes a
 * single follow-up. A Redis lock per conversation is the second guard: two
 * turns of one conversation never run at once, even when BullMQ hands a
 * stalled job to another worker. Failed turns are retried with exponential
 * backoff; after the last attempt the job stays in the failed set (the dead
 * letters counted in the stats) and the pending-work sweep tries again.
 *
 * A deduplicated add keeps the waiting job's data, so the correlation ids of
 * the webhooks a run answers gather in a Redis list per conversation, which
 * the run takes when it starts (and keeps in its job data for retries).
 */
export class BullMqTurnQueue extends TurnQueue {
  private readonly logger = new Logger(BullMqTurnQueue.name);
  private readonly queue: Queue<TurnJob>;
  private readonly worker: Worker<TurnJob>;
  private readonly redis: Redis;
  private readonly queueClient: Redis;
  private readonly prefix: string;
  private closed = false;

  constructor(
    private readonly turns: TurnService,
    connection: RedisConnection,
    private readonly debounceMs: number,
    concurrency: number,
  ) {
    super();
    this.prefix = connection.keyPrefix;
    this.redis = connection.client!;
    this.queueClient = connection.duplicate({ maxRetriesPerRequest: 2 });
    this.queue = new Queue<TurnJob>(QUEUE, {
      connection: this.queueClient,
      prefix: this.prefix,
      defaultJobOptions: {
        attempts: 5,
        backoff: { type: 'exponential', delay: 1000 },
        removeOnComplete: true,
        removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
      },
    });
    this.queue.on('error', (error) =>
      this.logger.error({ err: error }, 'turn queue error'),
    );
    this.worker = new Worker<TurnJob>(
      QUEUE,
      (job, token) => this.process(job, token),
      {
        connection: connection.duplicate({ maxRetriesPerRequest: null }),
        prefix: this.prefix,
        concurrency,
        lockDuration: LOCK_DURATION_MS,
        stalledInterval: STALLED_INTERVAL_MS,
        maxStalledCount: 3,
      },
    );
    this.worker.on('error', (error) =>
      this.logger.error({ err: error }, 'turn worker error'),
    );
    this.worker.on('failed', (job, error) => {
      if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) {
        this.logger.error(
          {
            err: error,
            conversationId: job.data.conversationId,
            attempts: job.attemptsMade,
          },
          'turn failed after every retry (dead letter); the pending-work sweep will try again',
        );
      }
    });
  }

  async schedule(
    conversationId: string,
    options: ScheduleOptions = {},
  ): Promise<void> {
    if (this.closed) return;
    const correlationIds = options.correlationIds ?? [];
    if (correlationIds.length > 0) {
      const key = this.correlationKey(conversationId);
      // The queue's connection: it waits for Redis as `add` does.
      await this.queueClient
        .multi()
        .rpush(key, ...correlationIds)
        .ltrim(key, -MAX_CORRELATION_IDS, -1)
        .pexpire(key, CORRELATION_TTL_MS)
        .exec();
    }
    await this.queue.add(
      'turn',
      { conversationId, correlationIds },
      {
        delay: options.delayMs ?? this.debounceMs,
        deduplication: {
          id: conversationId,
          keepLastIfActive: true,
          reschedule: true,
        },
      },
    );
  }

  async counts(): Promise<QueueCounts> {
    const counts = await this.queue.getJobCounts(
      'waiting',
      'delayed',
      'active',
      'failed',
      'prioritized',
    );
    return {
      waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
      delayed: counts.delayed ?? 0,
      active: counts.active ?? 0,
      failed: counts.failed ?? 0,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    // Waits for running turns; jobs not started stay in Redis for the others.
    await this.worker.close();
    await this.queue.close();
  }

  private correlationKey(conversationId: string) {
    return `${this.prefix}:turn-correlation:${conversationId}`;
  }

  /** The job's correlation ids and those gathered since (kept for retries). */
  private async takeCorrelationIds(job: Job<TurnJob>): Promise<string[]> {
    const gathered = (await this.redis.eval(
      TAKE_LIST,
      1,
      this.correlationKey(job.data.conversationId),
    )) as string[];
    const ids = addCorrelationIds(
      [...(job.data.correlationIds ?? [])],
      gathered,
    );
    if (ids.length !== (job.data.correlationIds ?? []).length) {
      await job.updateData({ ...job.data, correlationIds: ids });
    }
    return ids;
  }

  private async process(job: Job<TurnJob>, token?: string): Promise<void> {
    const { conversationId } = job.data;
    const lockKey = `${this.prefix}:turn-lock:${conversationId}`;
    const lockToken = randomUUID();
    const acquired = await this.redis.set(
      lockKey,
      lockToken,
      'PX',
      CONVERSATION_LOCK_MS,
      'NX',
    );
    if (!acquired) {
      await job.moveToDelayed(Date.now() + LOCK_BUSY_RETRY_MS, token);
      throw new DelayedError();
    }
    const renew = setInterval(() => {
      void this.redis
        .eval(RENEW_LOCK, 1, lockKey, lockToken, CONVERSATION_LOCK_MS)
        .catch(() => undefined);
    }, CONVERSATION_LOCK_MS / 3);
    let retryAfterMs: number | undefined;
    try {
      const correlationIds = await this.takeCorrelationIds(job);
      ({ retryAfterMs } = await this.turns.run(conversationId, correlationIds));
    } finally {
      clearInterval(renew);
      await this.redis
        .eval(RELEASE_LOCK, 1, lockKey, lockToken)
        .catch(() => undefined);
    }
    if (retryAfterMs !== undefined) {
      // Flood control: the same job comes back when the customer may get a turn.
      await job.moveToDelayed(Date.now() + retryAfterMs, token);
      throw new DelayedError();
    }
  }
}
