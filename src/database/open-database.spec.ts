import { sql } from 'drizzle-orm';
import { DatabaseConnection } from './database-connection';
import { openDatabase } from './open-database';

const lastAnalyzed = async (connection: DatabaseConnection) => {
  const result = await connection.db.execute(
    sql`select relname, last_analyze from pg_stat_user_tables order by relname`,
  );
  return Object.fromEntries(
    (
      result as unknown as {
        rows: Array<{ relname: string; last_analyze: string | null }>;
      }
    ).rows.map((r) => [r.relname, r.last_analyze]),
  );
};

describe('openDatabase on PGlite', () => {
  let connection: DatabaseConnection;

  beforeAll(async () => {
    connection = await openDatabase({
      url: null,
      dataDir: 'memory://',
      poolSize: 1,
    });
  });
  afterAll(async () => {
    await connection.close();
  });

  it('analyzes every table at start, and a table again once it has grown, since PGlite never autoanalyzes', async () => {
    const atStart = await lastAnalyzed(connection);
    for (const table of [
      'conversations',
      'messages',
      'status_events',
      'conversation_events',
      'webhook_errors',
    ]) {
      expect(atStart[table]).not.toBeNull();
    }
    await connection.db.execute(sql`
      insert into conversations (customer_wa_id)
      select '4670' || g from generate_series(1, 3000) g`);
    let now = atStart;
    for (
      let wait = 0;
      wait < 80 && now.conversations === atStart.conversations;
      wait++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      now = await lastAnalyzed(connection);
    }
    expect(now.conversations).not.toBe(atStart.conversations);
    // Tables that did not grow are left alone.
    expect(now.webhook_errors).toBe(atStart.webhook_errors);
  }, 15_000);
});
