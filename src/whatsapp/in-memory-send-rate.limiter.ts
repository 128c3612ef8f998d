import { SendRateLimiter, sleep } from './send-rate.limiter';

/**
 * One process: a fixed one-second window for the number's throughput and a
 * map of recipients on hold.
 */
export class InMemorySendRateLimiter extends SendRateLimiter {
  private windowStart = 0;
  private used = 0;
  private readonly held = new Map<string, number>();

  constructor(
    private readonly perSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    super();
  }

  async acquire(waId: string): Promise<void> {
    for (;;) {
      const now = this.now();
      const heldUntil = this.held.get(waId) ?? 0;
      if (heldUntil > now) {
        await sleep(heldUntil - now);
        continue;
      }
      this.held.delete(waId);
      const second = Math.floor(now / 1000) * 1000;
      if (second !== this.windowStart) {
        this.windowStart = second;
        this.used = 0;
      }
      if (this.used < this.perSecond) {
        this.used += 1;
        return;
      }
      await sleep(second + 1000 - now);
    }
  }

  holdRecipient(waId: string, ms: number): Promise<void> {
    this.held.set(waId, Math.max(this.held.get(waId) ?? 0, this.now() + ms));
    return Promise.resolve();
  }
}
