import { KnowledgeStore, StoredVectors } from './knowledge.store';
import { KnowledgeVectors } from './knowledge-vectors';

/** The two reads KnowledgeVectors makes, over vectors kept in a map. */
class InMemoryVectors {
  revisionNumber = 1;
  loads = 0;
  readonly rows = new Map<number, Float32Array>();
  revision = () => Promise.resolve(this.revisionNumber);
  vectorsOf = (): Promise<StoredVectors> => {
    this.loads++;
    return Promise.resolve({
      revision: this.revisionNumber,
      ids: [...this.rows.keys()],
      vectors: [...this.rows.values()],
    });
  };
  put(id: number, ...values: number[]) {
    this.rows.set(id, Float32Array.from(values));
    this.revisionNumber++;
  }
}

describe('KnowledgeVectors', () => {
  let store: InMemoryVectors;
  let vectors: KnowledgeVectors;
  const ids = async () =>
    (await vectors.search('m', Float32Array.from([1, 0]), 5)).map((h) => h.id);

  beforeEach(() => {
    store = new InMemoryVectors();
    store.put(1, 1, 0);
    vectors = new KnowledgeVectors(store as unknown as KnowledgeStore);
  });

  it('loads the vectors once and searches them while the revision stays the same', async () => {
    expect(await ids()).toEqual([1]);
    expect(await ids()).toEqual([1]);
    expect(store.loads).toBe(1);
  });

  it('after a change, answers from what it holds and then from a fresh copy', async () => {
    await ids();
    store.put(2, 1, 0.1);

    expect(await ids()).toEqual([1]);
    await vectors.settled();
    expect(await ids()).toEqual([1, 2]);
    expect(store.loads).toBe(2);
  });

  it('shares one load among concurrent first searches', async () => {
    const all = await Promise.all([ids(), ids(), ids()]);
    expect(all).toEqual([[1], [1], [1]]);
    expect(store.loads).toBe(1);
  });
});
