import { and, eq, lt, sql } from 'drizzle-orm';
import type { Executor } from '../database/executor';
import { conversations } from '../database/schema';

/**
 * Active conversations idle since before `cutoff` (of these customers, when
 * given) end; returns their ids. Ingest runs it for its customers before
 * storing their messages, so correctness never waits for the expiry job.
 */
export function expireIdleStatement(
  tx: Executor,
  cutoff: Date,
  now: Date,
  customerWaIds?: string[],
) {
  return tx
    .update(conversations)
    .set({ state: 'expired', stateReason: 'idle', stateChangedAt: now })
    .where(
      and(
        // One statement text whatever the number of customers, so the
        // embedded database prepares it once.
        customerWaIds
          ? sql`${conversations.customerWaId} = any(${sql.param(customerWaIds)}::text[])`
          : undefined,
        eq(conversations.state, 'active'),
        lt(conversations.lastActivityAt, cutoff),
      ),
    )
    .returning({ id: conversations.id });
}
