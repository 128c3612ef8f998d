import { Injectable } from '@nestjs/common';
import {
  asc,
  count,
  desc,
  eq,
  inArray,
  isNull,
  ne,
  or,
  sql,
} from 'drizzle-orm';
import type { SQL } from 'drizzle-orm';
import { DatabaseConnection, Db } from '../database/database-connection';
import type { Executor } from '../database/executor';
import { rowsOf } from '../database/executor';
import {
  knowledgeChunks,
  knowledgeDocuments,
  knowledgeRevision,
} from '../database/schema';
import type {
  KnowledgeDocument,
  KnowledgeDocumentSummary,
  NewKnowledgeDocument,
} from './knowledge.types';
import {
  ChunkText,
  KnowledgeStore,
  NewChunk,
  StoredVectors,
} from './knowledge.store';
import { foldAccents } from './search-text';

/** Chunks one insert statement writes. */
const INSERT_ROWS = 200;
/** Vectors one select reads. */
const VECTOR_PAGE = 5_000;

/** A vector as bytes: float32, little-endian (as every platform Node runs on). */
export function vectorBytes(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
}

/** The vector of stored bytes (copied: a Float32Array needs aligned memory). */
export function bytesVector(bytes: Uint8Array): Float32Array {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Float32Array(copy.buffer);
}

/**
 * The full-text index of a chunk: its document's title and its text,
 * accent-folded, as exact words (`simple`) and as `tsConfig` stems.
 */
function searchVector(title: string, text: string, tsConfig: string): SQL {
  const folded = foldAccents(`${title}\n${text}`);
  return sql`to_tsvector('simple', ${folded}) || to_tsvector(${tsConfig}::regconfig, ${folded})`;
}

function bumpRevision(db: Executor) {
  return db
    .insert(knowledgeRevision)
    .values({ id: 1, revision: 1 })
    .onConflictDoUpdate({
      target: knowledgeRevision.id,
      set: { revision: sql`${knowledgeRevision.revision} + 1` },
    });
}

const toDate = (value: Date | string) =>
  value instanceof Date ? value : new Date(value);

/** Drizzle adapter: the same code on PGlite and on a PostgreSQL server. */
@Injectable()
export class DrizzleKnowledgeStore extends KnowledgeStore {
  private readonly db: Db;

  constructor(connection: DatabaseConnection) {
    super();
    this.db = connection.db;
  }

  addDocument(
    document: NewKnowledgeDocument,
    chunks: readonly NewChunk[],
    embeddingModel: string | null,
    tsConfig: string,
  ): Promise<KnowledgeDocumentSummary> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx
        .insert(knowledgeDocuments)
        .values({
          title: document.title,
          filename: document.filename,
          mimeType: document.mimeType,
          chars: document.text.length,
        })
        .returning();
      for (let at = 0; at < chunks.length; at += INSERT_ROWS) {
        await tx.insert(knowledgeChunks).values(
          chunks.slice(at, at + INSERT_ROWS).map((chunk, i) => ({
            documentId: row.id,
            position: at + i,
            text: chunk.text,
            search: searchVector(document.title, chunk.text, tsConfig),
            tsConfig,
            embedding: chunk.embedding ? vectorBytes(chunk.embedding) : null,
            embeddingModel: chunk.embedding ? embeddingModel : null,
          })),
        );
      }
      await bumpRevision(tx);
      return {
        id: row.id,
        title: row.title,
        chunks: chunks.length,
        createdAt: toDate(row.createdAt),
      };
    });
  }

  async listDocuments(): Promise<KnowledgeDocumentSummary[]> {
    const rows = await this.db
      .select({
        id: knowledgeDocuments.id,
        title: knowledgeDocuments.title,
        createdAt: knowledgeDocuments.createdAt,
        chunks: count(knowledgeChunks.id),
      })
      .from(knowledgeDocuments)
      .leftJoin(
        knowledgeChunks,
        eq(knowledgeChunks.documentId, knowledgeDocuments.id),
      )
      .groupBy(knowledgeDocuments.id)
      .orderBy(desc(knowledgeDocuments.createdAt), desc(knowledgeDocuments.id));
    return rows.map((r) => ({
      ...r,
      chunks: Number(r.chunks),
      createdAt: toDate(r.createdAt),
    }));
  }

  async getDocument(id: string): Promise<KnowledgeDocument | null> {
    const [document] = await this.db
      .select()
      .from(knowledgeDocuments)
      .where(eq(knowledgeDocuments.id, id));
    if (!document) return null;
    const chunks = await this.db
      .select({
        id: knowledgeChunks.id,
        position: knowledgeChunks.position,
        text: knowledgeChunks.text,
        embeddingModel: knowledgeChunks.embeddingModel,
      })
      .from(knowledgeChunks)
      .where(eq(knowledgeChunks.documentId, id))
      .orderBy(asc(knowledgeChunks.position));
    return {
      id: document.id,
      title: document.title,
      filename: document.filename,
      mimeType: document.mimeType,
      chars: document.chars,
      createdAt: toDate(document.createdAt),
      chunks: chunks.length,
      chunkList: chunks.map((c) => ({ ...c, id: Number(c.id) })),
    };
  }

  deleteDocument(id: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const deleted = await tx
        .delete(knowledgeDocuments)
        .where(eq(knowledgeDocuments.id, id))
        .returning({ id: knowledgeDocuments.id });
      if (deleted.length === 0) return false;
      await bumpRevision(tx);
      return true;
    });
  }

  async searchText(
    terms: readonly string[],
    tsConfig: string,
    limit: number,
  ): Promise<number[]> {
    if (terms.length === 0) return [];
    const list = sql.join(
      terms.map((t) => sql`${t}`),
      sql`, `,
    );
    // The words joined with `|` (OR), leaving out the stop words of the
    // configuration (which would match nearly every chunk as exact words);
    // the terms hold letters and digits only, so none is a tsquery operator.
    const result = await this.db.execute(sql`
      with words as (
        select coalesce(string_agg(term, ' | '), '') as query
          from unnest(array[${list}]::text[]) as term
         where to_tsvector(${tsConfig}::regconfig, term) <> ''::tsvector
      ), q as (
        select to_tsquery('simple', words.query)
               || to_tsquery(${tsConfig}::regconfig, words.query) as query
          from words
         where words.query <> ''
      )
      select c.id
        from ${knowledgeChunks} c, q
       where c.search @@ q.query
       order by ts_rank(c.search, q.query) desc, c.id
       limit ${limit}`);
    return rowsOf<{ id: number | string }>(result).map((r) => Number(r.id));
  }

  /** Chunks with their document's title: what retrieval and embedding read. */
  private chunkTexts() {
    return this.db
      .select({
        id: knowledgeChunks.id,
        documentId: knowledgeChunks.documentId,
        title: knowledgeDocuments.title,
        text: knowledgeChunks.text,
      })
      .from(knowledgeChunks)
      .innerJoin(
        knowledgeDocuments,
        eq(knowledgeDocuments.id, knowledgeChunks.documentId),
      );
  }

  async chunksByIds(ids: readonly number[]): Promise<ChunkText[]> {
    if (ids.length === 0) return [];
    const rows = await this.chunkTexts().where(
      inArray(knowledgeChunks.id, [...ids]),
    );
    return rows.map((r) => ({ ...r, id: Number(r.id) }));
  }

  async hasChunks(): Promise<boolean> {
    const [row] = await this.db
      .select({ id: knowledgeChunks.id })
      .from(knowledgeChunks)
      .limit(1);
    return row !== undefined;
  }

  async revision(): Promise<number> {
    const [row] = await this.db
      .select({ revision: knowledgeRevision.revision })
      .from(knowledgeRevision)
      .where(eq(knowledgeRevision.id, 1));
    return Number(row?.revision ?? 0);
  }

  async vectorsOf(model: string): Promise<StoredVectors> {
    // The revision is read first: a change after it makes the next check
    // load again, never miss a change.
    const revision = await this.revision();
    const ids: number[] = [];
    const vectors: Float32Array[] = [];
    for (let after = 0; ;) {
      // As base64 text: PGlite decodes bytea results in JavaScript, about
      // ten times slower than Buffer decodes base64. In pages, by id.
      const rows = rowsOf<{ id: number | string; vector: string }>(
        await this.db.execute(sql`
          select id, encode(embedding, 'base64') as vector
            from ${knowledgeChunks}
           where embedding_model = ${model} and embedding is not null
             and id > ${after}
           order by id
           limit ${VECTOR_PAGE}`),
      );
      for (const row of rows) {
        ids.push(Number(row.id));
        vectors.push(bytesVector(Buffer.from(row.vector, 'base64')));
      }
      if (rows.length < VECTOR_PAGE) break;
      after = ids[ids.length - 1];
    }
    return { revision, ids, vectors };
  }

  async chunksToEmbed(model: string, limit: number): Promise<ChunkText[]> {
    const rows = await this.chunkTexts()
      .where(
        or(
          isNull(knowledgeChunks.embeddingModel),
          ne(knowledgeChunks.embeddingModel, model),
        ),
      )
      .orderBy(asc(knowledgeChunks.id))
      .limit(limit);
    return rows.map((r) => ({ ...r, id: Number(r.id) }));
  }

  async saveVectors(
    model: string,
    vectors: ReadonlyArray<{ id: number; vector: Float32Array }>,
  ): Promise<void> {
    if (vectors.length === 0) return;
    await this.db.transaction(async (tx) => {
      for (const { id, vector } of vectors) {
        await tx
          .update(knowledgeChunks)
          .set({ embedding: vectorBytes(vector), embeddingModel: model })
          .where(eq(knowledgeChunks.id, id));
      }
      await bumpRevision(tx);
    });
  }

  async reindexText(tsConfig: string): Promise<number> {
    let total = 0;
    for (;;) {
      const stale = await this.db
        .select({
          id: knowledgeChunks.id,
          title: knowledgeDocuments.title,
          text: knowledgeChunks.text,
        })
        .from(knowledgeChunks)
        .innerJoin(
          knowledgeDocuments,
          eq(knowledgeDocuments.id, knowledgeChunks.documentId),
        )
        .where(ne(knowledgeChunks.tsConfig, tsConfig))
        .limit(INSERT_ROWS);
      if (stale.length === 0) return total;
      await this.db.transaction(async (tx) => {
        for (const chunk of stale) {
          await tx
            .update(knowledgeChunks)
            .set({
              search: searchVector(chunk.title, chunk.text, tsConfig),
              tsConfig,
            })
            .where(eq(knowledgeChunks.id, chunk.id));
        }
      });
      total += stale.length;
    }
  }
}
