import { and, eq, inArray } from 'drizzle-orm';
import type { Executor } from '../database/executor';
import { messages } from '../database/schema';
import type { StoredError } from '../conversation/conversation.types';
import { settleStatus } from './message-status';

/** A delivery status Meta reported for a wamid. */
export interface ReportedStatus {
  wamid: string;
  status: string;
  error: StoredError | null;
}

/**
 * The one place reported statuses reach outbound messages: each message
 * with one of these wamids moves forward (never back; `failed` is final,
 * with Meta's error). Ingest runs it for the statuses a webhook carried; a
 * send mark runs it for statuses that arrived before the wamid was stored.
 */
export async function reconcileStatuses(
  tx: Executor,
  reported: ReportedStatus[],
  now: Date,
): Promise<void> {
  if (reported.length === 0) return;
  const wamids = [...new Set(reported.map((s) => s.wamid))];
  const rows = await tx
    .select({
      id: messages.id,
      wamid: messages.wamid,
      status: messages.status,
      error: messages.error,
    })
    .from(messages)
    .where(
      and(inArray(messages.wamid, wamids), eq(messages.direction, 'outbound')),
    )
    .for('update');
  for (const row of rows) {
    const mine = reported.filter((s) => s.wamid === row.wamid);
    const status = settleStatus(
      row.status,
      mine.map((s) => s.status),
    );
    if (status === row.status) continue;
    const failure = mine.find((s) => s.status === 'failed')?.error ?? null;
    await tx
      .update(messages)
      .set({
        status,
        statusUpdatedAt: now,
        ...(status === 'failed' && { error: failure ?? row.error }),
      })
      .where(eq(messages.id, row.id));
  }
}
