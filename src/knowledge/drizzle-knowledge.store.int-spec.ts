import { openServer } from '../database/store-contract.kit';
import { knowledgeStoreContract } from './knowledge-store.contract';

describe('DrizzleKnowledgeStore on the PostgreSQL server', () => {
  knowledgeStoreContract(openServer);
});
