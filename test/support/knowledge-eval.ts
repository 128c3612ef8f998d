import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppConfig } from '../../src/config/app-config';
import { validateEnv } from '../../src/config/validate-env';
import { openDatabase } from '../../src/database/open-database';
import { DrizzleKnowledgeStore } from '../../src/knowledge/drizzle-knowledge.store';
import { KnowledgeDocumentsService } from '../../src/knowledge/knowledge-documents.service';
import { KnowledgeRetriever } from '../../src/knowledge/knowledge-retriever';
import { KnowledgeVectors } from '../../src/knowledge/knowledge-vectors';
import { OpenAiEmbeddingProvider } from '../../src/llm/openai-embedding.provider';

/** The fictional shop's documents and the questions they answer. */
export const KNOWLEDGE_FIXTURES = join(
  __dirname,
  '..',
  'fixtures',
  'knowledge',
);

interface Question {
  question: string;
  /** The file whose chunk answers it. */
  document: string;
  /** Words only the answering chunk holds. */
  contains: string;
}

export interface RetrievalScore {
  questions: number;
  /** Questions whose answer chunk came first. */
  hitAt1: number;
  /** Questions whose answer chunk was among the first 4. */
  hitAt4: number;
  /** The questions missed at 4, with what came first instead. */
  misses: Array<{ question: string; first: string | null }>;
}

/**
 * Loads the fixtures into a fresh in-memory PGlite through the real
 * documents service and asks every question through the real retriever,
 * with embeddings from `embeddingModel` at `baseUrl` (null: full text only).
 */
export async function scoreRetrieval(
  baseUrl: string,
  embeddingModel: string | null,
): Promise<RetrievalScore> {
  const config = new AppConfig(
    validateEnv({
      OPENAI_API_KEY: 'test-openai-key',
      OPENAI_BASE_URL: baseUrl,
      OPENAI_EMBEDDING_MODEL: embeddingModel ?? '',
      LLM_MAX_RETRIES: '0',
    }),
  );
  const connection = await openDatabase({
    url: null,
    dataDir: 'memory://',
    poolSize: 1,
  });
  try {
    const store = new DrizzleKnowledgeStore(connection);
    const embeddings = new OpenAiEmbeddingProvider(
      config.llm,
      config.knowledge,
    );
    const retriever = new KnowledgeRetriever(
      store,
      new KnowledgeVectors(store),
      embeddings,
      config.knowledge,
    );
    const documents = new KnowledgeDocumentsService(
      store,
      embeddings,
      config.knowledge,
      retriever,
    );
    const idOf = new Map<string, string>();
    for (const file of readdirSync(KNOWLEDGE_FIXTURES).filter((f) =>
      f.endsWith('.md'),
    )) {
      const text = readFileSync(join(KNOWLEDGE_FIXTURES, file), 'utf8');
      const title = /^# (.+)$/m.exec(text)?.[1] ?? file;
      const added = await documents.add({ kind: 'text', title, text });
      idOf.set(file, added.id);
    }
    const questions = JSON.parse(
      readFileSync(join(KNOWLEDGE_FIXTURES, 'questions.json'), 'utf8'),
    ) as Question[];
    const score: RetrievalScore = {
      questions: questions.length,
      hitAt1: 0,
      hitAt4: 0,
      misses: [],
    };
    for (const q of questions) {
      const hits = await retriever.retrieve(q.question, 4);
      const rank = hits.findIndex(
        (h) =>
          h.documentId === idOf.get(q.document) && h.text.includes(q.contains),
      );
      if (rank === 0) score.hitAt1++;
      if (rank >= 0) score.hitAt4++;
      else {
        score.misses.push({
          question: q.question,
          first: hits[0]?.text.split('\n')[0] ?? null,
        });
      }
    }
    return score;
  } finally {
    await connection.close();
  }
}
