import { openEmbedded } from '../database/store-contract.kit';
import { conversationStoreContract } from './conversation-store.contract';

describe('DrizzleConversationStore on PGlite', () => {
  conversationStoreContract(openEmbedded);
});
