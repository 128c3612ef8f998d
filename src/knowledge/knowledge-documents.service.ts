import { Injectable, Logger } from '@nestjs/common';
import { DomainError } from '../common/domain.error';
import { KnowledgeConfig } from '../config/app-config';
import { EmbeddingProvider } from '../llm/embedding.provider';
import { chunkText } from './chunker';
import { KnowledgeRetriever } from './knowledge-retriever';
import { KnowledgeStore, NewChunk } from './knowledge.store';
import type {
  KnowledgeDocument,
  KnowledgeDocumentSummary,
} from './knowledge.types';
import { readUploadedDocument, UploadedFile } from './uploaded-document';

/** A new document: text given as is, or a file to read. */
export type KnowledgeInput =
  | { kind: 'text'; title: string; text: string }
  | { kind: 'file'; title: string | null; file: UploadedFile };

/** What embedding a chunk is given: its document's title and its text. */
export const embeddingInput = (title: string, text: string) =>
  `${title}\n\n${text}`;

/**
 * Loads, lists and deletes knowledge documents. A document is stored once
 * chunked and, when embeddings are on, embedded; when embedding fails it is
 * stored anyway (searchable by full text) and embedded again at the next
 * start.
 */
@Injectable()
export class KnowledgeDocumentsService {
  private readonly logger = new Logger(KnowledgeDocumentsService.name);

  constructor(
    private readonly store: KnowledgeStore,
    private readonly embeddings: EmbeddingProvider,
    private readonly config: KnowledgeConfig,
    private readonly retriever: KnowledgeRetriever,
  ) {}

  async add(input: KnowledgeInput): Promise<KnowledgeDocumentSummary> {
    let title: string;
    let text: string;
    let filename: string | null = null;
    let mimeType: string | null = null;
    if (input.kind === 'file') {
      ({ text, mimeType } = await readUploadedDocument(
        input.file,
        this.config.maxChars,
      ));
      filename = input.file.filename || null;
      title =
        input.title ??
        (input.file.filename.replace(/\.[^.]*$/, '').trim() || 'Untitled');
    } else {
      ({ title, text } = input);
      if (text.length > this.config.maxChars) {
        throw new DomainError(
          `The text is longer than KNOWLEDGE_MAX_CHARS (${this.config.maxChars} characters): split it`,
          'document-too-large',
        );
      }
    }
    const pieces = chunkText(text);
    if (pieces.length === 0) {
      throw new DomainError('The document has no text', 'invalid-document');
    }
    const vectors = await this.embed(title, pieces);
    const chunks: NewChunk[] = pieces.map((piece, i) => ({
      text: piece,
      embedding: vectors?.[i] ?? null,
    }));
    const added = await this.store.addDocument(
      { title, text, filename, mimeType },
      chunks,
      vectors ? this.embeddings.model : null,
      this.config.language,
    );
    this.retriever.changed();
    this.logger.log(
      `knowledge document ${added.id} stored: ${added.chunks} chunks, ${vectors ? 'embedded' : 'full-text only'}`,
    );
    return added;
  }

  list(): Promise<KnowledgeDocumentSummary[]> {
    return this.store.listDocuments();
  }

  async get(id: string): Promise<KnowledgeDocument> {
    const document = await this.store.getDocument(id);
    if (!document) throw notFound(id);
    return document;
  }

  async delete(id: string): Promise<void> {
    if (!(await this.store.deleteDocument(id))) throw notFound(id);
    this.retriever.changed();
  }

  /** The chunks' vectors, or null when embeddings are off or failed. */
  private async embed(
    title: string,
    pieces: string[],
  ): Promise<Float32Array[] | null> {
    if (!this.embeddings.model) return null;
    try {
      return await this.embeddings.embed(
        pieces.map((piece) => embeddingInput(title, piece)),
      );
    } catch (error) {
      this.logger.warn(
        { err: error },
        'knowledge document stored without embeddings (full-text search only until the next start)',
      );
      return null;
    }
  }
}

const notFound = (id: string) =>
  new DomainError(`No knowledge document ${id}`, 'knowledge-not-found');
