/** A chunk of the knowledge base that matched a query, best first. */
export interface RetrievedChunk {
  chunkId: number | string;
  documentId: string;
  /** The title of the document it comes from. */
  title: string;
  text: string;
  /** Reciprocal-rank-fusion score in (0, 1]: 1 is first in every ranking. */
  score: number;
}

/** A document as listed. */
export interface KnowledgeDocumentSummary {
  id: string;
  title: string;
  chunks: number;
  createdAt: Date;
}

export interface KnowledgeChunkView {
  id: number;
  position: number;
  text: string;
  /** The model that embedded it; null when it has no embedding (yet). */
  embeddingModel: string | null;
}

/** A document with its chunks, in order. */
export interface KnowledgeDocument extends KnowledgeDocumentSummary {
  filename: string | null;
  mimeType: string | null;
  chars: number;
  chunkList: KnowledgeChunkView[];
}

/** What a new document is made of, once its text is known. */
export interface NewKnowledgeDocument {
  title: string;
  filename: string | null;
  mimeType: string | null;
  text: string;
}
