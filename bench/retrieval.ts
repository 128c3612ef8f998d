/**
 * Knowledge retrieval time at 1k, 10k and 100k chunks on embedded PGlite
 * (the default database, on its own thread as in production). A synthetic
 * corpus (pseudo-words with a Zipf-like spread, ~100 words a chunk, random
 * DIMS-long vectors) is loaded through the real store; then, at each size:
 *   - reload: the first search after a change, which reads every vector
 *     into memory again (what an instance pays after an upload anywhere);
 *   - vectors: the in-memory similarity search alone (top 50);
 *   - full text: `KnowledgeRetriever.retrieve` with embeddings off
 *     (PostgreSQL full-text search, OR of 6 words, + the chunk texts), for
 *     6 words drawn like the corpus's (some are in most chunks: every
 *     chunk that has any of them is ranked) and for 6 rarer words (a
 *     specific question, matching few chunks);
 *   - hybrid: `retrieve` with an instant embedding stub (no HTTP): the
 *     revision check, both rankings, the fusion and the chunk texts;
 * and the memory the vectors take. The embedding endpoint's own latency
 * (tens to hundreds of ms at OpenAI) comes on top of "hybrid".
 * Not part of `npm run bench`; run it alone:
 *   node -r ts-node/register/transpile-only bench/retrieval.ts
 *   SIZES=1000,10000 DIMS=1536 QUERIES=200 node -r ts-node/register/transpile-only bench/retrieval.ts
 */
import { Logger } from '@nestjs/common';
import { openDatabase } from '../src/database/open-database';
import { DrizzleKnowledgeStore } from '../src/knowledge/drizzle-knowledge.store';
import { KnowledgeRetriever } from '../src/knowledge/knowledge-retriever';
import { KnowledgeVectors } from '../src/knowledge/knowledge-vectors';
import type { KnowledgeConfig } from '../src/config/app-config';
import { EmbeddingProvider } from '../src/llm/embedding.provider';
import { monoMs, round, summarise } from './lib/stats';

const sizes = (process.env.SIZES ?? '1000,10000,100000').split(',').map(Number);
const dims = Number(process.env.DIMS) || 1536;
const queries = Number(process.env.QUERIES) || 200;
const CHUNKS_PER_DOCUMENT = 100;
const MODEL = 'bench-embedding';

/** A deterministic pseudo-random generator (mulberry32). */
function random(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = random(42);
const SYLLABLES = 'ka lo mi ne ru sa te vo zi pa do fe gu ha ji'.split(' ');
const vocabulary = Array.from({ length: 20_000 }, (_, i) => {
  let word = '';
  for (let n = i + 1; n > 0; n = Math.floor(n / SYLLABLES.length)) {
    word += SYLLABLES[n % SYLLABLES.length];
  }
  return word;
});
/** Zipf-like: low ranks are common words, high ranks rare. */
const word = () =>
  vocabulary[Math.floor(vocabulary.length ** rand()) - 1] ?? vocabulary[0];
const sentence = (words: number) =>
  Array.from({ length: words }, word).join(' ');
/** Words of the rarer part of the vocabulary: a specific question. */
const specific = (words: number) =>
  Array.from(
    { length: words },
    () => vocabulary[1000 + Math.floor(rand() * (vocabulary.length - 1000))],
  ).join(' ');
const vector = () => {
  const v = new Float32Array(dims);
  for (let i = 0; i < dims; i++) v[i] = rand() - 0.5;
  return v;
};

class StubEmbeddings extends EmbeddingProvider {
  constructor(readonly model: string | null) {
    super();
  }
  embed(texts: readonly string[]): Promise<Float32Array[]> {
    return Promise.resolve(texts.map(() => vector()));
  }
}

const config = (): KnowledgeConfig => ({
  embeddingModel: MODEL,
  topK: 4,
  language: 'english',
  maxFileBytes: 1,
  maxChars: 1,
});

async function time<T>(work: () => Promise<T>): Promise<[T, number]> {
  const start = monoMs();
  const result = await work();
  return [result, monoMs() - start];
}

async function main() {
  Logger.overrideLogger(['error']);
  const connection = await openDatabase({
    url: null,
    dataDir: 'memory://',
    poolSize: 1,
  });
  const store = new DrizzleKnowledgeStore(connection);
  const vectors = new KnowledgeVectors(store);
  const hybrid = new KnowledgeRetriever(
    store,
    vectors,
    new StubEmbeddings(MODEL),
    config(),
  );
  const textOnly = new KnowledgeRetriever(
    store,
    new KnowledgeVectors(store),
    new StubEmbeddings(null),
    config(),
  );
  const rows: string[] = [];
  let loaded = 0;
  try {
    for (const size of sizes) {
      const [, loadMs] = await time(async () => {
        for (; loaded < size; loaded += CHUNKS_PER_DOCUMENT) {
          const chunks = Array.from({ length: CHUNKS_PER_DOCUMENT }, () => ({
            text: sentence(100),
            embedding: vector(),
          }));
          await store.addDocument(
            {
              title: sentence(3),
              filename: null,
              mimeType: null,
              text: '',
            },
            chunks,
            MODEL,
            'english',
          );
        }
      });
      await connection.db.execute('analyze knowledge_chunks' as never);
      const [, reloadMs] = await time(async () => {
        await hybrid.retrieve(sentence(6), 4);
        await vectors.settled();
      });
      const vectorMs: number[] = [];
      const textMs: number[] = [];
      const hybridMs: number[] = [];
      const specificMs: number[] = [];
      for (let i = 0; i < queries; i++) {
        const q = vector();
        vectorMs.push((await time(() => vectors.search(MODEL, q, 50)))[1]);
        const query = sentence(6);
        textMs.push((await time(() => textOnly.retrieve(query, 4)))[1]);
        hybridMs.push((await time(() => hybrid.retrieve(query, 4)))[1]);
        const rare = specific(6);
        specificMs.push((await time(() => textOnly.retrieve(rare, 4)))[1]);
      }
      const v = summarise(vectorMs);
      const t = summarise(textMs);
      const h = summarise(hybridMs);
      const r = summarise(specificMs);
      const row = `| ${size.toLocaleString('en')} | ${round(loadMs / 1000)} s | ${round(reloadMs)} ms | ${v.p50} / ${v.p99} ms | ${t.p50} / ${t.p99} ms | ${r.p50} / ${r.p99} ms | ${h.p50} / ${h.p99} ms | ${round((vectors.size * dims * 4) / 2 ** 20)} MiB |`;
      rows.push(row);
      console.log(row);
    }
  } finally {
    await connection.close();
  }
  console.log(
    `\n${dims} dimensions, ${queries} queries per size, p50 / p99\n` +
      '| chunks | load (cumulative) | first search after a change | vectors in memory, top 50 | full text only, common words | full text only, specific words | hybrid (instant embedding), common words | vectors held |\n' +
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n' +
      rows.join('\n'),
  );
}

void main();
