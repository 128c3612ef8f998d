import { createServer } from 'node:net';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import { Controller, Get, UseGuards } from '@nestjs/common';
import {
  FastifyAdapter,
  NestFastifyApplication,
} from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import {
  ThrottlerGuard,
  ThrottlerModule,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import { Redis } from 'ioredis';
import {
  FailOpenThrottlerStorage,
  type ThrottlerStorageRecord,
} from './fail-open-throttler.storage';

const TTL_MS = 60_000;
const LIMIT = 3;

/** Stands in for the Redis storage: answers, throws or hangs, as told. */
class SharedStorage implements ThrottlerStorage {
  mode: 'up' | 'down' | 'hanging' = 'up';
  calls = 0;
  private readonly hits = new Map<string, number>();

  increment(key: string): Promise<ThrottlerStorageRecord> {
    this.calls++;
    if (this.mode === 'down') {
      return Promise.reject(
        new Error(
          "Stream isn't writeable and enableOfflineQueue options is false",
        ),
      );
    }
    if (this.mode === 'hanging') return new Promise(() => undefined);
    const totalHits = (this.hits.get(key) ?? 0) + 1;
    this.hits.set(key, totalHits);
    return Promise.resolve({
      totalHits,
      timeToExpire: 60,
      isBlocked: totalHits > LIMIT,
      timeToBlockExpire: totalHits > LIMIT ? 60 : 0,
    });
  }
}

class CapturingLogger {
  readonly warnings: string[] = [];
  readonly logs: string[] = [];
  warn(message: string) {
    this.warnings.push(message);
  }
  log(message: string) {
    this.logs.push(message);
  }
}

/** A port on 127.0.0.1 where nothing listens. */
const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        resolve(typeof address === 'object' && address ? address.port : 0),
      );
    });
  });

const hit = (storage: ThrottlerStorage, key = 'client-a') =>
  storage.increment(key, TTL_MS, LIMIT, TTL_MS, 'default');

describe('FailOpenThrottlerStorage', () => {
  let shared: SharedStorage;
  let logger: CapturingLogger;
  let storage: FailOpenThrottlerStorage;

  beforeEach(() => {
    shared = new SharedStorage();
    logger = new CapturingLogger();
    storage = new FailOpenThrottlerStorage(shared, undefined, {
      timeoutMs: 100,
      retryMs: 200,
      logger,
    });
  });

  it('counts on the shared storage while it works, and logs nothing', async () => {
    const records = [];
    for (let i = 0; i < 4; i++) records.push(await hit(storage));

    expect(records.map((r) => [r.totalHits, r.isBlocked])).toEqual([
      [1, false],
      [2, false],
      [3, false],
      [4, true],
    ]);
    expect(shared.calls).toBe(4);
    expect(storage.failingOpen).toBe(false);
    expect([...logger.warnings, ...logger.logs]).toEqual([]);
  });

  it('answers every request while the shared storage throws, still limits per instance, and warns once', async () => {
    shared.mode = 'down';
    const records: ThrottlerStorageRecord[] = [];
    for (let i = 0; i < 50; i++) records.push(await hit(storage));

    expect(records.slice(0, LIMIT).map((r) => r.isBlocked)).toEqual([
      false,
      false,
      false,
    ]);
    expect(records.slice(0, LIMIT).map((r) => r.totalHits)).toEqual([1, 2, 3]);
    // The limit still holds, on this instance's own count.
    expect(records[LIMIT].isBlocked).toBe(true);
    expect((await hit(storage, 'client-b')).isBlocked).toBe(false);
    expect(storage.failingOpen).toBe(true);
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0]).toContain('enableOfflineQueue');
    // Within retryMs of the failure the shared storage is not asked again.
    expect(shared.calls).toBe(1);
  });

  it('does not wait longer than timeoutMs on a shared storage that does not answer (a partition)', async () => {
    shared.mode = 'hanging';
    const startedAt = Date.now();
    const record = await hit(storage);

    expect(Date.now() - startedAt).toBeLessThan(1000);
    expect(record.totalHits).toBe(1);
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0]).toContain('no answer within 100 ms');
  });

  it('goes back to the shared storage once it answers again, and says so once', async () => {
    shared.mode = 'down';
    await hit(storage);
    await new Promise((r) => setTimeout(r, 250));
    // Still down at the next try: no second warning.
    await hit(storage);
    expect(shared.calls).toBe(2);

    shared.mode = 'up';
    await new Promise((r) => setTimeout(r, 250));
    const back = await hit(storage);
    await hit(storage);

    expect(back.totalHits).toBe(1);
    expect(shared.calls).toBe(4);
    expect(storage.failingOpen).toBe(false);
    expect(logger.warnings).toHaveLength(1);
    expect(logger.logs).toHaveLength(1);
    expect(logger.logs[0]).toMatch(/answers again after \d+\.\d s/);

    // A new outage is a new warning.
    shared.mode = 'down';
    await hit(storage);
    expect(logger.warnings).toHaveLength(2);
  });

  it('tries the shared storage with one request at a time while it is failing', async () => {
    shared.mode = 'down';
    await hit(storage);
    await new Promise((r) => setTimeout(r, 250));
    shared.mode = 'hanging';
    const records = await Promise.all(
      Array.from({ length: 10 }, () => hit(storage)),
    );

    expect(records).toHaveLength(10);
    expect(shared.calls).toBe(2);
    expect(logger.warnings).toHaveLength(1);
  });
});

describe('FailOpenThrottlerStorage behind ThrottlerGuard', () => {
  let app: NestFastifyApplication;
  let redis: Redis;

  @Controller()
  class PingController {
    @Get('ping')
    @UseGuards(ThrottlerGuard)
    ping() {
      return { ok: true };
    }
  }

  beforeAll(async () => {
    // The real Redis storage on a Redis that is down: nothing listens on the
    // port, and commands fail at once as on the service's own connection.
    const port = await freePort();
    redis = new Redis(`redis://127.0.0.1:${port}`, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 2,
    });
    const moduleRef = await Test.createTestingModule({
      imports: [
        ThrottlerModule.forRoot({
          throttlers: [{ ttl: TTL_MS, limit: LIMIT }],
          storage: new FailOpenThrottlerStorage(
            new ThrottlerStorageRedisService(redis),
            undefined,
            { logger: new CapturingLogger() },
          ),
        }),
      ],
      controllers: [PingController],
    }).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(
      new FastifyAdapter(),
      { logger: false },
    );
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });
  afterAll(async () => {
    await app.close();
    redis.disconnect();
  });

  it('answers requests while Redis is down (not 500), and still answers 429 above the limit', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 1; i++) {
      const res = await app.inject({ method: 'GET', url: '/ping' });
      statuses.push(res.statusCode);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
  });
});
