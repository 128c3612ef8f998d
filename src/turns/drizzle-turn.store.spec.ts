import { openEmbedded } from '../database/store-contract.kit';
import { turnStoreContract } from './turn-store.contract';

describe('DrizzleTurnStore on PGlite', () => {
  turnStoreContract(openEmbedded);
});
