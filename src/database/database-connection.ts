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
  /** Resolves when the database answers a trivial query. */
  abstract ping(): Promise<void>;
  abstract close(): Promise<void>;
}
