import { FakeGraphApi } from './fakes/fake-graph-api';
import { FakeOpenAi } from './fakes/fake-openai';
import { ADMIN_KEY, fakeEnv, startTestApp, TestApp } from './support/test-app';

// Media for operators: GET /api/media/:mediaId, and media sends through
// POST /api/send-message (by link, by id, or uploaded first), against the
// fake Graph API.

let app: TestApp;
let graph: FakeGraphApi;
let openai: FakeOpenAi;

const JPEG = Buffer.from('ffd8ffe000104a46494600010100000100010000ffd9', 'hex');

async function api(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${app.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${ADMIN_KEY}`,
      ...(body !== undefined && { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

beforeAll(async () => {
  graph = await FakeGraphApi.start();
  openai = await FakeOpenAi.start();
  app = await startTestApp(fakeEnv(graph, openai));
});
afterAll(async () => {
  await app.close();
  await graph.close();
  await openai.close();
});
beforeEach(() => {
  graph.reset();
  openai.reset();
});
afterEach(() => {
  expect(graph.violations).toEqual([]);
  expect(openai.violations).toEqual([]);
});

describe('GET /api/media/:mediaId', () => {
  it("answers the file's bytes with Meta's content type, as an attachment never cached", async () => {
    graph.addMedia('1013859600285441', JPEG, 'image/jpeg');
    const res = await fetch(`${app.url}/api/media/1013859600285441`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    expect(res.headers.get('content-disposition')).toBe(
      'attachment; filename="media-1013859600285441.jpg"',
    );
    expect(res.headers.get('content-length')).toBe(String(JPEG.length));
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(Buffer.from(await res.arrayBuffer())).toEqual(JPEG);
  });

  it('keeps the codecs parameter of a voice note and fetches a fresh URL when the first expired', async () => {
    const ogg = Buffer.from('OggS fake voice note');
    graph.addMedia('555', ogg, 'audio/ogg; codecs=opus');
    graph.failNextOn('media-download', 1, { status: 404, code: 0 });
    const res = await fetch(`${app.url}/api/media/555`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('audio/ogg; codecs=opus');
    expect(Buffer.from(await res.arrayBuffer())).toEqual(ogg);
    expect(graph.requestCount('media-info')).toBe(2);
  });

  it('answers 404 in the envelope when Meta does not know the id', async () => {
    const res = await api('GET', '/api/media/123456789');
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ success: false, data: null });
    expect(res.body.message).toMatch(/no media 123456789/);
  });

  it('answers 502 when Meta fails', async () => {
    graph.addMedia('777', JPEG, 'image/jpeg');
    graph.failNextOn('media-info', 1, {
      status: 403,
      code: 10,
      message: 'Application does not have permission for this action',
    });
    const res = await api('GET', '/api/media/777');
    expect(res.status).toBe(502);
    expect(res.body.success).toBe(false);
    expect(res.body.message).toMatch(/did not give media 777/);
  });

  it.each(['abc', '12a', 'wamid.HBgL', '1'.repeat(31)])(
    'answers 400 for the malformed id %s without asking Meta',
    async (id) => {
      const res = await api('GET', `/api/media/${id}`);
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(/mediaId must be/);
      expect(graph.requestCount('media-info')).toBe(0);
    },
  );

  it('refuses a request without the admin key', async () => {
    graph.addMedia('888', JPEG, 'image/jpeg');
    const res = await fetch(`${app.url}/api/media/888`);
    expect(res.status).toBe(401);
    expect(graph.requestCount('media-info')).toBe(0);
  });
});
