import { openServer } from '../database/store-contract.kit';
import { outboxStoreContract } from './outbox-store.contract';

describe('DrizzleOutboxStore on the PostgreSQL server', () => {
  outboxStoreContract(openServer);
});
