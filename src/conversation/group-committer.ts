/**
 * Collects items submitted while a write is in flight and writes them
 * together, so concurrent requests share one transaction (group commit).
 * At low load an item is written on the next turn of the event loop; under
 * load, batches grow up to `maxBatch` without any added timer.
 *
 * If a batch fails and held more than one item, each item is retried on its
 * own so that one poisonous item fails alone.
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
   */
  constructor(
    private readonly write: (items: I[]) => Promise<O>,
    private readonly maxBatch = 256,
    private readonly maxInFlight = 1,
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
      const batch = this.queue.splice(0, this.maxBatch);
      try {
        const result = await this.write(batch.map((b) => b.item));
        batch.forEach((b) => b.resolve(result));
      } catch (error) {
        if (batch.length === 1) {
          batch[0].reject(error);
          continue;
        }
        for (const entry of batch) {
          try {
            entry.resolve(await this.write([entry.item]));
          } catch (single) {
            entry.reject(single);
          }
        }
      }
    }
    this.active--;
  }
}
