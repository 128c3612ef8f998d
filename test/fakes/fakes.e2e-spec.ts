import axios from 'axios';
import OpenAI from 'openai';
import { FakeGraphApi } from './fake-graph-api';
import { FakeOpenAi } from './fake-openai';
import { waitFor } from './wait-for';

const VERSION = 'v25.0';
const PHONE_ID = '106540352242922';
const TOKEN = 'test-access-token';
const INBOUND_WAMID =
  'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=';

describe('FakeOpenAi with the real openai SDK', () => {
  let fake: FakeOpenAi;
  let client: OpenAI;

  beforeEach(async () => {
    fake = await FakeOpenAi.start();
    client = new OpenAI({
      apiKey: 'test-openai-key',
      baseURL: fake.baseUrl,
      maxRetries: 0,
    });
  });

  afterEach(async () => {
    await fake.close();
  });

  it('answers a chat completion with content and usage, echoing the last user message by default', async () => {
    const completion = await client.chat.completions.create({
      model: 'gpt-4.1-mini',
      messages: [
        { role: 'system', content: 'You are helpful.' },
        { role: 'user', content: 'Hello there' },
      ],
    });

    expect(completion.object).toBe('chat.completion');
    expect(completion.model).toBe('gpt-4.1-mini');
    expect(completion.choices[0]?.message).toMatchObject({
      role: 'assistant',
      content: 'Echo: Hello there',
      refusal: null,
    });
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(completion.usage?.total_tokens).toBe(
      (completion.usage?.prompt_tokens ?? 0) +
        (completion.usage?.completion_tokens ?? 0),
    );
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]?.model).toBe('gpt-4.1-mini');
    expect(fake.requests[0]?.messages.map((m) => m.role)).toEqual([
      'system',
      'user',
    ]);
    expect(fake.requests[0]?.headers.authorization).toBe(
      'Bearer test-openai-key',
    );
    expect(fake.violations).toEqual([]);
  });

  it('replies with enqueued content first, then the default, with the usage given', async () => {
    fake.enqueue({
      type: 'reply',
      content: (req) => `model was ${req.model}`,
      usage: { prompt: 11, completion: 7 },
    });
    fake.setDefault({ type: 'reply', content: 'default answer' });
    const ask = () =>
      client.chat.completions.create({
        model: 'm1',
        messages: [{ role: 'user', content: 'hi' }],
      });

    const first = await ask();
    const second = await ask();

    expect(first.choices[0]?.message.content).toBe('model was m1');
    expect(first.usage).toMatchObject({
      prompt_tokens: 11,
      completion_tokens: 7,
      total_tokens: 18,
    });
    expect(second.choices[0]?.message.content).toBe('default answer');
  });

  it('surfaces an enqueued 500 as OpenAI.APIError with status 500', async () => {
    fake.enqueue({ type: 'error', status: 500 });

    const error = await client.chat.completions
      .create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] })
      .then(
        () => undefined,
        (e: unknown) => e,
      );

    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(500);
    expect((error as InstanceType<typeof OpenAI.APIError>).code).toBe(
      'server_error',
    );
  });

  it('answers 401 invalid_api_key for a wrong key', async () => {
    const wrong = new OpenAI({
      apiKey: 'sk-wrong-key-123456',
      baseURL: fake.baseUrl,
      maxRetries: 0,
    });

    const error = await wrong.chat.completions
      .create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] })
      .then(
        () => undefined,
        (e: unknown) => e,
      );

    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(401);
    expect((error as InstanceType<typeof OpenAI.APIError>).code).toBe(
      'invalid_api_key',
    );
    expect(fake.requests).toHaveLength(0);
  });

  it('lets the SDK retry a 429 by itself (retry-after-ms keeps it fast)', async () => {
    const retrying = new OpenAI({
      apiKey: 'test-openai-key',
      baseURL: fake.baseUrl,
      maxRetries: 2,
    });
    fake.enqueue({
      type: 'error',
      status: 429,
      headers: { 'retry-after-ms': '5' },
    });

    const completion = await retrying.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'again' }],
    });

    expect(completion.choices[0]?.message.content).toBe('Echo: again');
    expect(fake.requests).toHaveLength(2);
    expect(fake.requests[1]?.headers['x-stainless-retry-count']).toBe('1');
  });

  // Under Jest the SDK reports its own timeout as a plain APIConnectionError
  // ("Connection error."): Node's fetch rejects with a host-realm DOMException,
  // which fails `instanceof Error` inside Jest's VM context, so the SDK's
  // castToError turns it into Error('{}') and loses the AbortError name.
  // Outside Jest the same call gives APIConnectionTimeoutError. Code under test
  // should therefore treat every APIConnectionError alike.
  it('fails a request whose delay outlasts the SDK timeout, at the timeout, and still closes promptly', async () => {
    fake.enqueue({ type: 'delay', ms: 5_000 });
    const impatient = new OpenAI({
      apiKey: 'test-openai-key',
      baseURL: fake.baseUrl,
      maxRetries: 0,
      timeout: 200,
    });

    const started = Date.now();
    const error = await impatient.chat.completions
      .create({ model: 'm', messages: [{ role: 'user', content: 'slow' }] })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    const elapsed = Date.now() - started;

    expect(error).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(2_000);
    const closing = Date.now();
    await fake.close();
    expect(Date.now() - closing).toBeLessThan(1_000);
  });

  it('gives APIConnectionTimeoutError on a delay past the timeout when fetch errors are realm-safe', async () => {
    fake.enqueue({ type: 'delay', ms: 5_000 });
    const realmSafeFetch = async (
      input: string | URL | Request,
      init?: RequestInit,
    ): Promise<Response> => {
      try {
        return await fetch(input, init);
      } catch (e) {
        const name = (e as { name?: unknown } | null)?.name;
        if (name !== 'AbortError') throw e;
        const abort = new Error('The operation was aborted.');
        abort.name = 'AbortError';
        throw abort;
      }
    };
    const impatient = new OpenAI({
      apiKey: 'test-openai-key',
      baseURL: fake.baseUrl,
      maxRetries: 0,
      timeout: 200,
      fetch: realmSafeFetch,
    });

    await expect(
      impatient.chat.completions.create({
        model: 'm',
        messages: [{ role: 'user', content: 'slow' }],
      }),
    ).rejects.toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
  });

  it('closes promptly while a delayed request is still pending', async () => {
    fake.enqueue({ type: 'delay', ms: 60_000 });
    const pending = client.chat.completions
      .create({ model: 'm', messages: [{ role: 'user', content: 'x' }] })
      .then(
        () => 'answered',
        () => 'failed',
      );
    await waitFor(() => fake.requests.length === 1);

    await fake.close();

    await expect(pending).resolves.toBe('failed');
  });

  it('answers a late reply after a delay shorter than the timeout', async () => {
    fake.enqueue({
      type: 'delay',
      ms: 50,
      // oxlint-disable-next-line unicorn/no-thenable -- `then` is FakeOpenAi's field name, not a promise
      then: { type: 'reply', content: 'late' },
    });

    const completion = await client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
    });

    expect(completion.choices[0]?.message.content).toBe('late');
  });

  it('answers empty content and tool calls the way the API does', async () => {
    fake.enqueue(
      { type: 'empty' },
      { type: 'tool-call', name: 'lookup', arguments: '{"q":"x"}' },
    );
    const ask = () =>
      client.chat.completions.create({
        model: 'm',
        messages: [{ role: 'user', content: 'x' }],
      });

    const empty = await ask();
    const tool = await ask();

    expect(empty.choices[0]?.message.content).toBe('');
    expect(tool.choices[0]?.finish_reason).toBe('tool_calls');
    expect(tool.choices[0]?.message.content).toBeNull();
    expect(tool.choices[0]?.message.tool_calls?.[0]).toMatchObject({
      type: 'function',
      function: { name: 'lookup', arguments: '{"q":"x"}' },
    });
  });

  it('streams a reply as server-sent events when asked to', async () => {
    fake.enqueue({ type: 'reply', content: 'a streamed answer, in pieces' });

    const stream = await client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      usage = chunk.usage ?? usage;
    }

    expect(text).toBe('a streamed answer, in pieces');
    expect(usage?.completion_tokens).toBeGreaterThan(0);
  });

  it('rejects requests without a model or with no messages with 400 and records a violation', async () => {
    const post = (body: unknown) =>
      fetch(`${fake.baseUrl}/chat/completions`, {
        method: 'POST',
        headers: {
          authorization: 'Bearer test-openai-key',
          'content-type': 'application/json',
        },
        body: JSON.stringify(body),
      });

    const noModel = await post({ messages: [{ role: 'user', content: 'x' }] });
    const noMessages = await post({ model: 'm', messages: [] });

    expect(noModel.status).toBe(400);
    expect(noMessages.status).toBe(400);
    expect(await noMessages.json()).toMatchObject({
      error: {
        type: 'invalid_request_error',
        param: 'messages',
        code: 'empty_array',
      },
    });
    expect(fake.violations).toHaveLength(2);
    expect(fake.requests).toHaveLength(0);
  });

  it('answers 404 on any other route', async () => {
    const res = await fetch(`${fake.baseUrl}/embeddings`, {
      method: 'POST',
      headers: { authorization: 'Bearer test-openai-key' },
      body: '{}',
    });

    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({
      error: { type: 'invalid_request_error' },
    });
  });
});

describe('FakeGraphApi over plain fetch', () => {
  let graph: FakeGraphApi;

  const post = (
    body: unknown,
    opts: { token?: string; path?: string } = {},
  ): Promise<Response> =>
    fetch(
      `${graph.baseUrl}${opts.path ?? `/${VERSION}/${PHONE_ID}/messages`}`,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${opts.token ?? TOKEN}`,
          'content-type': 'application/json',
        },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      },
    );

  const text = (to: string, body: string, extra: object = {}) => ({
    messaging_product: 'whatsapp',
    recipient_type: 'individual',
    to,
    type: 'text',
    text: { preview_url: false, body },
    ...extra,
  });

  beforeEach(async () => {
    graph = await FakeGraphApi.start({ version: VERSION });
  });

  afterEach(async () => {
    await graph.close();
  });

  it('accepts a valid text send, answers with a wamid and records it', async () => {
    const res = await post(
      text('+16505551234', 'hello', {
        context: { message_id: INBOUND_WAMID },
      }),
    );

    expect(res.status).toBe(200);
    const json = (await res.json()) as {
      messaging_product: string;
      contacts: Array<{ input: string; wa_id: string }>;
      messages: Array<{ id: string }>;
    };
    expect(json.messaging_product).toBe('whatsapp');
    expect(json.contacts).toEqual([
      { input: '+16505551234', wa_id: '16505551234' },
    ]);
    expect(json.messages[0]?.id).toMatch(/^wamid\.[A-Za-z0-9+/=_-]+$/);
    expect(graph.sentMessages()).toEqual([
      {
        phoneNumberId: PHONE_ID,
        to: '+16505551234',
        recipient: null,
        body: 'hello',
        wamid: json.messages[0]?.id,
        contextMessageId: INBOUND_WAMID,
      },
    ]);
    expect(graph.requests).toHaveLength(1);
    expect(graph.violations).toEqual([]);
  });

  it('gives every send a different wamid', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const res = await post(text('16505551234', `m${i}`));
      const json = (await res.json()) as { messages: Array<{ id: string }> };
      ids.add(json.messages[0]?.id ?? '');
    }

    expect(ids.size).toBe(5);
  });

  it('accepts a mark-read with a typing indicator and records a read receipt', async () => {
    const res = await post({
      messaging_product: 'whatsapp',
      status: 'read',
      message_id: INBOUND_WAMID,
      typing_indicator: { type: 'text' },
    });

    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ success: true });
    expect(graph.readReceipts()).toEqual([
      { phoneNumberId: PHONE_ID, messageId: INBOUND_WAMID, typing: true },
    ]);
    expect(graph.sentMessages()).toEqual([]);
    expect(graph.violations).toEqual([]);
  });

  it('accepts a text addressed by recipient to a business-scoped user id and records it', async () => {
    const { to: _to, ...byUserId } = text('+16505551234', 'hi');
    const res = await post({
      ...byUserId,
      recipient: 'US.13491208655302741918',
    });

    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      contacts: [{ user_id: 'US.13491208655302741918' }],
    });
    expect(graph.sentMessages()).toEqual([
      expect.objectContaining({
        to: '',
        recipient: 'US.13491208655302741918',
        body: 'hi',
      }),
    ]);
    expect(graph.violations).toEqual([]);
  });

  it('rejects a 5000-character text with code 100 and records a violation', async () => {
    const res = await post(text('+16505551234', 'x'.repeat(5000)));

    expect(res.status).toBe(400);
    const json = (await res.json()) as {
      error: { code: number; type: string; error_data: { details: string } };
    };
    expect(json.error.code).toBe(100);
    expect(json.error.type).toBe('OAuthException');
    expect(json.error.error_data.details).toContain('4096');
    expect(graph.violations).toHaveLength(1);
    expect(graph.sentMessages()).toEqual([]);
  });

  it.each([
    ['an unknown top-level key', text('+1650', 'hi', { foo: 1 })],
    [
      'a wrong messaging_product',
      text('+1650', 'hi', { messaging_product: 'sms' }),
    ],
    ['an empty text body', text('+1650', '')],
    ['a recipient that is not a phone number', text('abc', 'hi')],
    [
      'both to and recipient',
      text('+16505551234', 'hi', { recipient: 'US.13491208655302741918' }),
    ],
    [
      'a recipient that is not a business-scoped user id',
      {
        messaging_product: 'whatsapp',
        recipient: '+16505551234',
        type: 'text',
        text: { body: 'hi' },
      },
    ],
    [
      'a missing type',
      { messaging_product: 'whatsapp', to: '1650', text: { body: 'x' } },
    ],
    [
      'a non-boolean preview_url',
      { ...text('1650', 'x'), text: { body: 'x', preview_url: 'no' } },
    ],
    [
      'a typing indicator of another type',
      {
        messaging_product: 'whatsapp',
        status: 'read',
        message_id: 'wamid.X',
        typing_indicator: { type: 'audio' },
      },
    ],
  ])('rejects %s as a violation', async (_label, body) => {
    const res = await post(body);

    expect(res.status).toBe(400);
    expect(graph.violations.length).toBeGreaterThan(0);
  });

  it('answers invalid JSON with 400 and a violation, and keeps serving', async () => {
    const bad = await post('{"messaging_product":');
    const good = await post(text('+16505551234', 'still alive'));

    expect(bad.status).toBe(400);
    expect(graph.violations).toEqual(['request body is not valid JSON']);
    expect(good.status).toBe(200);
  });

  it('answers a wrong token with 401 and code 190', async () => {
    const res = await post(text('+16505551234', 'hi'), { token: 'nope' });

    expect(res.status).toBe(401);
    const json = (await res.json()) as {
      error: { code: number; type: string };
    };
    expect(json.error).toMatchObject({ code: 190, type: 'OAuthException' });
    expect(graph.sentMessages()).toEqual([]);
  });

  it('answers 404 on another route and flags it', async () => {
    const res = await post(text('+16505551234', 'hi'), {
      path: `/${VERSION}/${PHONE_ID}/media`,
    });

    expect(res.status).toBe(404);
    expect(graph.violations).toHaveLength(1);
  });

  it('flags a Graph version other than the configured one', async () => {
    const res = await post(text('+16505551234', 'hi'), {
      path: `/v19.0/${PHONE_ID}/messages`,
    });

    expect(res.status).toBe(400);
    expect(graph.violations[0]).toContain('v19.0');
  });

  it('fails the next send once with failNext, then succeeds; read receipts are not affected', async () => {
    graph.failNext(1, { status: 400, code: 131047 });

    const read = await post({
      messaging_product: 'whatsapp',
      status: 'read',
      message_id: INBOUND_WAMID,
    });
    const failed = await post(text('+16505551234', 'first'));
    const ok = await post(text('+16505551234', 'second'));

    expect(read.status).toBe(200);
    expect(failed.status).toBe(400);
    expect(await failed.json()).toMatchObject({
      error: {
        code: 131047,
        type: 'OAuthException',
        error_data: { messaging_product: 'whatsapp' },
      },
    });
    expect(ok.status).toBe(200);
    expect(graph.sentMessages().map((m) => m.body)).toEqual(['second']);
  });

  it('fails every send to a recipient with failSendsTo', async () => {
    graph.failSendsTo('+15550000000', {
      status: 400,
      code: 131026,
      details: 'not on WhatsApp',
    });

    const a = await post(text('15550000000', 'one'));
    const b = await post(text('+1 (555) 000-0000', 'two'));
    const other = await post(text('+16505551234', 'three'));

    expect(a.status).toBe(400);
    expect(b.status).toBe(400);
    expect(await b.json()).toMatchObject({
      error: { code: 131026, error_data: { details: 'not on WhatsApp' } },
    });
    expect(other.status).toBe(200);
  });

  it('takes the given HTTP status for a scripted failure (429 for 130429)', async () => {
    graph.failNext(1, { status: 429, code: 130429 });

    const res = await post(text('+16505551234', 'hi'));

    expect(res.status).toBe(429);
    expect(await res.json()).toMatchObject({
      error: { code: 130429, message: '(#130429) Rate limit hit' },
    });
  });

  it('destroys the socket for a status-0 failure, so fetch rejects', async () => {
    graph.failNext(1, { status: 0, code: 0 });

    await expect(post(text('+16505551234', 'hi'))).rejects.toThrow();
    const after = await post(text('+16505551234', 'hi again'));

    expect(after.status).toBe(200);
    expect(graph.requests).toHaveLength(2);
  });

  it('answers after the latency set, and reset clears it with the records', async () => {
    graph.setLatencyMs(150);
    graph.failSendsTo('+16505551234', { status: 400, code: 131026 });
    const started = Date.now();
    await post(text('+16505551234', 'slow'));
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);

    graph.reset();
    const res = await post(text('+16505551234', 'fast'));

    expect(res.status).toBe(200);
    expect(graph.requests).toHaveLength(1);
    expect(graph.violations).toEqual([]);
  });

  it('accepts what axios (the app’s Graph client) sends', async () => {
    const res = await axios.post<{ messages: Array<{ id: string }> }>(
      `${graph.baseUrl}/${VERSION}/${PHONE_ID}/messages`,
      text('+16505551234', 'via axios'),
      { headers: { Authorization: `Bearer ${TOKEN}` } },
    );

    expect(res.status).toBe(200);
    expect(res.data.messages[0]?.id).toMatch(/^wamid\./);
    expect(graph.violations).toEqual([]);
  });
});

describe('waitFor', () => {
  it('returns the first truthy value the probe gives', async () => {
    let calls = 0;

    const value = await waitFor(
      () => (++calls >= 3 ? `done after ${calls}` : null),
      {
        intervalMs: 5,
      },
    );

    expect(value).toBe('done after 3');
  });

  it('rejects with the message given once the timeout passes', async () => {
    await expect(
      waitFor(() => false, { timeoutMs: 50, intervalMs: 10, message: 'never' }),
    ).rejects.toThrow('never');
  });
});
