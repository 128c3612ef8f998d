export interface QueueCounts {
  /** Due now, waiting for a worker. */
  waiting: number;
  /** Waiting for their debounce (or retry) time. */
  delayed: number;
  active: number;
  /** Gave up after every retry; the pending-work sweep tries them again later. */
  failed: number;
}

export interface ScheduleOptions {
  /** Wait this long before running; defaults to REPLY_DEBOUNCE_MS. */
  delayMs?: number;
  /** Carried into the turn's log lines (the webhook's request id). */
  correlationId?: string;
}

/**
 * Port: runs turns, one conversation at a time. Scheduling a conversation
 * that is already waiting restarts its debounce window (bounded), so a burst
 * of messages becomes one turn; scheduling one that is running makes it run
 * once more afterwards.
 */
export abstract class TurnQueue {
  abstract schedule(
    conversationId: string,
    options?: ScheduleOptions,
  ): Promise<void>;
  /** How many turns wait, run, or failed for good (dead letters). */
  abstract counts(): Promise<QueueCounts>;
  /** Stops taking turns and waits for running ones to finish. */
  abstract close(): Promise<void>;
}
