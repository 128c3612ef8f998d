import type { KnowledgeConfig } from '../config/app-config';
import { EmbeddingError, EmbeddingProvider } from '../llm/embedding.provider';
import { ChunkText, KnowledgeStore, StoredVectors } from './knowledge.store';
import { KnowledgeRetriever } from './knowledge-retriever';
import { KnowledgeVectors } from './knowledge-vectors';

/** A store of chunks with fixed vectors, whose full-text search ranks by shared words. */
class InMemoryChunks {
  readonly chunks = new Map<number, ChunkText & { vector: Float32Array }>();
  add(id: number, text: string, ...vector: number[]) {
    this.chunks.set(id, {
      id,
      documentId: `doc-${id}`,
      title: `Title ${id}`,
      text,
      vector: Float32Array.from(vector),
    });
  }
  revision = () => Promise.resolve(this.chunks.size);
  vectorsOf = (): Promise<StoredVectors> =>
    Promise.resolve({
      revision: this.chunks.size,
      ids: [...this.chunks.keys()],
      vectors: [...this.chunks.values()].map((c) => c.vector),
    });
  searchText = (terms: readonly string[]) => {
    const shared = (c: ChunkText) =>
      terms.filter((t) => c.text.toLowerCase().includes(t)).length;
    return Promise.resolve(
      [...this.chunks.values()]
        .filter((c) => shared(c) > 0)
        .sort((a, b) => shared(b) - shared(a))
        .map((c) => c.id),
    );
  };
  chunksByIds = (ids: readonly number[]) =>
    Promise.resolve(
      ids.flatMap((id) => {
        const chunk = this.chunks.get(id);
        return chunk
          ? [
              {
                id,
                documentId: chunk.documentId,
                title: chunk.title,
                text: chunk.text,
              },
            ]
          : [];
      }),
    );
}

/** Embeds a query by its words: "alpha" → [1, 0], "beta" → [0, 1]. */
class WordEmbeddings extends EmbeddingProvider {
  failing = false;
  constructor(readonly model: string | null) {
    super();
  }
  embed(texts: readonly string[]): Promise<Float32Array[]> {
    if (this.failing) {
      return Promise.reject(new EmbeddingError('embeddings-failed', 'down'));
    }
    return Promise.resolve(
      texts.map((t) =>
        Float32Array.from([
          t.includes('alpha') ? 1 : 0,
          t.includes('beta') ? 1 : 0,
        ]),
      ),
    );
  }
}

const config = { language: 'english' } as KnowledgeConfig;

describe('KnowledgeRetriever', () => {
  let store: InMemoryChunks;
  const retriever = (embeddings: EmbeddingProvider) => {
    const port = store as unknown as KnowledgeStore;
    return new KnowledgeRetriever(
      port,
      new KnowledgeVectors(port),
      embeddings,
      config,
    );
  };
  beforeEach(() => {
    store = new InMemoryChunks();
    store.add(1, 'Shipping takes two days', 1, 0); // near "alpha"
    store.add(2, 'Returns are free', 0, 1); // near "beta"
    store.add(3, 'Shipping abroad and returns', 0.7, 0.7);
  });

  it('puts first the chunk both rankings like, then the others, with titles and scores', async () => {
    const hits = await retriever(new WordEmbeddings('m')).retrieve(
      'shipping returns beta',
      3,
    );
    expect(hits.map((h) => h.chunkId)).toEqual([3, 2, 1]);
    expect(hits[0]).toMatchObject({ documentId: 'doc-3', title: 'Title 3' });
    expect(hits[0].score).toBeGreaterThan(hits[1].score);
    expect(hits[0].score).toBeLessThanOrEqual(1);
  });

  it('finds by embeddings a chunk that shares no word with the query', async () => {
    const hits = await retriever(new WordEmbeddings('m')).retrieve('alpha', 1);
    expect(hits.map((h) => h.chunkId)).toEqual([1]);
  });

  it('answers by full text alone when embeddings are off or fail', async () => {
    const failing = new WordEmbeddings('m');
    failing.failing = true;
    for (const embeddings of [new WordEmbeddings(null), failing]) {
      const hits = await retriever(embeddings).retrieve('free returns', 4);
      expect(hits.map((h) => h.chunkId)).toEqual([2, 3]);
      expect(hits[0].score).toBe(1);
    }
  });

  it('leaves out a chunk deleted after it was ranked, and answers nothing to a blank query', async () => {
    const search = retriever(new WordEmbeddings('m'));
    await search.retrieve('alpha', 1); // loads the vectors
    store.chunks.delete(1);
    expect(
      (await search.retrieve('shipping alpha', 4)).map((h) => h.chunkId),
    ).not.toContain(1);
    expect(await search.retrieve('   ', 4)).toEqual([]);
  });
});
