import { Redis, RedisOptions } from 'ioredis';

/**
 * The Redis server of the scale-out mode (REDIS_URL), or none. Commands on a
 * lost connection fail fast instead of queueing forever, so callers see the
 * fault and handle it.
 */
export class RedisConnection {
  readonly client: Redis | null;
  private readonly extra: Redis[] = [];

  constructor(
    private readonly url: string | null,
    readonly keyPrefix: string,
  ) {
    this.client = url
      ? this.connect({ maxRetriesPerRequest: 2, enableOfflineQueue: false })
      : null;
  }

  get enabled(): boolean {
    return this.client !== null;
  }

  /** A separate connection, as BullMQ workers need (blocking commands). */
  duplicate(options: RedisOptions = {}): Redis {
    if (!this.url) throw new Error('REDIS_URL is not set');
    const client = this.connect(options);
    this.extra.push(client);
    return client;
  }

  async ping(): Promise<void> {
    if (!this.client) throw new Error('REDIS_URL is not set');
    await this.client.ping();
  }

  async close(): Promise<void> {
    await Promise.all(
      [this.client, ...this.extra]
        .filter((c): c is Redis => c !== null)
        .map((c) => c.quit().catch(() => c.disconnect())),
    );
  }

  private connect(options: RedisOptions): Redis {
    const client = new Redis(this.url!, { lazyConnect: false, ...options });
    // Reconnection is automatic; an 'error' without a listener would crash.
    client.on('error', () => undefined);
    return client;
  }
}
