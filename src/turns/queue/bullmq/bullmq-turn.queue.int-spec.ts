import { randomUUID } from 'node:crypto';
import { RedisConnection } from '../../../redis/redis-connection';
import { BullMqTurnQueue } from './bullmq-turn.queue';
import { turnQueueContract } from '../turn-queue.contract';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('BullMqTurnQueue on the Redis server', () => {
  const connections: RedisConnection[] = [];
  afterAll(async () => {
    await Promise.all(connections.map((c) => c.close()));
  });

  turnQueueContract((turns, debounceMs, concurrency) => {
    // A fresh key prefix per test: no state leaks between them.
    const connection = new RedisConnection(
      url,
      `clariops-test-${randomUUID().slice(0, 8)}`,
    );
    connections.push(connection);
    return Promise.resolve(
      new BullMqTurnQueue(turns, connection, debounceMs, concurrency),
    );
  });
});
