import { DatabaseConnection } from '../../src/database/database-connection';
import {
  openEmbedded,
  Stores,
  storesOn,
} from '../../src/database/store-contract.kit';
import { InboundMessageInput } from '../../src/inbound/ingest.types';
import {
  QueueCounts,
  ScheduleOptions,
  TurnQueue,
} from '../../src/turns/queue/turn.queue';

/** Shared by the conversation services' unit specs. */

/** A turn queue that only records what was scheduled. */
export class RecordingQueue extends TurnQueue {
  readonly scheduled: Array<{ id: string; options?: ScheduleOptions }> = [];
  schedule(id: string, options?: ScheduleOptions) {
    this.scheduled.push({ id, options });
    return Promise.resolve();
  }
  counts(): Promise<QueueCounts> {
    return Promise.resolve({ waiting: 0, delayed: 0, active: 0, failed: 0 });
  }
  close() {
    return Promise.resolve();
  }
}

/** A customer's text message, to be answered by the LLM, sent now. */
export const inboundText = (
  wamid: string,
  customer: string,
  text = 'hi',
): InboundMessageInput => ({
  wamid,
  customerWaId: customer,
  customerName: null,
  timestamp: new Date(),
  kind: 'text',
  text,
  mediaId: null,
  reply: 'llm',
  raw: {},
});

/** The four Drizzle stores on an embedded, in-memory database. */
export async function openEmbeddedStores(): Promise<
  Stores & { connection: DatabaseConnection }
> {
  const connection = await openEmbedded();
  return { connection, ...storesOn(connection) };
}
