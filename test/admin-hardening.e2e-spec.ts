import { request as httpRequest } from 'node:http';
import { sql } from 'drizzle-orm';
import { FakeGraphApi } from './fakes/fake-graph-api';
import { FakeOpenAi } from './fakes/fake-openai';
import { waitFor } from './fakes/wait-for';
import { ADMIN_KEY, fakeEnv, startTestApp, TestApp } from './support/test-app';
import {
  envelope,
  messageChange,
  newWamid,
  postWebhook,
  textWebhook,
} from './support/webhooks';

// Bad input, hardening headers and the OpenAPI document of the admin API:
// every answer to a malformed request is a 4xx in the envelope, names the
// field, and changes nothing.

let graph: FakeGraphApi;
let openai: FakeOpenAi;
let app: TestApp;
let seq = 0;
const newCustomer = () =>
  `4477${String(Date.now()).slice(-5)}${String(++seq).padStart(3, '0')}`;
const newBsuid = () =>
  `US.1349${String(Date.now()).slice(-8)}${String(++seq).padStart(4, '0')}`;

interface Envelope<T = any> {
  success: boolean;
  message: string;
  data: T;
  errors?: string[];
  errorId?: string;
}

interface Reply<T = any> {
  status: number;
  body: Envelope<T>;
  headers: Headers;
}

/** A request with a raw (already serialised) body. */
async function raw<T = any>(
  method: string,
  path: string,
  body?: string,
): Promise<Reply<T>> {
  const headers: Record<string, string> = {
    authorization: `Bearer ${ADMIN_KEY}`,
  };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${app.url}${path}`, { method, headers, body });
  return {
    status: res.status,
    body: (await res.json()) as Envelope<T>,
    headers: res.headers,
  };
}

const api = <T = any>(method: string, path: string, body?: unknown) =>
  raw<T>(method, path, body === undefined ? undefined : JSON.stringify(body));

/** Everything a request could have changed, as one comparable value. */
async function databaseFingerprint() {
  const result = await app.db.db.execute(sql`
    select
      (select count(*)::int from conversations) as conversations,
      (select count(*)::int from messages) as messages,
      (select count(*)::int from conversation_events) as events,
      (select coalesce(string_agg(id::text || ':' || state, ',' order by id), '') from conversations) as states`);
  return (result as unknown as { rows: unknown[] }).rows[0];
}

/** A 4xx that names `field`, in the envelope, with no error id (nothing was logged as an error). */
function expectRefusal(res: Reply, field: string, status = 400) {
  expect(res.status).toBe(status);
  expect(res.body).toMatchObject({ success: false, data: null });
  expect(res.body.message).toContain(field);
  expect(res.body.errorId).toBeUndefined();
}

/** `{"<field>": {"a": {"a": … 1 …}}}` nested `depth` levels deep, as raw JSON. */
const deeplyNested = (field: string, depth: number, extra = '') =>
  `{${extra}"${field}":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`;

/** A customer who wrote once and got the bot's answer. */
async function chattingCustomer() {
  const customer = newCustomer();
  await postWebhook(app.url, textWebhook(customer, 'hello'));
  await waitFor(() =>
    graph.sentMessages().some((m) => m.to === `+${customer}`),
  );
  return customer;
}

/** A message from a customer with a username: a BSUID and no phone number. */
function bsuidWebhook(bsuid: string, text: string) {
  const change = messageChange([{ from: bsuid, text }]);
  const value = change.value as Record<string, any>;
  value.contacts = [{ profile: { name: 'Username Customer' }, user_id: bsuid }];
  value.messages = value.messages.map(
    ({ from: _from, ...message }: Record<string, unknown>) => ({
      ...message,
      from_user_id: bsuid,
      id: newWamid(),
    }),
  );
  return envelope(change);
}

beforeAll(async () => {
  graph = await FakeGraphApi.start();
  openai = await FakeOpenAi.start();
  app = await startTestApp({
    ...fakeEnv(graph, openai),
    // This file makes many admin requests; the rate limit has its own tests.
    ADMIN_THROTTLE_LIMIT: '100000',
  });
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

describe('text fields holding a NUL character', () => {
  it('refuses a NUL in the send-message text with 400 naming message, and stores and sends nothing', async () => {
    const before = await databaseFingerprint();
    const res = await api('POST', '/api/send-message', {
      phoneNumber: newCustomer(),
      message: 'secret order text\u0000more',
    });
    expectRefusal(res, 'message');
    expect(res.body.message).not.toContain('secret order text');
    expect(graph.requests).toHaveLength(0);
    expect(await databaseFingerprint()).toEqual(before);
  });

  it('refuses a NUL in an operator reply with 400 naming message', async () => {
    const customer = await chattingCustomer();
    graph.reset();
    const before = await databaseFingerprint();
    const res = await api('POST', `/api/conversations/${customer}/reply`, {
      message: 'hi\u0000',
    });
    expectRefusal(res, 'message');
    expect(graph.requests).toHaveLength(0);
    expect(await databaseFingerprint()).toEqual(before);
  });

  it('refuses a NUL in the handoff reason with 400 naming reason', async () => {
    const customer = await chattingCustomer();
    const before = await databaseFingerprint();
    const res = await api('POST', `/api/conversations/${customer}/handoff`, {
      reason: 'refund\u0000',
    });
    expectRefusal(res, 'reason');
    expect(await databaseFingerprint()).toEqual(before);
  });

  it('refuses a NUL in the inbox customer filter with 400 naming customer', async () => {
    expectRefusal(
      await api('GET', '/api/conversations?customer=%00'),
      'customer',
    );
  });

  it('refuses a NUL in a context message of generate-response, without asking the LLM', async () => {
    const res = await api('POST', '/api/generate-response', {
      message: 'hello',
      context: [{ role: 'user', content: 'a\u0000b' }],
    });
    expectRefusal(res, 'context');
    expect(openai.requests).toHaveLength(0);
  });
});

describe('JSON nested 5,000 levels deep', () => {
  it.each([
    ['/api/send-message', 'message', '"phoneNumber":"16505551234",'],
    ['/api/generate-response', 'message', ''],
    ['/conversations/{customer}/handoff', 'reason', ''],
    ['/conversations/{customer}/reply', 'message', ''],
  ])('answers POST %s with 400 naming %s', async (route, field, extra) => {
    const path = route.startsWith('/conversations/')
      ? `/api${route.replace('{customer}', newCustomer())}`
      : route;
    const before = await databaseFingerprint();
    const res = await raw('POST', path, deeplyNested(field, 5000, extra));
    expectRefusal(res, field);
    expect(res.body.message).toMatch(/nested/);
    expect(await databaseFingerprint()).toEqual(before);
    expect(graph.requests).toHaveLength(0);
    expect(openai.requests).toHaveLength(0);
  });
});

describe('query parameters', () => {
  it.each(['0x10', '1e2', '16.0', ' 16', '+16', ''])(
    'refuses limit=%j on the inbox with 400 naming limit',
    async (limit) => {
      expectRefusal(
        await api(
          'GET',
          `/api/conversations?limit=${encodeURIComponent(limit)}`,
        ),
        'limit',
      );
    },
  );

  it('accepts a decimal limit on the inbox', async () => {
    const res = await api('GET', '/api/conversations?limit=16');
    expect(res.status).toBe(200);
  });

  it('refuses limit=0x10 on a conversation’s messages with 400 naming limit', async () => {
    const customer = await chattingCustomer();
    const page = await api('GET', `/api/conversations?customer=${customer}`);
    const id = page.body.data.items[0].id as string;
    expectRefusal(
      await api('GET', `/api/conversations/${id}/messages?limit=0x10`),
      'limit',
    );
    const ok = await api('GET', `/api/conversations/${id}/messages?limit=16`);
    expect(ok.status).toBe(200);
    expect(ok.body.data.items.length).toBeGreaterThanOrEqual(2);
  });

  it.each([
    ['a year before PostgreSQL can store it', '-271821-04-20T00:00:00Z'],
    ['a year past 9999', '+275760-09-13T00:00:00Z'],
    ['a bare number', '0'],
    ['a day that does not exist', '2026-02-30'],
    ['a month that does not exist', '2026-13-01'],
    ['an hour that does not exist', '2026-02-01T25:00:00Z'],
    ['words', 'yesterday'],
  ])('refuses stats from= %s with 400 naming from', async (_label, from) => {
    expectRefusal(
      await api('GET', `/api/stats?from=${encodeURIComponent(from)}`),
      'from',
    );
  });

  it('refuses stats to= a day that does not exist with 400 naming to', async () => {
    expectRefusal(await api('GET', '/api/stats?to=2026-02-30'), 'to');
  });

  it('reads an ISO 8601 date or date-time exactly as written', async () => {
    const res = await api(
      'GET',
      '/api/stats?from=2026-02-28&to=2026-03-01T12:30:00%2B02:00',
    );
    expect(res.status).toBe(200);
    expect(res.body.data.from).toBe('2026-02-28T00:00:00.000Z');
    expect(res.body.data.to).toBe('2026-03-01T10:30:00.000Z');
  });
});

describe('request bodies', () => {
  it('refuses a __proto__ key with 400 saying so, not "not valid JSON"', async () => {
    const res = await raw(
      'POST',
      '/api/send-message',
      '{"phoneNumber":"16505551234","message":"hi","__proto__":{"admin":true}}',
    );
    expectRefusal(res, '__proto__');
    expect(res.body.message).not.toMatch(/not valid JSON/);
    expect(graph.requests).toHaveLength(0);
  });

  it('refuses a constructor.prototype key with 400 saying so', async () => {
    const res = await raw(
      'POST',
      '/api/generate-response',
      '{"message":"hi","constructor":{"prototype":{"admin":true}}}',
    );
    expectRefusal(res, 'constructor.prototype');
    expect(openai.requests).toHaveLength(0);
  });

  it('still answers a body that is not JSON with "not valid JSON"', async () => {
    const res = await raw('POST', '/api/send-message', '{"message":');
    expect(res.status).toBe(400);
    expect(res.body.message).toBe('Request body is not valid JSON');
  });

  it.each(['   ', '\n\t '])(
    'refuses a whitespace-only generate-response message %j without asking the LLM',
    async (message) => {
      expectRefusal(
        await api('POST', '/api/generate-response', { message }),
        'message',
      );
      expect(openai.requests).toHaveLength(0);
    },
  );
});

describe('phone numbers', () => {
  it.each([
    ['all zeros', '0000000'],
    ['all zeros with +', '+0000000'],
    ['a leading 00 instead of +', '0044 20 7946 0958'],
    ['a country code that does not exist', '+999 123 4567'],
    ['too short for its country', '+1 650 555'],
    ['too long for its country', '+44 20 7946 0958 123'],
  ])(
    'refuses %s (%s) in send-message with 400 naming phoneNumber',
    async (_label, phoneNumber) => {
      const res = await api('POST', '/api/send-message', {
        phoneNumber,
        message: 'hi',
      });
      expectRefusal(res, 'phoneNumber');
      expect(graph.requests).toHaveLength(0);
    },
  );

  it.each(['0000000', '0044%2020%207946%200958', '999123'])(
    'refuses %s as a path phone number with 400',
    async (phoneNumber) => {
      expectRefusal(
        await api('GET', `/api/session/${phoneNumber}`),
        'phoneNumber',
      );
    },
  );

  it('refuses 0000000 as the inbox customer filter with 400 naming customer', async () => {
    expectRefusal(
      await api('GET', '/api/conversations?customer=%2B0000000'),
      'customer',
    );
  });
});

describe('customers known by a BSUID only', () => {
  it('shows the session, finds the conversation, and hands it over by BSUID', async () => {
    const bsuid = newBsuid();
    await postWebhook(app.url, bsuidWebhook(bsuid, 'hi, no number here'));
    const session = await waitFor(async () => {
      const res = await api('GET', `/api/session/${bsuid}`);
      return res.status === 200 && res;
    });
    expect(session.body.data).toMatchObject({ phoneNumber: bsuid });

    const page = await api('GET', `/api/conversations?customer=${bsuid}`);
    expect(page.status).toBe(200);
    expect(page.body.data.items).toEqual([
      expect.objectContaining({ phoneNumber: bsuid }),
    ]);

    const paused = await api('POST', `/api/conversations/${bsuid}/handoff`, {
      reason: 'username customer',
    });
    expect(paused.status).toBe(200);
    expect(paused.body.data).toMatchObject({
      phoneNumber: bsuid,
      state: 'handoff',
      stateReason: 'username customer',
    });
    const resumed = await api('DELETE', `/api/conversations/${bsuid}/handoff`);
    expect(resumed.status).toBe(200);
    expect(resumed.body.data).toMatchObject({
      phoneNumber: bsuid,
      state: 'active',
    });
    // The bot answers the customer's message (before the handoff, or after
    // the resume): wait for that turn, so that it cannot take the scripted
    // LLM answer of a later test.
    const id = page.body.data.items[0].id as string;
    await waitFor(async () => {
      const history = await api('GET', `/api/conversations/${id}/messages`);
      return history.body.data.items.some(
        (m: Record<string, unknown>) => m.author === 'bot',
      );
    });
  });

  it('answers 404, not 400, for the session of an unknown BSUID', async () => {
    const res = await api('GET', `/api/session/${newBsuid()}`);
    expect(res.status).toBe(404);
  });

  it("takes a BSUID as the send-message phoneNumber and records the message in that customer's conversation", async () => {
    const bsuid = newBsuid();
    const res = await api('POST', '/api/send-message', {
      phoneNumber: bsuid,
      message: 'hello from support',
    });
    // Whether Meta takes a send by BSUID is the WhatsApp client's business;
    // the admin API takes the customer and records the message.
    expect(res.body.message).not.toMatch(/Validation failed/);
    const page = await api('GET', `/api/conversations?customer=${bsuid}`);
    expect(page.body.data.items).toHaveLength(1);
    const messages = await api(
      'GET',
      `/api/conversations/${page.body.data.items[0].id}/messages`,
    );
    expect(
      messages.body.data.items.map((m: Record<string, unknown>) => [
        m.author,
        m.text,
      ]),
    ).toEqual([['operator', 'hello from support']]);
  });

  it.each([
    ['no id after the country', 'US.'],
    ['a lower-case country', 'us.13491208655302741918'],
    ['a three-letter country', 'USA.13491208655302741918'],
    ['punctuation in the id', 'US.1349-1208'],
    ['a path', 'US.%2E%2E%2Fetc'],
  ])('refuses %s (%s) with 400', async (_label, id) => {
    expectRefusal(await api('GET', `/api/session/${id}`), 'phoneNumber');
  });
});

describe('POST /api/generate-response', () => {
  it("keeps the seed's metadata.tokens as the total and gives the detail as usage", async () => {
    openai.enqueue({
      type: 'reply',
      content: 'Blue it is.',
      usage: { prompt: 31, completion: 7 },
    });
    const res = await api('POST', '/api/generate-response', {
      message: 'Do you have it in blue?',
    });
    expect(res.status).toBe(200);
    expect(res.body.data.metadata).toEqual({
      model: 'test-model',
      tokens: 38,
      usage: { prompt: 31, completion: 7, total: 38 },
      timestamp: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
    });
  });
});

describe('hardening headers', () => {
  it.each(['/api/stats', '/api/conversations', '/api/session/16505550000'])(
    'marks %s no-store and nosniff, and forbids framing',
    async (path) => {
      const res = await api('GET', path);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('content-security-policy')).toContain(
        "frame-ancestors 'none'",
      );
    },
  );

  it('marks a refused admin request no-store too', async () => {
    const res = await fetch(`${app.url}/api/conversations`);
    expect(res.status).toBe(401);
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('serves Swagger UI under a content-security policy that allows every script and style it loads', async () => {
    const page = await fetch(`${app.url}/docs`, { redirect: 'follow' });
    expect(page.status).toBe(200);
    const html = await page.text();
    const policy = page.headers.get('content-security-policy') ?? '';
    expect(policy).toContain("default-src 'self'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');

    const directive = (name: string) =>
      policy
        .split(';')
        .map((d) => d.trim().split(/\s+/))
        .find(([n]) => n === name)
        ?.slice(1) ?? [];
    const inlineScripts = [
      ...html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g),
    ].filter(([, body]) => body.trim() !== '');
    if (inlineScripts.length > 0) {
      expect(directive('script-src')).toContain("'unsafe-inline'");
    }
    if (/<style[\s>]|style="/.test(html)) {
      expect(directive('style-src')).toContain("'unsafe-inline'");
    }
    const assets = [
      ...html.matchAll(/<(?:script|link)[^>]+(?:src|href)="([^"]+)"/g),
    ].map(([, url]) => new URL(url, page.url).toString());
    expect(assets.length).toBeGreaterThan(2);
    for (const asset of assets) {
      // Every asset is served by this app, so 'self' covers it.
      expect(asset.startsWith(app.url)).toBe(true);
      const res = await fetch(asset);
      expect(`${asset} ${res.status}`).toBe(`${asset} 200`);
      await res.arrayBuffer();
    }
  });
});

describe('errors raised before routing', () => {
  it('answers a header larger than Node accepts with 431 in the envelope', async () => {
    const answer = await new Promise<{ status: number; body: string }>(
      (resolve, reject) => {
        const url = new URL(`${app.url}/api/stats`);
        const req = httpRequest(
          {
            host: url.hostname,
            port: url.port,
            path: url.pathname,
            headers: { 'x-padding': 'a'.repeat(20_000) },
          },
          (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (body += chunk));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        req.end();
      },
    );
    expect(answer.status).toBe(431);
    expect(JSON.parse(answer.body)).toEqual({
      success: false,
      message: 'Request headers are too large',
      data: null,
    });
  });
});

describe('GET /docs-json', () => {
  interface Operation {
    security?: unknown[];
    responses: Record<string, unknown>;
  }
  let doc: {
    servers?: Array<{ url: string }>;
    info: { license?: { name: string } };
    security?: unknown[];
    paths: Record<string, Record<string, Operation>>;
  };
  beforeAll(async () => {
    doc = (await (await fetch(`${app.url}/docs-json`)).json()) as typeof doc;
  });
  const operations = () =>
    Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ path, method, op })),
    );

  it('names a server and a license', () => {
    expect(doc.servers?.length).toBeGreaterThan(0);
    expect(doc.info.license?.name).toBe('MIT');
  });

  it('gives every public operation an explicit empty security requirement', () => {
    const publicOps = operations().filter(
      ({ path }) => !path.startsWith('/api/') || path === '/api/health',
    );
    expect(publicOps.length).toBeGreaterThan(0);
    for (const { path, method, op } of publicOps) {
      expect({ path, method, security: op.security }).toEqual({
        path,
        method,
        security: [],
      });
    }
  });

  it('documents a 2xx and a 4xx answer for every operation', () => {
    for (const { path, method, op } of operations()) {
      const codes = Object.keys(op.responses);
      expect({
        path,
        method,
        ok: codes.some((c) => c.startsWith('2')),
      }).toEqual({ path, method, ok: true });
      expect({
        path,
        method,
        bad: codes.some((c) => c.startsWith('4')),
      }).toEqual({ path, method, bad: true });
    }
  });
});
