import { DatabaseConnection } from '../../src/database/database-connection';
import { openDatabase } from '../../src/database/open-database';
import { InboundMessageInput } from '../../src/conversation/conversation.types';
import { DrizzleConversationRepository } from '../../src/conversation/drizzle-conversation.repository';
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

/** The real repository on an embedded, in-memory database. */
export async function openEmbeddedRepository(): Promise<{
  connection: DatabaseConnection;
  repository: DrizzleConversationRepository;
}> {
  const connection = await openDatabase({
    url: null,
    dataDir: 'memory://',
    poolSize: 1,
  });
  return {
    connection,
    repository: new DrizzleConversationRepository(connection),
  };
}
