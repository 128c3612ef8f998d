import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import { BullMqTurnQueue } from '../src/turns/queue/bullmq/bullmq-turn.queue';
import type { TurnService } from '../src/turns/turn.service';
import { RedisConnection } from '../src/redis/redis-connection';
import { RedisOutageLog } from '../src/redis/redis-outage-log';
import { waitFor } from './fakes/wait-for';
import { TcpProxy } from './support/tcp-proxy';

jest.setTimeout(90_000);

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

class CapturingLogger {
  readonly errors: string[] = [];
  readonly logs: string[] = [];
  error(_fields: unknown, message: string) {
    this.errors.push(message);
  }
  log(message: string) {
    this.logs.push(message);
  }
}

// While Redis is down, ioredis reports an error at every reconnection
// attempt of every connection, and BullMQ passes each on to the turn queue,
// which logs it: one line per attempt. RedisConnection logs the loss and the
// recovery once each instead.
describe('RedisConnection while Redis is down', () => {
  const prefix = `clariops-outage-${randomUUID().slice(0, 8)}`;
  let proxy: TcpProxy;
  let logger: CapturingLogger;
  let connection: RedisConnection;
  let queue: BullMqTurnQueue;
  const ran: string[] = [];

  beforeAll(async () => {
    const target = new URL(REDIS_URL);
    proxy = await TcpProxy.start({
      targetHost: target.hostname,
      targetPort: Number(target.port || 6379),
    });
    logger = new CapturingLogger();
    connection = new RedisConnection(
      proxy.rewrite(REDIS_URL),
      prefix,
      new RedisOutageLog(logger),
    );
    const turns = {
      run: (id: string) => {
        ran.push(id);
        return Promise.resolve({ status: 'replied' });
      },
    } as unknown as TurnService;
    queue = new BullMqTurnQueue(turns, connection, 50, 2);
    await queue.counts();
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    await proxy.restore();
    // A worker closes once its connections are back (up to 20 s apart).
    await waitFor(() => logger.logs.length > 0 || logger.errors.length === 0, {
      timeoutMs: 40_000,
    }).catch(() => undefined);
    await queue?.close();
    await connection?.close();
    await proxy.close();
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('logs the loss once and the recovery once, not every reconnection attempt, and reconnects as before', async () => {
    const errorLines = jest.spyOn(Logger.prototype, 'error');
    let reconnections = 0;
    connection.client!.on('reconnecting', () => reconnections++);

    await proxy.refuse();
    // Several attempts, each of which would have logged a line of its own.
    await waitFor(() => reconnections >= 3, {
      timeoutMs: 30_000,
      message: 'ioredis did not try to reconnect',
    });

    expect(logger.errors).toHaveLength(1);
    expect(logger.errors[0]).toMatch(/^Redis connection lost \(.*ECONNREFUSED/);
    // No "turn queue error" / "turn worker error" per attempt. (A command
    // in flight when the connection drops may fail, and BullMQ reports that
    // failure itself: once.)
    expect(errorLines.mock.calls.length).toBeLessThanOrEqual(1);
    expect(logger.logs).toEqual([]);

    await proxy.restore();
    // BullMQ's worker connections wait up to 20 s between attempts.
    await waitFor(() => logger.logs.length > 0, {
      timeoutMs: 40_000,
      intervalMs: 100,
      message: 'the recovery was not logged',
    });
    expect(logger.logs).toHaveLength(1);
    expect(logger.logs[0]).toMatch(/^Redis connection is back after/);
    expect(logger.errors).toHaveLength(1);
    expect(errorLines.mock.calls.length).toBeLessThanOrEqual(1);
    await connection.ping();
    // The queue works again: a turn scheduled now runs.
    const conversationId = randomUUID();
    await queue.schedule(conversationId);
    await waitFor(() => ran.includes(conversationId), {
      timeoutMs: 30_000,
      message: 'no turn ran after Redis came back',
    });
    expect(ran).toEqual([conversationId]);
  });
});
