import type { Db } from './database-connection';

/** A transaction handle, as Drizzle passes it to `db.transaction`'s callback. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** Where a statement runs: the database itself, or an open transaction. */
export type Executor = Db | Tx;

/** The rows of a raw `execute` result, on PGlite and on node-postgres alike. */
export const rowsOf = <T>(result: unknown) => (result as { rows: T[] }).rows;
