import { FakeGraphApi } from './fakes/fake-graph-api';
import { FakeOpenAi } from './fakes/fake-openai';
import { waitFor } from './fakes/wait-for';
import { ADMIN_KEY, fakeEnv, startTestApp, TestApp } from './support/test-app';
import { postWebhook, textWebhook } from './support/webhooks';

/** A line of a V8 stack trace, as it would appear in a leaked error. */
const STACK_FRAME = /\bat\s+[\w$.<>]+\s+\(|\bat\s+\/|node:internal/;

let graph: FakeGraphApi;
let openai: FakeOpenAi;
let app: TestApp;

const get = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${app.url}${path}`, { headers });

beforeAll(async () => {
  graph = await FakeGraphApi.start();
  openai = await FakeOpenAi.start();
  app = await startTestApp(fakeEnv(graph, openai));
});

afterAll(async () => {
  await app?.close();
  await graph?.close();
  await openai?.close();
});

describe('the application over HTTP', () => {
  describe('unknown routes', () => {
    it('answers 404 in the error envelope', async () => {
      const res = await get('/no/such/route');

      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      const body = (await res.json()) as Record<string, unknown>;
      expect(body).toMatchObject({ success: false, data: null });
      expect(typeof body.message).toBe('string');
      expect(body.message).not.toBe('');
    });

    it('answers 404 in the envelope for an unknown method on a known path', async () => {
      const res = await fetch(`${app.url}/api/health`, { method: 'DELETE' });

      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ success: false, data: null });
    });
  });

  describe('GET /api/health', () => {
    it('is public and reports the database up and both integrations configured', async () => {
      const res = await get('/api/health');

      expect(res.status).toBe(200);
      const body = (await res.json()) as any;
      expect(body.success).toBe(true);
      expect(body.data.status).toBe('ok');
      expect(body.data.services.database.status).toBe('up');
      expect(body.data.services.database.driver).toBe('pglite');
      expect(body.data.services.whatsapp.configured).toBe(true);
      expect(body.data.services.whatsapp.signatureVerification).toBe(true);
      expect(body.data.services.llm).toEqual({
        configured: true,
        model: 'test-model',
      });
    });

    it('never reveals a credential', async () => {
      const text = await (await get('/api/health')).text();

      for (const secret of [
        ADMIN_KEY,
        'test-openai-key',
        'test-access-token',
        'test-app-secret',
        'test-verify-token',
      ]) {
        expect(text).not.toContain(secret);
      }
    });
  });

  describe('probes', () => {
    it('answers the liveness probe with 200', async () => {
      const res = await get('/health/live');

      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ status: 'ok' });
    });

    it('answers the readiness probe with 200 while the database is up', async () => {
      const res = await get('/health/ready');

      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({
        status: 'ok',
        info: { database: { status: 'up' } },
      });
    });
  });

  describe('API documentation', () => {
    it('serves Swagger UI at /docs', async () => {
      const res = await get('/docs');

      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/text\/html/);
      expect(await res.text()).toMatch(/swagger-ui/i);
    });

    it('serves an OpenAPI 3 document with the bearer scheme and the public routes', async () => {
      const res = await get('/docs-json');

      expect(res.status).toBe(200);
      const doc = (await res.json()) as any;
      expect(doc.openapi).toMatch(/^3\./);
      const schemes = Object.values(
        doc.components?.securitySchemes ?? {},
      ) as Array<Record<string, unknown>>;
      expect(schemes).toContainEqual(
        expect.objectContaining({ type: 'http', scheme: 'bearer' }),
      );
      expect(doc.paths['/webhook']).toHaveProperty('get');
      expect(doc.paths['/webhook']).toHaveProperty('post');
      expect(doc.paths['/api/health']).toHaveProperty('get');
    });
  });

  describe('GET /metrics', () => {
    it('serves Prometheus text with process and ClariOps metrics', async () => {
      const res = await get('/metrics');

      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      const text = await res.text();
      expect(text).toMatch(/^# HELP process_cpu_user_seconds_total /m);
      expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
      expect(text).toMatch(/^# TYPE clariops_webhook_events_total counter$/m);
    });

    it('counts a stored webhook message', async () => {
      const res = await postWebhook(
        app.url,
        textWebhook('31612345678', 'Hello, are you open today?'),
      );
      expect(res.status).toBe(200);

      const text = await waitFor(async () => {
        const body = await (await get('/metrics')).text();
        return /^clariops_webhook_events_total\{type="message"\} [1-9]/m.test(
          body,
        )
          ? body
          : null;
      });
      expect(text).toMatch(/clariops_webhook_events_total\{type="message"\}/);
    });
  });

  describe('request ids', () => {
    it('echoes the X-Request-Id it was sent', async () => {
      const res = await get('/api/health', { 'x-request-id': 'req-abc.123_Z' });

      expect(res.headers.get('x-request-id')).toBe('req-abc.123_Z');
    });

    it('echoes the X-Request-Id on an error response too', async () => {
      const res = await get('/no/such/route', { 'x-request-id': 'req-404' });

      expect(res.status).toBe(404);
      expect(res.headers.get('x-request-id')).toBe('req-404');
    });

    it('gives a request without one an id of its own', async () => {
      const first = await get('/api/health');
      const second = await get('/api/health');

      expect(first.headers.get('x-request-id')).toMatch(/^[\w.-]{8,64}$/);
      expect(second.headers.get('x-request-id')).toMatch(/^[\w.-]{8,64}$/);
      expect(first.headers.get('x-request-id')).not.toBe(
        second.headers.get('x-request-id'),
      );
    });

    it('replaces an X-Request-Id that could forge log lines', async () => {
      const res = await get('/api/health', {
        'x-request-id': 'evil" injected="1',
      });

      expect(res.headers.get('x-request-id')).not.toContain('evil');
      expect(res.headers.get('x-request-id')).toMatch(/^[\w.-]+$/);
    });
  });

  describe('error responses', () => {
    it('answers an admin call with invalid fields with 400, every field error and no stack trace', async () => {
      const res = await fetch(`${app.url}/api/send-message`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${ADMIN_KEY}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({
          phoneNumber: '+31 6 9999 0001',
          message: '',
          priority: 'high',
        }),
      });

      expect(res.status).toBe(400);
      const text = await res.text();
      expect(text).not.toMatch(STACK_FRAME);
      const body = JSON.parse(text) as {
        success: boolean;
        message: string;
        data: unknown;
        errors: string[];
      };
      expect(body).toMatchObject({ success: false, data: null });
      expect(body.message).toMatch(/^Validation failed/);
      expect(body.errors).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^message /),
          'property priority should not exist',
        ]),
      );
      expect(
        graph.sentMessages().filter((m) => m.to === '+31699990001'),
      ).toEqual([]);
    });

    it('answers a webhook body that is not JSON with 400 and no stack trace', async () => {
      const res = await fetch(`${app.url}/webhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"object": "whatsapp_business_account", entry: [',
      });

      expect(res.status).toBe(400);
      const text = await res.text();
      expect(text).not.toMatch(STACK_FRAME);
      const body = JSON.parse(text) as Record<string, unknown>;
      expect(body).toMatchObject({ success: false, data: null });
      expect(body.message).toMatch(/not valid JSON/i);
    });

    it('answers a webhook body above the 3 MiB limit with 413 in the envelope', async () => {
      const res = await fetch(`${app.url}/webhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ padding: 'x'.repeat(3 * 1024 * 1024 + 1) }),
      });

      expect(res.status).toBe(413);
      const text = await res.text();
      expect(text).not.toMatch(STACK_FRAME);
      expect(JSON.parse(text)).toEqual({
        success: false,
        message: 'Request body is too large',
        data: null,
      });
    });

    it('answers 404 with no stack trace', async () => {
      const res = await get('/api/conversations/does-not-exist/nowhere');

      expect(res.status).toBe(404);
      const text = await res.text();
      expect(text).not.toMatch(STACK_FRAME);
      expect(text).not.toMatch(/\n\s+at /);
    });
  });
});

describe('the application without LLM and WhatsApp credentials', () => {
  let bare: TestApp;

  beforeAll(async () => {
    bare = await startTestApp({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATA_DIR: 'memory://',
    });
  });

  afterAll(async () => {
    await bare?.close();
  });

  it('starts and reports both integrations as not configured', async () => {
    const res = await fetch(`${bare.url}/api/health`);

    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.data.services.database.status).toBe('up');
    expect(body.data.services.llm.configured).toBe(false);
    expect(body.data.services.whatsapp.configured).toBe(false);
    expect(body.data.services.whatsapp.signatureVerification).toBe(false);
  });

  it('is ready to receive traffic', async () => {
    const res = await fetch(`${bare.url}/health/ready`);

    expect(res.status).toBe(200);
  });

  it('answers an operator send 503 while WhatsApp is not configured, and stores nothing', async () => {
    const configuredAdmin = await startTestApp({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATA_DIR: 'memory://',
      ADMIN_API_KEY: 'admin-key-for-unconfigured-whatsapp',
    });
    try {
      const headers = {
        authorization: 'Bearer admin-key-for-unconfigured-whatsapp',
        'content-type': 'application/json',
      };
      const send = await fetch(`${configuredAdmin.url}/api/send-message`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ phoneNumber: '+31612345678', message: 'hi' }),
      });
      expect(send.status).toBe(503);
      expect(await send.json()).toMatchObject({
        success: false,
        message: expect.stringContaining('WhatsApp is not configured'),
      });
      const media = await fetch(
        `${configuredAdmin.url}/api/media/1013859600285441`,
        {
          headers,
        },
      );
      expect(media.status).toBe(503);
      const session = await fetch(
        `${configuredAdmin.url}/api/session/31612345678`,
        { headers },
      );
      expect(session.status).toBe(404);
    } finally {
      await configuredAdmin.close();
    }
  });

  it('refuses every admin call while ADMIN_API_KEY is unset', async () => {
    const res = await fetch(`${bare.url}/api/send-message`, {
      method: 'POST',
      headers: {
        authorization: 'Bearer anything',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ phoneNumber: '+31612345678', message: 'hi' }),
    });

    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ success: false, data: null });
  });
});
