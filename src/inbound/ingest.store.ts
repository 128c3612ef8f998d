import type { IngestBatch, IngestResult } from './ingest.types';

/** Port: where webhook events are stored before they are acknowledged. */
export abstract class IngestStore {
  /**
   * Stores what webhooks carried: new inbound messages (a known wamid
   * inserts nothing) in the customer's open conversation (idle ones expire
   * first, the profile name is saved), then status updates (never
   * downgraded) and account errors. Concurrent callers share statements.
   */
  abstract ingest(
    batch: IngestBatch,
    now: Date,
    sessionTimeoutMs: number,
  ): Promise<IngestResult>;
}
