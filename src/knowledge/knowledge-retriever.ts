import { Injectable, Logger } from '@nestjs/common';
import { KnowledgeConfig } from '../config/app-config';
import { EmbeddingProvider } from '../llm/embedding.provider';
import { KnowledgeStore } from './knowledge.store';
import type { RetrievedChunk } from './knowledge.types';
import { KnowledgeVectors } from './knowledge-vectors';
import { reciprocalRankFusion } from './rank-fusion';
import { queryTerms } from './search-text';

/** Candidates each ranking gives the fusion. */
export const CANDIDATES = 50;
/**
 * How long an instance trusts what it last saw of whether any knowledge is
 * stored: a document loaded through another instance is used by this one's
 * turns within this time (at once through this one).
 */
export const KNOWLEDGE_CHECK_MS = 5_000;
/** The longest query embedded (a customer's message can be long). */
const MAX_QUERY_CHARS = 2_000;

/**
 * Hybrid retrieval: PostgreSQL full-text search (any of the query's words,
 * accents aside, stemmed) and embedding similarity, each giving its best
 * candidates, fused by reciprocal rank. Without an embedding model, or when
 * the embedding endpoint fails, full-text search alone answers.
 */
@Injectable()
export class KnowledgeRetriever {
  private readonly logger = new Logger(KnowledgeRetriever.name);
  private known: { any: boolean; until: number } | null = null;

  constructor(
    private readonly store: KnowledgeStore,
    private readonly vectors: KnowledgeVectors,
    private readonly embeddings: EmbeddingProvider,
    private readonly config: KnowledgeConfig,
  ) {}

  /**
   * Whether any knowledge is stored, read at most every KNOWLEDGE_CHECK_MS:
   * a turn with no knowledge base costs no search and no embedding call.
   */
  async hasKnowledge(): Promise<boolean> {
    const now = Date.now();
    if (this.known && this.known.until > now) return this.known.any;
    const any = await this.store.hasChunks();
    this.known = { any, until: now + KNOWLEDGE_CHECK_MS };
    return any;
  }

  /** Forgets whether knowledge is stored: a document was just added or deleted here. */
  changed(): void {
    this.known = null;
  }

  /**
   * The `limit` chunks that best answer `query`, best first (none for a
   * blank query or an empty knowledge base). Rejects only when the database
   * fails.
   */
  async retrieve(query: string, limit: number): Promise<RetrievedChunk[]> {
    if (!query.trim() || limit <= 0) return [];
    const [byText, byVector] = await Promise.all([
      this.store.searchText(
        queryTerms(query),
        this.config.language,
        CANDIDATES,
      ),
      this.similar(query),
    ]);
    const fused = reciprocalRankFusion([byText, byVector]).slice(0, limit);
    const chunks = new Map(
      (await this.store.chunksByIds(fused.map((f) => f.id))).map((c) => [
        c.id,
        c,
      ]),
    );
    return fused.flatMap(({ id, score }) => {
      const chunk = chunks.get(id);
      // A chunk deleted between the two reads is left out.
      return chunk
        ? [
            {
              chunkId: chunk.id,
              documentId: chunk.documentId,
              title: chunk.title,
              text: chunk.text,
              score,
            },
          ]
        : [];
    });
  }

  /** Chunk ids by embedding similarity; none when embeddings are off or fail. */
  private async similar(query: string): Promise<number[]> {
    const model = this.embeddings.model;
    if (!model) return [];
    try {
      const [vector] = await this.embeddings.embed(
        [query.slice(0, MAX_QUERY_CHARS)],
        { quick: true },
      );
      const hits = await this.vectors.search(model, vector, CANDIDATES);
      return hits.map((h) => h.id);
    } catch (error) {
      this.logger.warn(
        { err: error },
        'knowledge search without embeddings: the query could not be embedded',
      );
      return [];
    }
  }
}
