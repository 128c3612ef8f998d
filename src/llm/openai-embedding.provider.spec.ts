import { AppConfig } from '../config/app-config';
import { validateEnv } from '../config/validate-env';
import { FakeOpenAi } from '../../test/fakes/fake-openai';
import { EmbeddingError } from './embedding.provider';
import {
  EMBEDDING_BATCH,
  OpenAiEmbeddingProvider,
} from './openai-embedding.provider';

const cosine = (a: Float32Array, b: Float32Array) =>
  a.reduce((sum, x, i) => sum + x * b[i], 0);

describe('OpenAiEmbeddingProvider', () => {
  let server: FakeOpenAi;

  beforeAll(async () => {
    server = await FakeOpenAi.start();
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(() => server.reset());

  const provider = (env: Record<string, string> = {}) => {
    const config = new AppConfig(
      validateEnv({
        OPENAI_API_KEY: 'test-openai-key',
        OPENAI_BASE_URL: server.baseUrl,
        LLM_MAX_RETRIES: '0',
        ...env,
      }),
    );
    return new OpenAiEmbeddingProvider(config.llm, config.knowledge);
  };

  it('embeds texts in order with the default model through POST /embeddings', async () => {
    const [shipping, delivery, cake] = await provider().embed([
      'How long does shipping take?',
      'Shipping takes two days',
      'Chocolate cake recipe',
    ]);

    expect(shipping).toHaveLength(1536);
    expect(cosine(shipping, delivery)).toBeGreaterThan(cosine(shipping, cake));
    expect(server.embeddingRequests.map((r) => r.model)).toEqual([
      'text-embedding-3-small',
    ]);
    expect(server.violations).toEqual([]);
  });

  it(`sends at most ${EMBEDDING_BATCH} inputs per request`, async () => {
    const texts = Array.from(
      { length: EMBEDDING_BATCH + 5 },
      (_, i) => `text ${i}`,
    );

    const vectors = await provider().embed(texts);

    expect(vectors).toHaveLength(texts.length);
    expect(server.embeddingRequests.map((r) => r.input.length)).toEqual([
      EMBEDDING_BATCH,
      5,
    ]);
    const [again] = await provider().embed([texts[EMBEDDING_BATCH + 1]]);
    expect(Array.from(vectors[EMBEDDING_BATCH + 1])).toEqual(Array.from(again));
  });

  it('is disabled by an empty model or no API key', async () => {
    expect(provider({ OPENAI_EMBEDDING_MODEL: '' }).model).toBeNull();
    expect(provider({ OPENAI_API_KEY: '' }).model).toBeNull();
    await expect(
      provider({ OPENAI_EMBEDDING_MODEL: '' }).embed(['x']),
    ).rejects.toMatchObject({ reason: 'embeddings-disabled' });
    expect(server.embeddingRequests).toEqual([]);
  });

  it('rejects with an EmbeddingError when the endpoint fails or does not know the model', async () => {
    server.failEmbeddings(500);
    const failing = provider().embed(['x']);
    await expect(failing).rejects.toBeInstanceOf(EmbeddingError);
    await expect(failing).rejects.toMatchObject({
      reason: 'embeddings-failed',
    });
    server.failEmbeddings(null);
    await expect(
      provider({ OPENAI_EMBEDDING_MODEL: 'no-such-model' }).embed(['x']),
    ).rejects.toThrow(/answered 404/);
  });
});
