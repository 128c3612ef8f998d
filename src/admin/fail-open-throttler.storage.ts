import { Logger } from '@nestjs/common';
import { ThrottlerStorage, ThrottlerStorageService } from '@nestjs/throttler';

/** What a throttler storage answers (the type is not exported by the package). */
export type ThrottlerStorageRecord = Awaited<
  ReturnType<ThrottlerStorage['increment']>
>;

export interface FailOpenOptions {
  /** How long a call to the shared storage may take before it counts as failed. */
  timeoutMs?: number;
  /** While the shared storage is failing, how often one request tries it again. */
  retryMs?: number;
  logger?: Pick<Logger, 'warn' | 'log'>;
}

/**
 * The admin rate limit on shared counters (Redis) that fails open: when the
 * shared storage throws or does not answer within `timeoutMs`, requests are
 * counted by this instance alone (in memory) instead of failing, and the
 * shared storage is tried again every `retryMs`. One warning when that
 * starts and one line when the shared counters are back, however many
 * requests come in between.
 */
export class FailOpenThrottlerStorage implements ThrottlerStorage {
  private readonly timeoutMs: number;
  private readonly retryMs: number;
  private readonly logger: Pick<Logger, 'warn' | 'log'>;
  /** When the shared storage began failing; null while it works. */
  private failingSince: number | null = null;
  private nextTryAt = 0;
  private trying = false;

  constructor(
    private readonly shared: ThrottlerStorage,
    private readonly local: ThrottlerStorage = new ThrottlerStorageService(),
    options: FailOpenOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 1000;
    this.retryMs = options.retryMs ?? 5000;
    this.logger = options.logger ?? new Logger(FailOpenThrottlerStorage.name);
  }

  /** Whether requests are counted per instance because the shared storage is failing. */
  get failingOpen(): boolean {
    return this.failingSince !== null;
  }

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    const local = () =>
      this.local.increment(key, ttl, limit, blockDuration, throttlerName);
    const probing = this.failingSince !== null;
    if (probing) {
      // One request at a time finds out whether the shared storage is back.
      if (this.trying || Date.now() < this.nextTryAt) return local();
      this.trying = true;
    }
    try {
      const record = await this.withTimeout(
        this.shared.increment(key, ttl, limit, blockDuration, throttlerName),
      );
      this.recovered();
      return record;
    } catch (error) {
      this.failed(error);
      return local();
    } finally {
      if (probing) this.trying = false;
    }
  }

  private failed(error: unknown): void {
    this.nextTryAt = Date.now() + this.retryMs;
    if (this.failingSince !== null) return;
    this.failingSince = Date.now();
    this.logger.warn(
      `admin rate-limit storage failed (${error instanceof Error ? error.message : String(error)}); counting admin requests per instance until it answers again`,
    );
  }

  private recovered(): void {
    if (this.failingSince === null) return;
    const seconds = ((Date.now() - this.failingSince) / 1000).toFixed(1);
    this.failingSince = null;
    this.logger.log(
      `admin rate-limit storage answers again after ${seconds} s; counting admin requests across instances again`,
    );
  }

  private async withTimeout<T>(call: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
    });
    try {
      return await Promise.race([call, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
