import { TurnQueue } from './turn.queue';
import { TurnOutcome, TurnService } from '../turn.service';

/** A TurnService stand-in that records every run and can be told to be slow, fail or defer. */
export class RecordingTurns {
  readonly runs: Array<{
    id: string;
    start: number;
    end: number;
    correlationIds: string[];
  }> = [];
  running = new Map<string, number>();
  overlaps = 0;
  /** Most turns of any conversations running at the same time. */
  mostAtOnce = 0;
  private atOnce = 0;
  durationMs = 0;
  private failures = new Map<string, number>();
  private deferrals = new Map<string, number>();

  failNext(id: string, times: number) {
    this.failures.set(id, times);
  }

  deferOnce(id: string, ms: number) {
    this.deferrals.set(id, ms);
  }

  runsOf(id: string) {
    return this.runs.filter((r) => r.id === id);
  }

  async run(id: string, correlationIds: string[] = []): Promise<TurnOutcome> {
    const now = this.running.get(id) ?? 0;
    if (now > 0) this.overlaps += 1;
    this.running.set(id, now + 1);
    this.mostAtOnce = Math.max(this.mostAtOnce, ++this.atOnce);
    const start = Date.now();
    try {
      await new Promise((r) => setTimeout(r, this.durationMs));
      const failures = this.failures.get(id) ?? 0;
      if (failures > 0) {
        this.failures.set(id, failures - 1);
        throw new Error('turn failed on purpose');
      }
      const defer = this.deferrals.get(id);
      if (defer !== undefined) {
        this.deferrals.delete(id);
        return { status: 'throttled', retryAfterMs: defer };
      }
      return { status: 'replied' };
    } finally {
      this.atOnce--;
      this.running.set(id, (this.running.get(id) ?? 1) - 1);
      this.runs.push({ id, start, end: Date.now(), correlationIds });
    }
  }

  asService(): TurnService {
    return this as unknown as TurnService;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(20);
  }
}

/** The TURN_CONCURRENCY the contract's queues are built with. */
export const CONTRACT_CONCURRENCY = 3;

/**
 * What every TurnQueue adapter guarantees. `create` builds a queue with a
 * debounce of `debounceMs` around the given turns, running at most
 * `concurrency` turns at once.
 */
export function turnQueueContract(
  create: (
    turns: TurnService,
    debounceMs: number,
    concurrency: number,
  ) => Promise<TurnQueue>,
) {
  let turns: RecordingTurns;
  let queue: TurnQueue;
  let seq = 0;
  const id = () =>
    `00000000-0000-4000-8000-${String(Date.now() % 1e6).padStart(6, '0')}${String(++seq).padStart(6, '0')}`;

  beforeEach(async () => {
    turns = new RecordingTurns();
    queue = await create(turns.asService(), 150, CONTRACT_CONCURRENCY);
  });
  afterEach(async () => {
    await queue.close();
  });
  /** Nothing waits, is delayed or runs: no further run can come. */
  const idle = async () => {
    const counts = await queue.counts();
    return counts.waiting + counts.delayed + counts.active === 0;
  };

  it('runs a scheduled turn once, after the debounce', async () => {
    const c = id();
    const scheduled = Date.now();
    await queue.schedule(c);
    await until(async () => turns.runsOf(c).length === 1 && (await idle()));
    expect(turns.runsOf(c)[0].start - scheduled).toBeGreaterThanOrEqual(140);
    expect(turns.runsOf(c)).toHaveLength(1);
  });

  it('runs turns of different conversations side by side, never more than its concurrency', async () => {
    turns.durationMs = 300;
    const many = Array.from({ length: 8 }, id);
    for (const c of many) await queue.schedule(c, { delayMs: 0 });
    await until(() => many.every((c) => turns.runsOf(c).length === 1));
    expect(turns.mostAtOnce).toBe(CONTRACT_CONCURRENCY);
  });

  it('turns a burst of schedules into one run, its debounce restarted by each', async () => {
    const c = id();
    // A debounce far longer than the gaps, however slow the machine.
    let last = 0;
    for (let i = 0; i < 5; i++) {
      last = Date.now();
      await queue.schedule(c, { delayMs: 1000 });
      await sleep(30);
    }
    await until(async () => turns.runsOf(c).length >= 1 && (await idle()));
    expect(turns.runsOf(c)).toHaveLength(1);
    expect(turns.runsOf(c)[0].start - last).toBeGreaterThanOrEqual(950);
  });

  it('gives a run the correlation ids of every schedule it answers', async () => {
    const c = id();
    await queue.schedule(c, { correlationIds: ['webhook-a'] });
    await queue.schedule(c, { correlationIds: ['webhook-b', 'webhook-a'] });
    await queue.schedule(c);
    await until(async () => turns.runsOf(c).length >= 1 && (await idle()));
    expect(turns.runsOf(c).map((r) => r.correlationIds)).toEqual([
      ['webhook-a', 'webhook-b'],
    ]);
  });

  it('gives the ids scheduled during a run to the run after it', async () => {
    const c = id();
    turns.durationMs = 300;
    await queue.schedule(c, { delayMs: 0, correlationIds: ['webhook-a'] });
    await until(() => (turns.running.get(c) ?? 0) > 0);
    await queue.schedule(c, { correlationIds: ['webhook-b'] });
    await until(async () => turns.runsOf(c).length >= 2 && (await idle()));
    expect(turns.runsOf(c).map((r) => r.correlationIds)).toEqual([
      ['webhook-a'],
      ['webhook-b'],
    ]);
  });

  it('keeps the correlation ids of a turn it retries', async () => {
    const c = id();
    turns.failNext(c, 1);
    await queue.schedule(c, { delayMs: 0, correlationIds: ['webhook-a'] });
    await until(() => turns.runsOf(c).length === 2, 20_000);
    expect(turns.runsOf(c).map((r) => r.correlationIds)).toEqual([
      ['webhook-a'],
      ['webhook-a'],
    ]);
  });

  it('runs once more when scheduled during a run, never two runs of one conversation at once', async () => {
    const c = id();
    turns.durationMs = 400;
    await queue.schedule(c, { delayMs: 0 });
    await until(() => (turns.running.get(c) ?? 0) > 0);
    await Promise.all([
      queue.schedule(c),
      queue.schedule(c),
      queue.schedule(c),
    ]);
    await until(async () => turns.runsOf(c).length >= 2 && (await idle()));
    expect(turns.runsOf(c)).toHaveLength(2);
    expect(turns.overlaps).toBe(0);
    const [first, second] = turns.runsOf(c);
    expect(second.start).toBeGreaterThanOrEqual(first.end);
  });

  it('runs different conversations side by side', async () => {
    turns.durationMs = 400;
    const [a, b] = [id(), id()];
    await Promise.all([
      queue.schedule(a, { delayMs: 0 }),
      queue.schedule(b, { delayMs: 0 }),
    ]);
    await until(
      () => turns.runsOf(a).length === 1 && turns.runsOf(b).length === 1,
    );
    const [ra, rb] = [turns.runsOf(a)[0], turns.runsOf(b)[0]];
    expect(Math.max(ra.start, rb.start)).toBeLessThan(Math.min(ra.end, rb.end));
  });

  it('retries a failed turn', async () => {
    const c = id();
    turns.failNext(c, 1);
    await queue.schedule(c, { delayMs: 0 });
    await until(() => turns.runsOf(c).length === 2, 20_000);
  });

  it('runs a deferred turn again when it asked to', async () => {
    const c = id();
    turns.deferOnce(c, 300);
    await queue.schedule(c, { delayMs: 0 });
    await until(() => turns.runsOf(c).length === 2);
    const [first, second] = turns.runsOf(c);
    expect(second.start - first.end).toBeGreaterThanOrEqual(250);
  });

  it('counts a turn waiting for its debounce as delayed', async () => {
    const c = id();
    await queue.schedule(c, { delayMs: 5_000 });
    expect(await queue.counts()).toEqual({
      waiting: 0,
      delayed: 1,
      active: 0,
      failed: 0,
    });
  });

  it('lets a running turn finish when closed', async () => {
    const c = id();
    turns.durationMs = 300;
    await queue.schedule(c, { delayMs: 0 });
    await until(() => (turns.running.get(c) ?? 0) > 0);
    await queue.close();
    expect(turns.runsOf(c)).toHaveLength(1);
    expect(turns.running.get(c)).toBe(0);
  });
}
