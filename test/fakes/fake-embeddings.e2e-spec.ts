import { FakeOpenAi } from './fake-openai';

/** The fake's POST /v1/embeddings, called over HTTP as any client would. */
describe('FakeOpenAi POST /v1/embeddings', () => {
  let fake: FakeOpenAi;
  beforeAll(async () => {
    fake = await FakeOpenAi.start();
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => fake.reset());

  const post = async (body: unknown, key = 'test-openai-key') => {
    const res = await fetch(`${fake.baseUrl}/embeddings`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };

  it('answers a list of float embeddings in input order, with usage', async () => {
    const res = await post({
      model: 'text-embedding-3-small',
      input: ['a', 'b'],
      encoding_format: 'float',
      dimensions: 8,
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      object: 'list',
      model: 'text-embedding-3-small',
      data: [
        { object: 'embedding', index: 0 },
        { object: 'embedding', index: 1 },
      ],
      usage: { prompt_tokens: 2, total_tokens: 2 },
    });
    expect(res.body.data[0].embedding).toHaveLength(8);
  });

  it.each([
    ['an unknown model', { model: 'gpt-9', input: 'x' }, 404],
    ['no model', { input: 'x' }, 400],
    ['an empty input', { model: 'text-embedding-3-small', input: [] }, 400],
    ['an empty string', { model: 'text-embedding-3-small', input: [''] }, 400],
    ['a number', { model: 'text-embedding-3-small', input: [1] }, 400],
    [
      'an unknown argument',
      { model: 'text-embedding-3-small', input: 'x', foo: 1 },
      400,
    ],
    [
      'dimensions for ada',
      { model: 'text-embedding-ada-002', input: 'x', dimensions: 8 },
      400,
    ],
  ])(
    'refuses %s like OpenAI and records the violation',
    async (_name, body, status) => {
      const res = await post(body);
      expect(res.status).toBe(status);
      expect(res.body.error.message).toEqual(expect.any(String));
      expect(fake.violations).toHaveLength(1);
      expect(fake.embeddingRequests).toEqual([]);
    },
  );

  it('refuses a wrong key, and fails on demand until told to stop', async () => {
    expect(
      (await post({ model: 'text-embedding-3-small', input: 'x' }, 'bad'))
        .status,
    ).toBe(401);
    fake.failEmbeddings(503);
    expect(
      (await post({ model: 'text-embedding-3-small', input: 'x' })).status,
    ).toBe(503);
    fake.failEmbeddings(null);
    expect(
      (await post({ model: 'text-embedding-3-small', input: 'x' })).status,
    ).toBe(200);
  });
});
