import { and, asc, eq, isNull } from 'drizzle-orm';
import { DrizzleConversationStore } from '../conversation/drizzle-conversation.store';
import type { Message } from '../conversation/conversation.types';
import { toMessage } from '../conversation/row-mappers';
import { DrizzleIngestStore } from '../inbound/drizzle-ingest.store';
import type {
  InboundMessageInput,
  IngestBatch,
  StatusUpdateInput,
} from '../inbound/ingest.types';
import { DrizzleOutboxStore } from '../outbound/drizzle-outbox.store';
import { DrizzleTurnStore } from '../turns/drizzle-turn.store';
import { DatabaseConnection } from './database-connection';
import { openDatabase } from './open-database';
import { messages } from './schema';

/**
 * Shared by the store contracts (`*-store.contract.ts`) and their PGlite and
 * PostgreSQL-server specs. Test code: not part of the build.
 */

export const MINUTE = 60_000;
export const TIMEOUT = 30 * MINUTE;
export const t0 = new Date('2026-11-25T10:00:00Z');
export const at = (ms: number) => new Date(t0.getTime() + ms);

/** The PostgreSQL server the integration run uses. */
export const serverUrl =
  process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** An in-memory PGlite database, migrated. */
export const openEmbedded = () =>
  openDatabase({ url: null, dataDir: 'memory://', poolSize: 1 });

/** The PostgreSQL server at `serverUrl`, migrated. */
export const openServer = () =>
  openDatabase({ url: serverUrl, dataDir: 'unused', poolSize: 4 });

/** Every table a store writes, emptied with `truncate`. */
export const TRUNCATE_ALL =
  'truncate turn_steps, messages, conversation_events, conversations, status_events, webhook_errors restart identity';

let seq = 0;
export const inbound = (
  over: Partial<InboundMessageInput> = {},
): InboundMessageInput => ({
  wamid: `wamid.in-${++seq}`,
  customerWaId: '16505551234',
  customerName: 'Sheena',
  timestamp: t0,
  kind: 'text',
  text: `message ${seq}`,
  mediaId: null,
  reply: 'llm',
  raw: { id: seq },
  ...over,
});
export const batch = (over: Partial<IngestBatch>): IngestBatch => ({
  messages: [],
  statuses: [],
  errors: [],
  ...over,
});
export const status = (
  wamid: string,
  s: string,
  over: Partial<StatusUpdateInput> = {},
): StatusUpdateInput => ({
  wamid,
  status: s,
  timestamp: t0,
  error: null,
  raw: {},
  ...over,
});

export interface Stores {
  ingest: DrizzleIngestStore;
  conversations: DrizzleConversationStore;
  turns: DrizzleTurnStore;
  outbox: DrizzleOutboxStore;
}

/** The four Drizzle stores on one connection. */
export function storesOn(connection: DatabaseConnection): Stores {
  return {
    ingest: new DrizzleIngestStore(connection),
    conversations: new DrizzleConversationStore(connection),
    turns: new DrizzleTurnStore(connection),
    outbox: new DrizzleOutboxStore(connection),
  };
}

export interface StoreContractContext extends Stores {
  connection: DatabaseConnection;
}

/**
 * Opens the database once for the describe block and closes it after; before
 * each test, empties every table and builds fresh stores. The returned object
 * is filled in by those hooks: read its fields inside tests only.
 */
export function useStores(
  open: () => Promise<DatabaseConnection>,
): StoreContractContext {
  const context = {} as StoreContractContext;
  beforeAll(async () => {
    context.connection = await open();
  });
  afterAll(async () => {
    await context.connection.close();
  });
  beforeEach(async () => {
    Object.assign(context, storesOn(context.connection));
    // Each test starts from empty tables.
    await context.connection.db.execute(TRUNCATE_ALL as never);
  });
  return context;
}

/**
 * The conversation's inbound messages no turn has answered, oldest first,
 * read with a plain query and mapped row by row: a reference the stores'
 * own reads (such as `loadTurn(...).unanswered`) are compared with.
 */
export async function unansweredIn(
  connection: DatabaseConnection,
  conversationId: string,
): Promise<Message[]> {
  const rows = await connection.db
    .select()
    .from(messages)
    .where(
      and(
        eq(messages.conversationId, conversationId),
        eq(messages.direction, 'inbound'),
        isNull(messages.answeredAt),
      ),
    )
    .orderBy(asc(messages.sentAt), asc(messages.id));
  return rows.map(toMessage);
}

/** Runs `work` and counts the statements it sent through the Drizzle handle. */
export async function statementsOf<T>(
  connection: DatabaseConnection,
  work: () => Promise<T>,
) {
  const execute = jest.spyOn(connection.db, 'execute');
  try {
    const result = await work();
    return { result, statements: execute.mock.calls.length };
  } finally {
    execute.mockRestore();
  }
}

/** One conversation per customer, each with one unanswered message. */
export async function conversationsOf(
  { connection, ingest }: StoreContractContext,
  ...customers: string[]
) {
  const ids: string[] = [];
  const unanswered: number[][] = [];
  for (const customer of customers) {
    const {
      conversationsToAnswer: [id],
    } = await ingest.ingest(
      batch({ messages: [inbound({ customerWaId: customer })] }),
      t0,
      TIMEOUT,
    );
    ids.push(id);
    unanswered.push((await unansweredIn(connection, id)).map((m) => m.id));
  }
  return { ids, unanswered };
}
