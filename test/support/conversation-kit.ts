import { DatabaseConnection } from '../../src/database/database-connection';
import {
  openEmbedded,
  Stores,
  storesOn,
} from '../../src/database/store-contract.kit';
import { InboundMessageInput } from '../../src/inbound/ingest.types';
export { RecordingQueue } from './recording-queue';

/** Shared by the conversation services' unit specs. */

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
