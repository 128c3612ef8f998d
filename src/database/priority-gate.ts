import { AsyncLocalStorage } from 'node:async_hooks';

type Priority = 'urgent' | 'normal';

const priority = new AsyncLocalStorage<Priority>();

/**
 * Runs `work` with its database statements ahead of everything else queued
 * on the embedded database: webhook acknowledgements must not wait behind
 * turns. No effect on a PostgreSQL server, which has a pool of connections.
 */
export function urgently<T>(work: () => Promise<T>): Promise<T> {
  return priority.run('urgent', work);
}

/**
 * Admits one unit of database work at a time (a statement, or a whole
 * transaction), urgent work first, in arrival order within a priority.
 * PGlite runs one statement at a time anyway; this only decides who is next.
 */
export class PriorityGate {
  private busy = false;
  private readonly waiting: Record<Priority, Array<() => void>> = {
    urgent: [],
    normal: [],
  };

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.busy) {
      const queue = this.waiting[priority.getStore() ?? 'normal'];
      await new Promise<void>((resolve) => queue.push(resolve));
    }
    this.busy = true;
    try {
      return await work();
    } finally {
      this.release();
    }
  }

  /** Units waiting to be admitted, by priority. */
  get queued(): { urgent: number; normal: number } {
    return {
      urgent: this.waiting.urgent.length,
      normal: this.waiting.normal.length,
    };
  }

  private release() {
    const next = this.waiting.urgent.shift() ?? this.waiting.normal.shift();
    if (next) next();
    else this.busy = false;
  }
}
