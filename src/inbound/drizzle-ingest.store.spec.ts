import { openEmbedded } from '../database/store-contract.kit';
import { ingestStoreContract } from './ingest-store.contract';

describe('DrizzleIngestStore on PGlite', () => {
  ingestStoreContract(openEmbedded);
});
