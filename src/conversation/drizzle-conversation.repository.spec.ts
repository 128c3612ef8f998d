import { openDatabase } from '../database/open-database';
import { conversationRepositoryContract } from './conversation-repository.contract';

describe('DrizzleConversationRepository on PGlite', () => {
  conversationRepositoryContract(() =>
    openDatabase({ url: null, dataDir: 'memory://', poolSize: 1 }),
  );
});
