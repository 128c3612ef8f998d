export interface GroupCommitOptions<I> {
  /** Most items in one write, as `sizeOf` counts them. Default 256. */
  maxBatch?: number;
  /**
   * What an item counts for against `maxBatch` (default 1): with its share
   * of the work, a batch stays short enough not to hold up others waiting
   * at the database. A batch always takes its first item, whatever its size.
   */
  sizeOf?: (item: I) => number;
  /**
   * Writes in progress at once (default 1): with two, the next batch is
   * ready for the database the moment the previous one is done.
   */
  maxInFlight?: number;
  /**
   * What an item writes to: an item sharing a key with one already in the
   * batch waits for a later batch, so one write never holds two items for
   * the same row (writes of their own, even at once, are ordered by the
   * database's locks).
   */
  keysOf?: (item: I) => string[];
}

/**
 * Collects items submitted while a write is in flight and writes them
 * together, so concurrent requests share one statement or transaction (group
 * commit). At low load an item is written on the next turn of the event
 * loop; under load, batches grow up to `maxBatch` without any added timer.
 * The write answers each item: its results come in the order of its items.
 *
 * If a batch fails and held more than one item, each item is retried on its
 * own so that one poisonous item fails alone. A write must therefore be
 * atomic: a failed one has changed nothing.
 */
export class GroupCommitter<I, O> {
  private queue: Array<{
    item: I;
    resolve: (o: O) => void;
    reject: (e: unknown) => void;
  }> = [];
  private active = 0;
  private scheduled = false;
  private readonly maxBatch: number;
  private readonly maxInFlight: number;

  constructor(
    private readonly write: (items: I[]) => Promise<O[]>,
    private readonly options: GroupCommitOptions<I> = {},
  ) {
    this.maxBatch = options.maxBatch ?? 256;
    this.maxInFlight = options.maxInFlight ?? 1;
  }

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.scheduled && this.active < this.maxInFlight) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          void this.drain();
        });
      }
    });
  }

  private async drain(): Promise<void> {
    this.active++;
    while (this.queue.length > 0) {
      const batch = this.nextBatch();
      try {
        const results = await this.writeAll(batch.map((b) => b.item));
        batch.forEach((b, n) => b.resolve(results[n]));
      } catch (error) {
        if (batch.length === 1) {
          batch[0].reject(error);
          continue;
        }
        for (const entry of batch) {
          try {
            const [result] = await this.writeAll([entry.item]);
            entry.resolve(result);
          } catch (single) {
            entry.reject(single);
          }
        }
      }
    }
    this.active--;
  }

  private nextBatch() {
    const { keysOf, sizeOf } = this.options;
    const batch: typeof this.queue = [];
    const waiting: typeof this.queue = [];
    const taken = new Set<string>();
    let size = 0;
    for (const entry of this.queue) {
      const keys = keysOf?.(entry.item) ?? [];
      const itemSize = sizeOf?.(entry.item) ?? 1;
      const fits = batch.length === 0 || size + itemSize <= this.maxBatch;
      // A key taken, or held by an item left waiting: items of one key
      // keep their order.
      if (fits && !keys.some((k) => taken.has(k))) {
        size += itemSize;
        batch.push(entry);
      } else {
        waiting.push(entry);
      }
      keys.forEach((k) => taken.add(k));
    }
    this.queue = waiting;
    return batch;
  }

  private async writeAll(items: I[]): Promise<O[]> {
    const results = await this.write(items);
    if (results.length !== items.length) {
      throw new Error(
        `group write answered ${results.length} of ${items.length} items`,
      );
    }
    return results;
  }
}
