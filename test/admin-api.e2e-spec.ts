import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { TurnQueue } from '../src/turns/queue/turn.queue';
import { FakeGraphApi } from './fakes/fake-graph-api';
import { FakeOpenAi } from './fakes/fake-openai';
import { waitFor } from './fakes/wait-for';
import {
  ADMIN_KEY,
  fakeEnv,
  startTestApp,
  TestApp,
  VERIFY_TOKEN,
} from './support/test-app';
import {
  envelope,
  postWebhook,
  statusChange,
  textWebhook,
} from './support/webhooks';

// Complements admin.e2e-spec.ts: throttling, the key guard on every route,
// the OpenAPI document, and the edges of each admin endpoint.

const HANDOFF_TEXT = 'A colleague will take it from here.';
const FALLBACK_TEXT = 'Sorry, the assistant is away. Please try later.';
const MAX_LENGTH = 50;

let graph: FakeGraphApi;
let openai: FakeOpenAi;
let seq = 0;
const newCustomer = () =>
  `4479${String(Date.now()).slice(-5)}${String(++seq).padStart(2, '0')}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Envelope<T = any> {
  success: boolean;
  message: string;
  data: T;
  errors?: string[];
}

interface Reply<T = any> {
  status: number;
  body: Envelope<T>;
  headers: Headers;
}

async function request<T = any>(
  app: TestApp,
  method: string,
  path: string,
  body?: unknown,
  key: string | null = ADMIN_KEY,
): Promise<Reply<T>> {
  const headers: Record<string, string> = {};
  if (key !== null) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${app.url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return {
    status: res.status,
    body: (await res.json()) as Envelope<T>,
    headers: res.headers,
  };
}

// --- the OpenAPI document

interface Schema {
  $ref?: string;
  type?: string;
  example?: unknown;
  properties?: Record<string, Schema>;
  required?: string[];
  oneOf?: Schema[];
  items?: Schema;
}

interface Operation {
  security?: Array<Record<string, string[]>>;
  requestBody?: { content: Record<string, { schema: Schema }> };
}

interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  security?: Array<Record<string, string[]>>;
  components: {
    schemas: Record<string, Schema>;
    securitySchemes?: Record<string, { type: string; scheme?: string }>;
  };
}

interface AdminOperation {
  method: string;
  path: string;
  operation: Operation;
}

async function openApi(app: TestApp): Promise<OpenApiDocument> {
  const res = await fetch(`${app.url}/docs-json`);
  expect(res.status).toBe(200);
  return (await res.json()) as OpenApiDocument;
}

/** Every operation under /api/ except the public /api/health. */
function adminOperations(doc: OpenApiDocument): AdminOperation[] {
  return Object.entries(doc.paths)
    .filter(([path]) => path.startsWith('/api/') && path !== '/api/health')
    .flatMap(([path, operations]) =>
      Object.entries(operations).map(([method, operation]) => ({
        method: method.toUpperCase(),
        path,
        operation,
      })),
    );
}

const resolve = (doc: OpenApiDocument, schema: Schema): Schema | undefined =>
  schema.$ref
    ? doc.components.schemas[schema.$ref.replace('#/components/schemas/', '')]
    : schema;

const requestSchema = (doc: OpenApiDocument, op: Operation) => {
  const schema = op.requestBody?.content['application/json']?.schema;
  return schema ? resolve(doc, schema) : undefined;
};

const hasExample = (schema: Schema): boolean =>
  schema.example !== undefined || (schema.oneOf ?? []).some(hasExample);

/** A body built from the documented examples: what a client copying the docs would send. */
function exampleBody(
  doc: OpenApiDocument,
  op: Operation,
): Record<string, unknown> | undefined {
  const schema = requestSchema(doc, op);
  if (!schema) return undefined;
  return Object.fromEntries(
    Object.entries(schema.properties ?? {})
      .filter(([, property]) => property.example !== undefined)
      .map(([name, property]) => [name, property.example]),
  );
}

const KNOWN_ADMIN_ROUTES = [
  'POST /api/send-message',
  'POST /api/generate-response',
  'GET /api/session/{phoneNumber}',
  'GET /api/conversations',
  'GET /api/conversations/{id}',
  'GET /api/conversations/{id}/messages',
  'POST /api/conversations/{phoneNumber}/handoff',
  'DELETE /api/conversations/{phoneNumber}/handoff',
  'POST /api/conversations/{phoneNumber}/reply',
  'GET /api/stats',
  'GET /api/media/{mediaId}',
  'POST /api/knowledge',
  'GET /api/knowledge',
  'GET /api/knowledge/{id}',
  'DELETE /api/knowledge/{id}',
  'POST /api/knowledge/search',
];

/** Everything a request could have changed, as one comparable value. */
async function databaseFingerprint(app: TestApp) {
  const result = await app.db.db.execute(sql`
    select
      (select count(*)::int from conversations) as conversations,
      (select count(*)::int from messages) as messages,
      (select count(*)::int from conversation_events) as events,
      (select coalesce(string_agg(id::text || ':' || state || ':' || coalesce(handoff_until::text, '') || ':' || last_activity_at::text, ',' order by id), '') from conversations) as states,
      (select coalesce(string_agg(id::text || ':' || status || ':' || coalesce(answered_at::text, ''), ',' order by id), '') from messages) as statuses`);
  return (result as unknown as { rows: unknown[] }).rows[0];
}

beforeAll(async () => {
  graph = await FakeGraphApi.start();
  openai = await FakeOpenAi.start();
});
afterAll(async () => {
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

describe('with the default admin settings', () => {
  let app: TestApp;
  const api = <T = any>(
    method: string,
    path: string,
    body?: unknown,
    key: string | null = ADMIN_KEY,
  ) => request<T>(app, method, path, body, key);
  const sentTo = (waId: string) =>
    graph.sentMessages().filter((m) => m.to === `+${waId}`);
  const llmRequestsAbout = (text: string) =>
    openai.requests.filter((r) =>
      r.messages.some((m) => String(m.content).includes(text)),
    );
  const conversationOf = async (waId: string) => {
    const page = await api(
      'GET',
      `/api/conversations?customer=${waId}&limit=100`,
    );
    expect(page.status).toBe(200);
    expect(page.body.data.items).toHaveLength(1);
    return page.body.data.items[0] as { id: string; state: string };
  };
  const messagesOf = async (conversationId: string) => {
    const page = await api(
      'GET',
      `/api/conversations/${conversationId}/messages`,
    );
    expect(page.status).toBe(200);
    return page.body.data.items as Array<Record<string, any>>;
  };
  /** No turn waits or runs: whatever was scheduled is over. */
  const turnsIdle = async () => {
    const counts = await app.app.get(TurnQueue, { strict: false }).counts();
    return counts.waiting + counts.delayed + counts.active === 0;
  };
  /** A customer who wrote once and got the bot's answer. */
  const chattingCustomer = async (text = 'hello') => {
    const customer = newCustomer();
    await postWebhook(app.url, textWebhook(customer, text));
    await waitFor(() => sentTo(customer).length === 1);
    return customer;
  };

  beforeAll(async () => {
    app = await startTestApp({
      ...fakeEnv(graph, openai),
      MAX_MESSAGE_LENGTH: String(MAX_LENGTH),
      HANDOFF_KEYWORDS: 'human,agent',
      HANDOFF_MESSAGE: HANDOFF_TEXT,
      FALLBACK_MESSAGE: FALLBACK_TEXT,
    });
  });
  afterAll(async () => {
    await app.close();
  });

  describe('authentication', () => {
    it.each([
      ['without a key', null],
      ['with a wrong key', 'wrong-key-wrong-key-wrong'],
    ])(
      'refuses every documented admin route %s with 401 before any handler runs',
      async (_name, key) => {
        const customer = await chattingCustomer('hello there');
        const { id } = await conversationOf(customer);
        const doc = await openApi(app);
        const operations = adminOperations(doc);
        expect(operations.map((o) => `${o.method} ${o.path}`)).toEqual(
          expect.arrayContaining(KNOWN_ADMIN_ROUTES),
        );
        // The bot's reply is recorded as sent before the snapshot.
        await waitFor(async () =>
          (await messagesOf(id)).some(
            (m) => m.direction === 'outbound' && m.status === 'sent',
          ),
        );
        graph.reset();
        openai.reset();
        const before = await databaseFingerprint(app);

        for (const { method, path, operation } of operations) {
          // Requests a handler would act on: a real customer, a real
          // conversation, the documented example bodies.
          const url = path
            .replace('{phoneNumber}', customer)
            .replace('{id}', id);
          const example = exampleBody(doc, operation);
          const body =
            path === '/api/generate-response'
              ? { ...example, conversationId: id }
              : example;
          const res = await api(method, url, body, key);
          expect({ route: `${method} ${path}`, status: res.status }).toEqual({
            route: `${method} ${path}`,
            status: 401,
          });
          expect(res.body).toMatchObject({ success: false, data: null });
        }

        await sleep(300); // anything a handler had scheduled would run now
        expect(graph.requests).toEqual([]);
        expect(openai.requests).toEqual([]);
        expect(await databaseFingerprint(app)).toEqual(before);
      },
    );
  });

  describe('GET /docs-json', () => {
    it('requires the bearer scheme on every admin route', async () => {
      const doc = await openApi(app);
      const operations = adminOperations(doc);
      expect(operations.length).toBeGreaterThanOrEqual(
        KNOWN_ADMIN_ROUTES.length,
      );
      for (const { method, path, operation } of operations) {
        const requirements = operation.security ?? doc.security ?? [];
        const schemes = requirements.flatMap((r) => Object.keys(r));
        expect({ route: `${method} ${path}`, schemes }).toEqual({
          route: `${method} ${path}`,
          schemes: [expect.any(String)],
        });
        expect(doc.components.securitySchemes?.[schemes[0]]).toMatchObject({
          type: 'http',
          scheme: 'bearer',
        });
      }
    });

    it('documents /api/health without a security requirement', async () => {
      const doc = await openApi(app);
      const health = doc.paths['/api/health']?.get;
      expect(health).toBeDefined();
      expect(health?.security ?? doc.security ?? []).toEqual([]);
    });

    it('gives every admin request body an example for each required property', async () => {
      const doc = await openApi(app);
      const withBodies = adminOperations(doc).filter(
        (o) => o.operation.requestBody,
      );
      expect(withBodies.map((o) => `${o.method} ${o.path}`)).toEqual(
        expect.arrayContaining([
          'POST /api/send-message',
          'POST /api/generate-response',
        ]),
      );
      for (const { method, path, operation } of withBodies) {
        const schema = requestSchema(doc, operation);
        const properties = Object.entries(schema?.properties ?? {});
        const withExample = properties
          .filter(([, p]) => hasExample(p))
          .map(([name]) => name);
        expect({ route: `${method} ${path}`, withExample }).toEqual({
          route: `${method} ${path}`,
          withExample: expect.arrayContaining(schema?.required ?? []),
        });
        expect(withExample.length).toBeGreaterThan(0);
      }
    });

    it('resolves every schema reference it contains', async () => {
      const doc = await openApi(app);
      const refs = [
        ...JSON.stringify(doc).matchAll(/"#\/components\/schemas\/([^"]+)"/g),
      ].map((m) => m[1]);
      expect(refs.length).toBeGreaterThan(0);
      const missing = [...new Set(refs)].filter(
        (name) => !doc.components.schemas[name],
      );
      expect(missing).toEqual([]);
    });
  });

  describe('POST /api/send-message', () => {
    it('sends a message longer than MAX_MESSAGE_LENGTH as ordered parts, one message id per part', async () => {
      const customer = newCustomer();
      const message =
        'Your order 1234 has shipped today. It should arrive on Friday between nine and five. Reply here if anything is missing.';
      const res = await api('POST', '/api/send-message', {
        phoneNumber: customer,
        message,
      });
      expect(res.status).toBe(200);
      const parts = sentTo(customer);
      expect(parts.length).toBeGreaterThanOrEqual(3);
      for (const part of parts) {
        expect(part.body.length).toBeLessThanOrEqual(MAX_LENGTH);
      }
      expect(parts.map((p) => p.body).join(' ')).toBe(message);
      expect(res.body.data.messages).toEqual(
        parts.map((p) => ({ id: p.wamid })),
      );
    });

    it.each([
      ['spaces', '   '],
      ['a newline and a tab', '\n\t'],
    ])(
      'answers 400 to a message of only %s, and sends and opens nothing',
      async (_name, message) => {
        const customer = newCustomer();
        const res = await api('POST', '/api/send-message', {
          phoneNumber: customer,
          message,
        });
        expect(res.status).toBe(400);
        expect(res.body.success).toBe(false);
        expect(graph.requests).toEqual([]);
        const page = await api(
          'GET',
          `/api/conversations?customer=${customer}`,
        );
        expect(page.body.data.items).toEqual([]);
      },
    );

    it('treats differently formatted numbers as the same customer', async () => {
      const first = await api('POST', '/api/send-message', {
        phoneNumber: '+1 (650) 555-0000',
        message: 'First note',
      });
      const second = await api('POST', '/api/send-message', {
        phoneNumber: '1-650-555-0000',
        message: 'Second note',
      });
      expect([first.status, second.status]).toEqual([200, 200]);
      expect(first.body.data.contacts[0].wa_id).toBe('16505550000');
      expect(second.body.data.contacts[0].wa_id).toBe('16505550000');
      expect(sentTo('16505550000').map((m) => m.body)).toEqual([
        'First note',
        'Second note',
      ]);

      const session = await api('GET', '/api/session/+1%20650%20555%200000');
      expect(session.status).toBe(200);
      expect(session.body.data.phoneNumber).toBe('16505550000');
      expect(
        session.body.data.context.previousMessages.map(
          (m: { text: string }) => m.text,
        ),
      ).toEqual(['First note', 'Second note']);
      const conversation = await conversationOf('16505550000');
      expect(conversation.id).toBe(session.body.data.conversationId);
    });
  });

  describe('phone numbers in paths', () => {
    it.each([
      ['letters', 'abc'],
      ['too few digits', '123'],
      ['a percent sign', '%25'],
      ['a plus after the first digit', '1%2B6505551234'],
    ])('answers 400 in the envelope to %s', async (_name, phoneNumber) => {
      const res = await api('GET', `/api/session/${phoneNumber}`);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ success: false, data: null });
      expect(res.body.message).toContain('phoneNumber');
    });
  });

  describe('POST /api/generate-response', () => {
    it("sends the given conversation's messages to the LLM, and stores and sends nothing", async () => {
      const customer = await chattingCustomer('my order is 42');
      const { id } = await conversationOf(customer);
      graph.reset();
      openai.reset();

      const res = await api('POST', '/api/generate-response', {
        message: 'where is it?',
        conversationId: id,
      });
      expect(res.status).toBe(200);
      expect(res.body.data).toMatchObject({
        reply: 'Echo: where is it?',
        conversationId: id,
      });
      expect(openai.requests).toHaveLength(1);
      const prompt = openai.requests[0].messages.map(
        (m) => `${m.role}:${String(m.content)}`,
      );
      expect(prompt.slice(1)).toEqual([
        'user:my order is 42',
        'assistant:Echo: my order is 42',
        'user:where is it?',
      ]);
      expect(graph.requests).toEqual([]);
      expect((await messagesOf(id)).map((m) => m.text)).toEqual([
        'my order is 42',
        'Echo: my order is 42',
      ]);
    });

    it('puts a string context into the system message', async () => {
      const note = 'The customer is a wholesale buyer from Lyon.';
      const res = await api('POST', '/api/generate-response', {
        message: 'price for 500 units?',
        context: note,
      });
      expect(res.status).toBe(200);
      const [system, ...rest] = openai.requests[0].messages;
      expect(system.role).toBe('system');
      expect(String(system.content)).toContain(note);
      expect(rest.map((m) => `${m.role}:${String(m.content)}`)).toEqual([
        'user:price for 500 units?',
      ]);
    });

    it('answers 404 for a conversationId that does not exist, without asking the LLM', async () => {
      const res = await api('POST', '/api/generate-response', {
        message: 'hello',
        conversationId: randomUUID(),
      });
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ success: false, data: null });
      expect(openai.requests).toEqual([]);
    });

    it.each([
      ['a number', 42],
      ['an object', { note: 'x' }],
      ['an array of strings', ['earlier text']],
      ['a message with an unknown role', [{ role: 'system', content: 'x' }]],
      ['a message without content', [{ role: 'user' }]],
      [
        'a message with an extra field',
        [{ role: 'user', content: 'x', name: 'Bob' }],
      ],
    ])(
      'rejects context as %s with 400 naming context, without asking the LLM',
      async (_name, context) => {
        const res = await api('POST', '/api/generate-response', {
          message: 'hello',
          context,
        });
        expect(res.status).toBe(400);
        expect(res.body.success).toBe(false);
        expect(res.body.message).toContain('context');
        expect(openai.requests).toEqual([]);
      },
    );
  });

  describe('handoff', () => {
    it('hands over on a keyword without asking the LLM, and tells the customer', async () => {
      const customer = newCustomer();
      await postWebhook(app.url, textWebhook(customer, 'I want a HUMAN now'));
      await waitFor(() => sentTo(customer).length === 1);
      expect(sentTo(customer).map((m) => m.body)).toEqual([HANDOFF_TEXT]);
      expect(openai.requests).toEqual([]);

      const session = await api('GET', `/api/session/${customer}`);
      expect(session.body.data.state).toBe('handoff');
      const detail = await api(
        'GET',
        `/api/conversations/${session.body.data.conversationId}`,
      );
      expect(detail.body.data.events).toEqual([
        expect.objectContaining({
          type: 'handoff',
          actor: 'customer',
          reason: expect.stringContaining('human'),
        }),
      ]);
    });

    it('does not hand over when a keyword is only part of a word', async () => {
      const customer = await chattingCustomer('I need an agenda');
      expect(sentTo(customer).map((m) => m.body)).toEqual([
        'Echo: I need an agenda',
      ]);
      expect((await conversationOf(customer)).state).toBe('active');
    });

    it('gives the conversation back to the bot once autoResumeMinutes have passed, and answers what the customer wrote meanwhile', async () => {
      const customer = await chattingCustomer();
      const before = Date.now();
      const res = await api('POST', `/api/conversations/${customer}/handoff`, {
        reason: 'Refund request',
        autoResumeMinutes: 30,
      });
      const after = Date.now();
      expect(res.status).toBe(200);
      expect(res.body.data).toMatchObject({
        phoneNumber: customer,
        state: 'handoff',
        stateReason: 'Refund request',
      });
      const until = Date.parse(res.body.data.handoffUntil);
      expect(until).toBeGreaterThanOrEqual(before + 30 * 60_000);
      expect(until).toBeLessThanOrEqual(after + 30 * 60_000);

      // Stored (answered 200) while paused, and not answered.
      const webhook = await postWebhook(
        app.url,
        textWebhook(customer, 'anyone about my refund?'),
      );
      expect(webhook.status).toBe(200);
      const { id } = await conversationOf(customer);
      // The half hour passes: the handoff's end is now.
      await app.db.db.execute(
        sql`update conversations set handoff_until = now() where id = ${id}`,
      );

      await waitFor(() => sentTo(customer).length === 2, {
        timeoutMs: 15_000,
        message: 'the bot did not take the conversation back',
      });
      expect(sentTo(customer).map((m) => m.body)).toEqual([
        'Echo: hello',
        'Echo: anyone about my refund?',
      ]);
      expect(llmRequestsAbout('anyone about my refund?')).toHaveLength(1);
      const detail = await api('GET', `/api/conversations/${id}`);
      expect(detail.body.data).toMatchObject({
        state: 'active',
        handoffUntil: null,
      });
      expect(
        detail.body.data.events.map((e: Record<string, unknown>) => [
          e.type,
          e.actor,
          e.reason,
        ]),
      ).toEqual([
        ['handoff', 'operator', 'Refund request'],
        ['resume', 'system', 'handoff time ended'],
      ]);
    });

    it.each([
      ['a non-integer', 1.5],
      ['zero', 0],
      ['more than 30 days', 43201],
      ['a string', '60'],
    ])(
      'rejects autoResumeMinutes as %s with 400 and pauses nothing',
      async (_name, autoResumeMinutes) => {
        const customer = await chattingCustomer();
        const res = await api(
          'POST',
          `/api/conversations/${customer}/handoff`,
          { autoResumeMinutes },
        );
        expect(res.status).toBe(400);
        expect(res.body.message).toContain('autoResumeMinutes');
        expect((await conversationOf(customer)).state).toBe('active');
      },
    );

    it('answers 409 to ending a handoff that is not on, and changes nothing', async () => {
      const customer = await chattingCustomer();
      const res = await api('DELETE', `/api/conversations/${customer}/handoff`);
      expect(res.status).toBe(409);
      expect(res.body.success).toBe(false);
      const { id, state } = await conversationOf(customer);
      expect(state).toBe('active');
      const detail = await api('GET', `/api/conversations/${id}`);
      expect(detail.body.data.events).toEqual([]);

      const stranger = newCustomer();
      const none = await api(
        'DELETE',
        `/api/conversations/${stranger}/handoff`,
      );
      expect(none.status).toBe(409);
    });

    it('answers 404 to an operator reply for a customer without an open conversation, and sends nothing', async () => {
      const customer = newCustomer();
      const res = await api('POST', `/api/conversations/${customer}/reply`, {
        message: 'Hello from Ana',
      });
      expect(res.status).toBe(404);
      expect(res.body.success).toBe(false);
      expect(graph.requests).toEqual([]);
      const page = await api('GET', `/api/conversations?customer=${customer}`);
      expect(page.body.data.items).toEqual([]);
    });

    it('stores a message received during handoff unanswered, and the bot answers it after the handoff ends', async () => {
      const customer = newCustomer();
      const paused = await api(
        'POST',
        `/api/conversations/${customer}/handoff`,
        {},
      );
      expect(paused.status).toBe(200);
      const id = paused.body.data.id as string;

      await postWebhook(app.url, textWebhook(customer, 'is my refund done?'));
      await waitFor(async () => (await messagesOf(id)).length === 1);
      // The turn the message scheduled has run (and found the bot paused).
      await waitFor(turnsIdle);
      expect(sentTo(customer)).toEqual([]);
      expect(llmRequestsAbout('is my refund done?')).toEqual([]);
      expect(await messagesOf(id)).toEqual([
        expect.objectContaining({
          direction: 'inbound',
          author: 'customer',
          text: 'is my refund done?',
          status: 'received',
        }),
      ]);
      const waiting = await api('GET', `/api/conversations/${id}`);
      expect(waiting.body.data.unansweredCount).toBe(1);

      const resumed = await api(
        'DELETE',
        `/api/conversations/${customer}/handoff`,
      );
      expect(resumed.status).toBe(200);
      await waitFor(() => sentTo(customer).length === 1);
      expect(sentTo(customer)[0].body).toBe('Echo: is my refund done?');
      await waitFor(async () => {
        const detail = await api('GET', `/api/conversations/${id}`);
        return detail.body.data.unansweredCount === 0;
      });
    });
  });

  describe('inbox', () => {
    it('filters conversations by state', async () => {
      const active = await chattingCustomer();
      const paused = newCustomer();
      await api('POST', `/api/conversations/${paused}/handoff`, {});

      const handoffs = await api(
        'GET',
        '/api/conversations?state=handoff&limit=100',
      );
      expect(handoffs.status).toBe(200);
      const items = handoffs.body.data.items as Array<{
        phoneNumber: string;
        state: string;
      }>;
      expect(items.map((c) => c.phoneNumber)).toContain(paused);
      expect(items.map((c) => c.phoneNumber)).not.toContain(active);
      expect(new Set(items.map((c) => c.state))).toEqual(new Set(['handoff']));

      const actives = await api(
        'GET',
        '/api/conversations?state=active&limit=100',
      );
      const activeNumbers = actives.body.data.items.map(
        (c: { phoneNumber: string }) => c.phoneNumber,
      );
      expect(activeNumbers).toContain(active);
      expect(activeNumbers).not.toContain(paused);
    });

    it('finds a customer by part of the profile name, ignoring case', async () => {
      const customer = newCustomer();
      await postWebhook(
        app.url,
        textWebhook(customer, 'hi', { name: 'Zebulon Quartermaine' }),
      );
      await waitFor(() => sentTo(customer).length === 1);

      const found = await api('GET', '/api/conversations?customer=quarterm');
      expect(found.status).toBe(200);
      expect(found.body.data.items).toEqual([
        expect.objectContaining({
          phoneNumber: customer,
          customerName: 'Zebulon Quartermaine',
        }),
      ]);
      const none = await api('GET', '/api/conversations?customer=Quartz');
      expect(none.body.data.items).toEqual([]);
    });

    it.each([
      ['/api/conversations?cursor=not-a-cursor'],
      [
        `/api/conversations?cursor=${Buffer.from('{"t":"x","id":1}').toString('base64url')}`,
      ],
      ['/api/conversations/{id}/messages?cursor=not-a-cursor'],
      [
        `/api/conversations/{id}/messages?cursor=${Buffer.from('{"id":"1"}').toString('base64url')}`,
      ],
    ])('rejects the invalid cursor of %s with 400', async (path) => {
      const customer = await chattingCustomer();
      const { id } = await conversationOf(customer);
      const res = await api('GET', path.replace('{id}', id));
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ success: false, data: null });
      expect(res.body.message).toContain('cursor');
    });

    it.each([['0'], ['1000'], ['-1'], ['ten']])(
      'rejects limit=%s with 400 naming limit',
      async (limit) => {
        const res = await api('GET', `/api/conversations?limit=${limit}`);
        expect(res.status).toBe(400);
        expect(res.body.success).toBe(false);
        expect(res.body.message).toContain('limit');
      },
    );

    it("shows a send WhatsApp refused as failed, with Meta's error code", async () => {
      const customer = newCustomer();
      graph.failSendsTo(customer, { status: 400, code: 131047 });
      const res = await api('POST', '/api/send-message', {
        phoneNumber: customer,
        message: 'Are you still there?',
      });
      expect(res.status).toBe(502);
      const { id } = await conversationOf(customer);
      expect(await messagesOf(id)).toEqual([
        expect.objectContaining({
          direction: 'outbound',
          author: 'operator',
          text: 'Are you still there?',
          status: 'failed',
          wamid: null,
          error: expect.objectContaining({ code: 131047 }),
        }),
      ]);
    });
  });

  describe('GET /api/stats', () => {
    it.each([
      ['from after to', 'from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z'],
      ['from equal to to', 'from=2026-01-01T00:00:00Z&to=2026-01-01T00:00:00Z'],
      ['from not a date', 'from=not-a-date'],
      ['to not a date', 'to=not-a-date'],
    ])('rejects %s with 400', async (_name, query) => {
      const res = await api('GET', `/api/stats?${query}`);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ success: false, data: null });
    });

    it('reports zeros for a past period without traffic', async () => {
      const res = await api(
        'GET',
        '/api/stats?from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z',
      );
      expect(res.status).toBe(200);
      expect(res.body.data).toMatchObject({
        from: '2020-01-01T00:00:00.000Z',
        to: '2020-01-02T00:00:00.000Z',
        inboundMessages: 0,
        outboundMessages: 0,
        conversationsOpened: 0,
        handoffs: 0,
        fallbackReplies: 0,
        llmTokens: { prompt: 0, completion: 0, total: 0 },
        replyLatencyMs: { median: null, p95: null, samples: 0 },
        sendFailures: [],
      });
    });

    it('counts the handoff, the fallback reply and the refused send of a period', async () => {
      await waitFor(turnsIdle); // earlier tests' turns are over
      const from = new Date();

      const unlucky = newCustomer();
      openai.enqueue({ type: 'error', status: 500 });
      await postWebhook(app.url, textWebhook(unlucky, 'anyone there?'));
      await waitFor(() => sentTo(unlucky).length === 1);
      expect(sentTo(unlucky)[0].body).toBe(FALLBACK_TEXT);

      const paused = newCustomer();
      const handoff = await api(
        'POST',
        `/api/conversations/${paused}/handoff`,
        {},
      );
      expect(handoff.status).toBe(200);

      const unreachable = newCustomer();
      graph.failSendsTo(unreachable, { status: 400, code: 131047 });
      const refused = await api('POST', '/api/send-message', {
        phoneNumber: unreachable,
        message: 'Your order shipped',
      });
      expect(refused.status).toBe(502);

      const to = new Date(Date.now() + 1000);
      const res = await api(
        'GET',
        `/api/stats?from=${from.toISOString()}&to=${to.toISOString()}`,
      );
      expect(res.status).toBe(200);
      expect(res.body.data).toMatchObject({
        from: from.toISOString(),
        to: to.toISOString(),
        inboundMessages: 1,
        outboundMessages: 2,
        conversationsOpened: 3,
        handoffs: 1,
        fallbackReplies: 1,
        llmTokens: { prompt: 0, completion: 0, total: 0 },
        replyLatencyMs: { samples: 1 },
        sendFailures: [{ code: '131047', count: 1 }],
      });
    });
  });
});

describe('with ADMIN_THROTTLE_LIMIT=3', () => {
  // One budget per client for the whole admin API: each test gets an app of
  // its own, so that one test's requests do not spend another's.
  let app: TestApp;

  beforeEach(async () => {
    app = await startTestApp({
      ...fakeEnv(graph, openai),
      ADMIN_THROTTLE_LIMIT: '3',
      ADMIN_THROTTLE_TTL_SECONDS: '60',
    });
  });
  afterEach(async () => {
    await app.close();
  });

  it('shares one budget across every admin route', async () => {
    const statuses: number[] = [];
    for (const path of [
      '/api/stats',
      '/api/conversations',
      '/api/session/16505550000',
      '/api/stats',
    ]) {
      statuses.push((await request(app, 'GET', path)).status);
    }
    expect(statuses).toEqual([200, 200, 404, 429]);
  });

  it('answers the 4th request within the window with 429 in the envelope and a Retry-After header', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      statuses.push((await request(app, 'GET', '/api/stats')).status);
    }
    expect(statuses).toEqual([200, 200, 200]);

    const limited = await request(app, 'GET', '/api/stats');
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited.body).toEqual({
      success: false,
      message: `Too many requests: try again in ${retryAfter} s`,
      data: null,
    });
  });

  it('throttles requests with a wrong key too, so keys cannot be guessed quickly', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await request(
        app,
        'GET',
        '/api/conversations',
        undefined,
        `guess-${i}-guess-guess-guess`,
      );
      statuses.push(res.status);
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
  });

  it('does not throttle /api/health or /webhook', async () => {
    for (let i = 0; i < 6; i++) {
      const health = await request(app, 'GET', '/api/health', undefined, null);
      expect(health.status).toBe(200);

      const verify = await fetch(
        `${app.url}/webhook?hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=${1000 + i}`,
      );
      expect(verify.status).toBe(200);
      expect(await verify.text()).toBe(String(1000 + i));

      const status = await postWebhook(
        app.url,
        envelope(
          statusChange([
            {
              id: `wamid.unknown-${i}`,
              status: 'delivered',
              timestamp: String(Math.floor(Date.now() / 1000)),
              recipient_id: '16505551234',
            },
          ]),
        ),
      );
      expect(status.status).toBe(200);
    }
  });
});

describe('with ADMIN_API_KEY unset', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ ...fakeEnv(graph, openai), ADMIN_API_KEY: '' });
  });
  afterAll(async () => {
    await app.close();
  });

  it.each([
    ['the key other instances use', ADMIN_KEY],
    ['the word undefined', 'undefined'],
  ])(
    'refuses every admin route with 401 even given a bearer of %s',
    async (_name, key) => {
      const doc = await openApi(app);
      const operations = adminOperations(doc);
      expect(operations.length).toBeGreaterThanOrEqual(
        KNOWN_ADMIN_ROUTES.length,
      );
      for (const { method, path, operation } of operations) {
        const url = path
          .replace('{phoneNumber}', '16505551234')
          .replace('{id}', randomUUID());
        const res = await request(
          app,
          method,
          url,
          exampleBody(doc, operation),
          key,
        );
        expect({ route: `${method} ${path}`, status: res.status }).toEqual({
          route: `${method} ${path}`,
          status: 401,
        });
        expect(res.body.success).toBe(false);
      }
      expect(graph.requests).toEqual([]);
      expect(openai.requests).toEqual([]);
      const health = await request(app, 'GET', '/api/health', undefined, null);
      expect(health.status).toBe(200);
    },
  );
});

describe('without OPENAI_API_KEY', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({
      ...fakeEnv(graph, openai),
      OPENAI_API_KEY: '',
    });
  });
  afterAll(async () => {
    await app.close();
  });

  it('answers generate-response with 503 and makes no LLM request', async () => {
    const res = await request(app, 'POST', '/api/generate-response', {
      message: 'hello',
    });
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ success: false, data: null });
    expect(res.body.message).toContain('OPENAI_API_KEY');
    expect(openai.requests).toEqual([]);
  });
});
