import { openServer } from '../database/store-contract.kit';
import { ingestStoreContract } from './ingest-store.contract';

describe('DrizzleIngestStore on the PostgreSQL server', () => {
  ingestStoreContract(openServer);
});
