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

  /**
   * @param maxBatch most items in one write
   * @param maxInFlight writes in progress at once: with two, the next batch
   *   is ready for the database the moment the previous one is done
   * @param keysOf what an item writes to: an item sharing a key with one
   *   already in the batch waits for a later batch, so one write never
   *   holds two items for the same row (writes of their own, even at once,
   *   are ordered by the database's locks)
   */
  constructor(
    private readonly write: (items: I[]) => Promise<O[]>,
    private readonly maxBatch = 256,
    private readonly maxInFlight = 1,
    private readonly keysOf?: (item: I) => string[],
  ) {}

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
    const { keysOf } = this;
    if (!keysOf) return this.queue.splice(0, this.maxBatch);
    const batch: typeof this.queue = [];
    const waiting: typeof this.queue = [];
    const taken = new Set<string>();
    for (const entry of this.queue) {
      const keys = keysOf(entry.item);
      if (batch.length < this.maxBatch && !keys.some((k) => taken.has(k))) {
        keys.forEach((k) => taken.add(k));
        batch.push(entry);
      } else {
        waiting.push(entry);
      }
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
