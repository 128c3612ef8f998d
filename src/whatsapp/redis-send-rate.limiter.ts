import type { Redis } from 'ioredis';
import { SendRateLimiter, sleep } from './send-rate.limiter';

/**
 * Several instances: the one-second window is a Redis counter per number and
 * second, and a recipient on hold is a key with a time to live. If Redis is
 * unreachable the send goes ahead (Meta's own limit answers 130429, which is
 * retried): losing Redis must not stop replies.
 */
export class RedisSendRateLimiter extends SendRateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly phoneNumberId: string,
    private readonly perSecond: number,
  ) {
    super();
  }

  async acquire(waId: string): Promise<void> {
    for (let round = 0; round < 600; round++) {
      let wait: number;
      try {
        wait = await this.tryAcquire(waId);
      } catch {
        return;
      }
      if (wait <= 0) return;
      await sleep(wait);
    }
  }

  async holdRecipient(waId: string, ms: number): Promise<void> {
    try {
      await this.redis.set(
        this.pairKey(waId),
        '1',
        'PX',
        Math.max(1, Math.round(ms)),
      );
    } catch {
      // Best effort: the retry delay of the send itself still applies.
    }
  }

  /** 0 when a slot was taken, otherwise how long to wait before trying again. */
  private async tryAcquire(waId: string): Promise<number> {
    const held = await this.redis.pttl(this.pairKey(waId));
    if (held > 0) return held;
    const now = Date.now();
    const second = Math.floor(now / 1000);
    const key = `${this.prefix}:rate:${this.phoneNumberId}:${second}`;
    const [[, used]] = (await this.redis
      .multi()
      .incr(key)
      .pexpire(key, 2000)
      .exec()) as [[Error | null, number], [Error | null, number]];
    return used <= this.perSecond ? 0 : (second + 1) * 1000 - now;
  }

  private pairKey(waId: string) {
    return `${this.prefix}:pair-hold:${waId}`;
  }
}
