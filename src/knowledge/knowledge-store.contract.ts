import { DatabaseConnection } from '../database/database-connection';
import { DrizzleKnowledgeStore } from './drizzle-knowledge.store';
import type { NewKnowledgeDocument } from './knowledge.types';

const doc = (
  title: string,
  text = '',
  over: Partial<NewKnowledgeDocument> = {},
): NewKnowledgeDocument => ({
  title,
  filename: null,
  mimeType: null,
  text,
  ...over,
});
const vector = (...values: number[]) => Float32Array.from(values);

/**
 * The KnowledgeStore contract, run on PGlite (real Postgres in WASM) and on
 * the PostgreSQL server in the integration run.
 */
export function knowledgeStoreContract(
  open: () => Promise<DatabaseConnection>,
) {
  let connection: DatabaseConnection;
  let store: DrizzleKnowledgeStore;

  beforeAll(async () => {
    connection = await open();
  });
  afterAll(async () => {
    await connection.close();
  });
  beforeEach(async () => {
    store = new DrizzleKnowledgeStore(connection);
    await connection.db.execute(
      'truncate knowledge_chunks, knowledge_documents, knowledge_revision restart identity' as never,
    );
  });

  /** A document of one chunk per text, without vectors. */
  const add = (title: string, ...texts: string[]) =>
    store.addDocument(
      doc(title, texts.join('\n\n')),
      texts.map((text) => ({ text, embedding: null })),
      null,
      'english',
    );

  it('stores a document with its chunks in order, lists it and deletes it with them', async () => {
    const added = await store.addDocument(
      doc('Shipping', 'a\n\nb', {
        filename: 'ship.md',
        mimeType: 'text/markdown',
      }),
      [
        { text: 'first', embedding: vector(1, 0) },
        { text: 'second', embedding: null },
      ],
      'model-a',
      'english',
    );
    expect(added).toMatchObject({ title: 'Shipping', chunks: 2 });

    expect(await store.listDocuments()).toEqual([
      {
        id: added.id,
        title: 'Shipping',
        chunks: 2,
        createdAt: added.createdAt,
      },
    ]);
    const stored = await store.getDocument(added.id);
    expect(stored).toMatchObject({
      id: added.id,
      filename: 'ship.md',
      mimeType: 'text/markdown',
      chars: 4,
      chunks: 2,
    });
    expect(
      stored!.chunkList.map((c) => [c.position, c.text, c.embeddingModel]),
    ).toEqual([
      [0, 'first', 'model-a'],
      [1, 'second', null],
    ]);

    expect(await store.deleteDocument(added.id)).toBe(true);
    expect(await store.deleteDocument(added.id)).toBe(false);
    expect(await store.getDocument(added.id)).toBeNull();
    expect(await store.listDocuments()).toEqual([]);
    expect(await store.chunksByIds(stored!.chunkList.map((c) => c.id))).toEqual(
      [],
    );
  });

  it('finds chunks with ANY of the words, accents and inflections aside, best match first', async () => {
    const { id } = await add(
      'Envíos',
      'Los envíos nacionales tardan dos días.',
      'Delivery abroad takes ten days; shipping is tracked.',
      'Our shop opens at nine.',
    );
    const chunks = (await store.getDocument(id))!.chunkList;

    // No accent in the query, an accent in the text (and the title).
    expect(await store.searchText(['envios'], 'english', 10)).toEqual([
      chunks[0].id,
      chunks[1].id,
      chunks[2].id,
    ]);
    // OR of the words; the chunk with both ranks first; stemmed: ships → ship.
    expect(
      await store.searchText(['ships', 'abroad', 'unknownword'], 'english', 10),
    ).toEqual([chunks[1].id]);
    expect(
      (await store.searchText(['opens', 'nine', 'tracked'], 'english', 10))[0],
    ).toBe(chunks[2].id);
    // Stop words alone find nothing; no words, nothing.
    expect(await store.searchText(['the', 'is'], 'english', 10)).toEqual([]);
    expect(await store.searchText([], 'english', 10)).toEqual([]);
    expect(await store.searchText(['days'], 'english', 1)).toHaveLength(1);
  });

  it('gives chunks by id with their document title', async () => {
    const { id } = await add('Returns', 'Free returns within 30 days.');
    const [chunk] = (await store.getDocument(id))!.chunkList;

    expect(await store.chunksByIds([chunk.id, 999_999])).toEqual([
      {
        id: chunk.id,
        documentId: id,
        title: 'Returns',
        text: 'Free returns within 30 days.',
      },
    ]);
  });

  it('bumps the revision on every change, and gives the vectors of one model', async () => {
    expect(await store.revision()).toBe(0);
    const a = await store.addDocument(
      doc('A'),
      [
        { text: 'one', embedding: vector(0.5, -1.25, 3) },
        { text: 'two', embedding: null },
      ],
      'model-a',
      'english',
    );
    const afterAdd = await store.revision();
    expect(afterAdd).toBeGreaterThan(0);

    const vectors = await store.vectorsOf('model-a');
    expect(vectors.revision).toBe(afterAdd);
    expect(vectors.ids).toHaveLength(1);
    expect(Array.from(vectors.vectors[0])).toEqual([0.5, -1.25, 3]);
    expect((await store.vectorsOf('model-b')).ids).toEqual([]);

    await store.deleteDocument(a.id);
    expect(await store.revision()).toBeGreaterThan(afterAdd);
  });

  it('lists the chunks another model (or none) embedded, and saves new vectors for them', async () => {
    await store.addDocument(
      doc('Old'),
      [{ text: 'old vector', embedding: vector(1, 1) }],
      'model-old',
      'english',
    );
    await add('None', 'no vector');
    const before = await store.revision();

    const stale = await store.chunksToEmbed('model-new', 10);
    expect(stale.map((c) => [c.title, c.text])).toEqual([
      ['Old', 'old vector'],
      ['None', 'no vector'],
    ]);
    expect(await store.chunksToEmbed('model-new', 1)).toHaveLength(1);

    await store.saveVectors(
      'model-new',
      stale.map((c, i) => ({ id: c.id, vector: vector(i, 2) })),
    );
    expect(await store.chunksToEmbed('model-new', 10)).toEqual([]);
    expect((await store.vectorsOf('model-new')).ids).toEqual(
      stale.map((c) => c.id),
    );
    expect(await store.revision()).toBeGreaterThan(before);
  });

  it('re-indexes chunks indexed with another text search configuration', async () => {
    await add('Compras', 'Aquí compramos oro.');
    // english does not stem Spanish: "comprar" is not "compramos".
    expect(await store.searchText(['comprar'], 'english', 10)).toEqual([]);

    expect(await store.reindexText('spanish')).toBe(1);
    expect(await store.reindexText('spanish')).toBe(0);
    expect(await store.searchText(['comprar'], 'spanish', 10)).toHaveLength(1);
  });
}
