import { AsyncLocalStorage } from 'node:async_hooks';

type Priority = 'urgent' | 'normal';

const priority = new AsyncLocalStorage<Priority>();

/**
 * Runs `work` with its database statements ahead of other queued work on
 * the embedded database: webhook acknowledgements must not wait behind
 * turns. No effect on a PostgreSQL server, which has a pool of connections.
 */
export function urgently<T>(work: () => Promise<T>): Promise<T> {
  return priority.run('urgent', work);
}

/**
 * Admits up to `capacity` units of database work at a time (a statement, a
 * script or a whole transaction), in arrival order within a priority.
 * Urgent work goes first, but when both kinds wait they take turns, so
 * that a steady stream of urgent work cannot starve the rest.
 */
export class PriorityGate {
  private running = 0;
  private lastAdmitted: Priority = 'normal';
  private readonly waiting: Record<Priority, Array<() => void>> = {
    urgent: [],
    normal: [],
  };

  constructor(private readonly capacity = 1) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.capacity) {
      const queue = this.waiting[priority.getStore() ?? 'normal'];
      await new Promise<void>((resolve) => queue.push(resolve));
    } else {
      this.running++;
    }
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
    const { urgent, normal } = this.waiting;
    const turn: Priority =
      urgent.length > 0 &&
      (normal.length === 0 || this.lastAdmitted === 'normal')
        ? 'urgent'
        : 'normal';
    const next = this.waiting[turn].shift();
    if (next) {
      // The slot passes straight to the next unit.
      this.lastAdmitted = turn;
      next();
    } else {
      this.running--;
    }
  }
}
