export interface QueueCounts {
  /** Due now, waiting for a worker. */
  waiting: number;
  /** Waiting for their debounce (or retry) time. */
  delayed: number;
  active: number;
  /** Gave up after every retry; the pending-work sweep tries them again later. */
  failed: number;
}

/** Most correlation ids a turn carries (the newest are kept). */
export const MAX_CORRELATION_IDS = 20;

/** Adds `more` to `ids` (no repeats), keeping the newest MAX_CORRELATION_IDS. */
export function addCorrelationIds(ids: string[], more: string[] = []) {
  for (const id of more) if (!ids.includes(id)) ids.push(id);
  if (ids.length > MAX_CORRELATION_IDS)
    ids.splice(0, ids.length - MAX_CORRELATION_IDS);
  return ids;
}

export interface ScheduleOptions {
  /** Wait this long before running; defaults to REPLY_DEBOUNCE_MS. */
  delayMs?: number;
  /**
   * The request ids of the webhooks whose messages the turn answers, carried
   * into its log lines. Scheduling a conversation again adds to them.
   */
  correlationIds?: string[];
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
