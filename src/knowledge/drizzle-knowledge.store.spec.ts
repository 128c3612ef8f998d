import { openEmbedded } from '../database/store-contract.kit';
import { knowledgeStoreContract } from './knowledge-store.contract';

describe('DrizzleKnowledgeStore on PGlite', () => {
  knowledgeStoreContract(openEmbedded);
});
