import { openDatabase } from '../database/open-database';
import { conversationRepositoryContract } from './conversation-repository.contract';

const url =
  process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

describe('DrizzleConversationRepository on the PostgreSQL server', () => {
  conversationRepositoryContract(() =>
    openDatabase({ url, dataDir: 'unused', poolSize: 4 }),
  );
});
