import { Logger } from '@nestjs/common';
import { FakeOpenAi } from './fakes/fake-openai';
import { scoreRetrieval } from './support/knowledge-eval';

/**
 * Retrieval over the fictional shop in test/fixtures/knowledge: each
 * question's answer chunk must come within the first 4. The floors are the
 * scores measured when this was written (README, "Knowledge base"), so that
 * a change that makes retrieval worse fails here. The fake's embeddings are
 * a hashed bag of words, not a real model.
 */
describe('knowledge retrieval quality on the fixture shop', () => {
  let openai: FakeOpenAi;
  beforeAll(async () => {
    Logger.overrideLogger(false);
    openai = await FakeOpenAi.start();
  });
  afterAll(async () => {
    await openai.close();
  });

  it('finds the answer with full-text search alone', async () => {
    const score = await scoreRetrieval(openai.baseUrl, null);
    expect(score.hitAt4).toBeGreaterThanOrEqual(FLOORS.text.hitAt4);
    expect(score.hitAt1).toBeGreaterThanOrEqual(FLOORS.text.hitAt1);
  });

  it('finds the answer with full text and (fake) embeddings fused', async () => {
    const score = await scoreRetrieval(
      openai.baseUrl,
      'text-embedding-3-small',
    );
    expect(score.hitAt4).toBeGreaterThanOrEqual(FLOORS.hybrid.hitAt4);
    expect(score.hitAt1).toBeGreaterThanOrEqual(FLOORS.hybrid.hitAt1);
  });
});

const FLOORS = {
  text: { hitAt1: 15, hitAt4: 19 },
  hybrid: { hitAt1: 16, hitAt4: 19 },
};
