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
  /** Turns waiting or running, for metrics and tests. */
  abstract size(): number;
  /** Stops taking turns and waits for running ones to finish. */
  abstract close(): Promise<void>;
}
