import { InMemorySendRateLimiter } from './in-memory-send-rate.limiter';

const atStartOfASecond = async () => {
  while (Date.now() % 1000 > 50) await new Promise((r) => setTimeout(r, 5));
};

describe('InMemorySendRateLimiter', () => {
  it('lets WHATSAPP_MESSAGES_PER_SECOND sends through per second and holds the rest for the next second', async () => {
    const limiter = new InMemorySendRateLimiter(3);
    await atStartOfASecond();
    // floor + 1 s: ceil would give this very millisecond on a whole second.
    const nextSecond = Math.floor(Date.now() / 1000) * 1000 + 1000;
    const done: number[] = [];
    await Promise.all(
      [1, 2, 3, 4, 5].map(async (i) => {
        await limiter.acquire(`1555000000${i}`);
        done.push(Date.now());
      }),
    );
    expect(done.filter((t) => t < nextSecond)).toHaveLength(3);
    expect(done.filter((t) => t >= nextSecond)).toHaveLength(2);
  });

  it('holds a recipient after a pair-rate-limit answer, and only that recipient', async () => {
    const limiter = new InMemorySendRateLimiter(100);
    await limiter.holdRecipient('15550001', 300);
    const started = Date.now();
    let heldFor = -1;
    const held = limiter
      .acquire('15550001')
      .then(() => (heldFor = Date.now() - started));
    await limiter.acquire('15550002');
    expect(Date.now() - started).toBeLessThan(100);
    expect(heldFor).toBe(-1);
    await held;
    expect(heldFor).toBeGreaterThanOrEqual(290);
  });
});
