import { openServer } from '../database/store-contract.kit';
import { conversationStoreContract } from './conversation-store.contract';

describe('DrizzleConversationStore on the PostgreSQL server', () => {
  conversationStoreContract(openServer);
});
