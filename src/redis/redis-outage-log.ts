import { Logger } from '@nestjs/common';

/**
 * Reports the outages of one Redis server, once each, across all the
 * connections to it: while Redis is down ioredis reports an error at every
 * reconnection attempt of every connection, which would fill the log. The
 * first connection error logs the loss (error level); the others are
 * swallowed until every connection that failed is ready again, which logs
 * the recovery (log level).
 */
export class RedisOutageLog {
  /** Connections that failed and are not ready again. */
  private readonly failing = new Set<object>();
  private downSince: number | null = null;
  private closing = false;

  constructor(
    private readonly logger: Pick<Logger, 'error' | 'log'> = new Logger(
      'Redis',
    ),
  ) {}

  /** Whether an outage is under way (logged, not over yet). */
  get down(): boolean {
    return this.downSince !== null;
  }

  /** A connection error of `connection`: logged when it begins an outage. */
  failed(connection: object, error: unknown): void {
    this.failing.add(connection);
    if (this.downSince !== null || this.closing) return;
    this.downSince = Date.now();
    const reason = error instanceof Error ? error.message : String(error);
    this.logger.error(
      { err: error },
      `Redis connection lost (${reason}); reconnecting, and not logging each attempt until it is back`,
    );
  }

  /** `connection` is connected and ready: the outage ends when it was the last one. */
  ready(connection: object): void {
    if (!this.failing.delete(connection)) return;
    this.endIfOver(true);
  }

  /** `connection` was closed for good (it will not come back). */
  ended(connection: object): void {
    if (!this.failing.delete(connection)) return;
    this.endIfOver(false);
  }

  /** Closing on purpose: nothing more is logged. */
  close(): void {
    this.closing = true;
  }

  private endIfOver(recovered: boolean): void {
    if (this.failing.size > 0 || this.downSince === null) return;
    const seconds = ((Date.now() - this.downSince) / 1000).toFixed(1);
    this.downSince = null;
    if (recovered && !this.closing) {
      this.logger.log(`Redis connection is back after ${seconds} s`);
    }
  }
}
