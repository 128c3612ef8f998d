import type { SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { schema } from './schema';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;
export type DatabaseDriver = 'pglite' | 'postgres';

/**
 * The open database: a Drizzle handle over PGlite (embedded) or a PostgreSQL
 * server (pg pool). Both speak the same schema and migrations.
 */
export abstract class DatabaseConnection {
  abstract readonly db: Db;
  abstract readonly driver: DatabaseDriver;
  /**
   * Runs the statements in one transaction, without a round trip to the
   * caller between them, and returns each one's rows: for hot paths whose
   * statements do not depend on each other's results.
   */
  abstract atomically(
    statements: SQL[],
  ): Promise<Array<Array<Record<string, unknown>>>>;
  /** Resolves when the database answers a trivial query. */
  abstract ping(): Promise<void>;
  abstract close(): Promise<void>;
}
