import type {
  KnowledgeDocument,
  KnowledgeDocumentSummary,
  NewKnowledgeDocument,
} from './knowledge.types';

/** A chunk to store: its text, and its vector when it was embedded. */
export interface NewChunk {
  text: string;
  embedding: Float32Array | null;
}

/** A chunk as retrieval shows it. */
export interface ChunkText {
  id: number;
  documentId: string;
  title: string;
  text: string;
}

/** Every stored vector of one model, and the knowledge revision they were read at (or after). */
export interface StoredVectors {
  revision: number;
  ids: number[];
  vectors: Float32Array[];
}

/**
 * Port: the knowledge base's documents and chunks, their full-text index
 * and their vectors. Every change bumps one revision number, which
 * instances compare with the revision of the vectors they hold in memory.
 */
export abstract class KnowledgeStore {
  /**
   * Stores a document and its chunks in one transaction, indexed for
   * full-text search with `tsConfig`; `embeddingModel` made the chunks'
   * vectors (null when they have none).
   */
  abstract addDocument(
    document: NewKnowledgeDocument,
    chunks: readonly NewChunk[],
    embeddingModel: string | null,
    tsConfig: string,
  ): Promise<KnowledgeDocumentSummary>;
  /** Newest first. */
  abstract listDocuments(): Promise<KnowledgeDocumentSummary[]>;
  abstract getDocument(id: string): Promise<KnowledgeDocument | null>;
  /** False when there was no such document. */
  abstract deleteDocument(id: string): Promise<boolean>;
  /**
   * Ids of the chunks that contain ANY of the words (exactly, accents
   * aside, or by their `tsConfig` stem, stop words of `tsConfig` ignored),
   * best ranked first.
   */
  abstract searchText(
    terms: readonly string[],
    tsConfig: string,
    limit: number,
  ): Promise<number[]>;
  /** The chunks with these ids (in no particular order; unknown ids are left out). */
  abstract chunksByIds(ids: readonly number[]): Promise<ChunkText[]>;
  abstract revision(): Promise<number>;
  /** Whether any chunk is stored (a turn skips retrieval when none is). */
  abstract hasChunks(): Promise<boolean>;
  /** Every vector `model` made. */
  abstract vectorsOf(model: string): Promise<StoredVectors>;
  /** Up to `limit` chunks whose vector is missing or from another model than `model`. */
  abstract chunksToEmbed(model: string, limit: number): Promise<ChunkText[]>;
  abstract saveVectors(
    model: string,
    vectors: ReadonlyArray<{ id: number; vector: Float32Array }>,
  ): Promise<void>;
  /** Re-indexes the chunks indexed with another configuration than `tsConfig`; answers how many. */
  abstract reindexText(tsConfig: string): Promise<number>;
}
