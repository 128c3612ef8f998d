/**
 * Retrieval quality on the fictional shop in test/fixtures/knowledge: hit@1
 * and hit@4 of ~20 questions, with full-text search alone and fused with
 * the fake OpenAI server's embeddings (a hashed bag of words and trigrams,
 * NOT a real model: point OPENAI_BASE_URL/OPENAI_API_KEY/
 * OPENAI_EMBEDDING_MODEL at a real endpoint to measure one).
 *
 *   node -r ts-node/register/transpile-only bench/retrieval-quality.ts
 */
import { Logger } from '@nestjs/common';
import { FakeOpenAi } from '../test/fakes/fake-openai';
import { scoreRetrieval } from '../test/support/knowledge-eval';

async function main() {
  Logger.overrideLogger(false);
  const fake = await FakeOpenAi.start();
  try {
    const realUrl = process.env.OPENAI_BASE_URL;
    const runs: Array<[string, string, string | null]> = [
      ['full text only', fake.baseUrl, null],
      ['full text + fake embeddings', fake.baseUrl, 'text-embedding-3-small'],
    ];
    if (realUrl && process.env.OPENAI_EMBEDDING_MODEL) {
      runs.push([
        `full text + ${process.env.OPENAI_EMBEDDING_MODEL}`,
        realUrl,
        process.env.OPENAI_EMBEDDING_MODEL,
      ]);
    }
    for (const [name, url, model] of runs) {
      const score = await scoreRetrieval(url, model);
      console.log(
        `${name}: hit@1 ${score.hitAt1}/${score.questions}, hit@4 ${score.hitAt4}/${score.questions}`,
      );
      for (const miss of score.misses) {
        console.log(`  missed: "${miss.question}" (first: ${miss.first})`);
      }
    }
  } finally {
    await fake.close();
  }
}

void main();
