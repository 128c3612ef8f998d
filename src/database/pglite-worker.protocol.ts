/** Messages between the main thread and the embedded database's thread. */

export interface WorkerStartup {
  /** PGlite's data directory, or `memory://`. */
  location: string;
  migrationsFolder: string;
}

export type WorkerRequest = { id: number } & (
  | {
      kind: 'query';
      sql: string;
      params?: unknown[];
      rowMode?: 'array' | 'object';
      tx?: number;
    }
  | { kind: 'exec'; sql: string; tx?: number }
  | { kind: 'script'; statements: Array<{ sql: string; params: unknown[] }> }
  | { kind: 'begin' }
  | { kind: 'end'; tx: number; commit: boolean }
  | { kind: 'close' }
);

export interface WorkerReply {
  id: number;
  result?: unknown;
  error?: { message: string; name?: string; code?: string } & Record<
    string,
    unknown
  >;
}

export type WorkerReady =
  { ready: true } | { ready: false; error: NonNullable<WorkerReply['error']> };
