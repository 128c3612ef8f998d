import { Redis, RedisOptions } from 'ioredis';
import { RedisOutageLog } from './redis-outage-log';

/** Options of a client with ioredis's default (RESP2) replies. */
type ClientOptions = Omit<RedisOptions, 'replyMapping'>;

/**
 * A connection error: one raised while the client is not ready (connecting,
 * reconnecting) or by its socket. Other errors ioredis emits are left alone.
 */
const isConnectionError = (client: Redis, error: unknown): boolean =>
  client.status !== 'ready' || (error instanceof Error && 'syscall' in error);

/**
 * An ioredis client whose connection errors go to the outage log instead of
 * to its 'error' listeners: BullMQ logs every error event of its clients
 * (once per reconnection attempt while Redis is down), and the log says the
 * same thing once per outage. Its duplicates (BullMQ's blocking connections)
 * report to the same log. Reconnection itself is unchanged.
 */
class ReportingRedis extends Redis {
  private readonly outages: RedisOutageLog;

  constructor(outages: RedisOutageLog, options: ClientOptions, url?: string) {
    if (url === undefined) super(options);
    else super(url, options);
    this.outages = outages;
    this.on('ready', () => outages.ready(this));
    this.on('end', () => outages.ended(this));
  }

  override emit(event: string | symbol, ...args: unknown[]): boolean {
    // (`outages` is unset while ioredis's constructor runs.)
    if (
      event === 'error' &&
      this.outages !== undefined &&
      isConnectionError(this, args[0])
    ) {
      this.outages.failed(this, args[0]);
      return true;
    }
    return super.emit(event, ...args);
  }

  override duplicate(override?: Partial<RedisOptions>): Redis {
    return new ReportingRedis(this.outages, { ...this.options, ...override });
  }
}

/**
 * The Redis server of the scale-out mode (REDIS_URL), or none. Commands on a
 * lost connection fail fast instead of queueing forever, so callers see the
 * fault and handle it. A lost connection is logged once, and so is its return
 * (see RedisOutageLog).
 */
export class RedisConnection {
  readonly client: Redis | null;
  private readonly extra: Redis[] = [];

  constructor(
    private readonly url: string | null,
    readonly keyPrefix: string,
    private readonly outages = new RedisOutageLog(),
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
    this.outages.close();
    await Promise.all(
      [this.client, ...this.extra]
        .filter((c): c is Redis => c !== null)
        .map((c) => c.quit().catch(() => c.disconnect())),
    );
  }

  private connect(options: RedisOptions): Redis {
    const client = new ReportingRedis(
      this.outages,
      { lazyConnect: false, ...options },
      this.url!,
    );
    // Reconnection is automatic; an 'error' without a listener would crash.
    client.on('error', () => undefined);
    return client;
  }
}
