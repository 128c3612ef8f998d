import type { KnowledgeRetriever } from '../../src/knowledge/knowledge-retriever';
import type { RetrievedChunk } from '../../src/knowledge/knowledge.types';

/**
 * A knowledge base in memory for turn tests: chunks match a query when they
 * share a word with it, ranked by how many they share. Keeps the queries it
 * was asked; `failNext` makes the next search reject (the database is down).
 */
export class FakeKnowledge {
  readonly chunks: RetrievedChunk[] = [];
  readonly queries: string[] = [];
  private failing: Error | null = null;

  add(title: string, text: string): RetrievedChunk {
    const chunk = {
      chunkId: this.chunks.length + 1,
      documentId: `doc-${title}`,
      title,
      text,
      score: 0,
    };
    this.chunks.push(chunk);
    return chunk;
  }

  failNext(error = new Error('database down')) {
    this.failing = error;
  }

  /** Stands in for the real retriever (the composer uses these two methods). */
  asRetriever(): KnowledgeRetriever {
    return {
      hasKnowledge: () => Promise.resolve(this.chunks.length > 0),
      retrieve: (query: string, limit: number) => this.retrieve(query, limit),
    } as unknown as KnowledgeRetriever;
  }

  private retrieve(query: string, limit: number): Promise<RetrievedChunk[]> {
    this.queries.push(query);
    const failing = this.failing;
    this.failing = null;
    if (failing) return Promise.reject(failing);
    const words = new Set(query.toLowerCase().match(/\p{L}+/gu) ?? []);
    const scored = this.chunks
      .map((chunk) => ({
        chunk,
        shared: (chunk.text.toLowerCase().match(/\p{L}+/gu) ?? []).filter((w) =>
          words.has(w),
        ).length,
      }))
      .filter((c) => c.shared > 0)
      .sort((a, b) => b.shared - a.shared)
      .slice(0, limit);
    return Promise.resolve(
      scored.map(({ chunk }, rank) => ({ ...chunk, score: 1 / (rank + 1) })),
    );
  }
}
