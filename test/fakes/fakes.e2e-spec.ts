import { createHash } from 'node:crypto';
import axios from 'axios';
import OpenAI, { toFile } from 'openai';
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

  it('transcribes a multipart upload with the SDK, recording the model, file name and bytes', async () => {
    const bytes = Buffer.from('OggS fake opus bytes');

    const result = await client.audio.transcriptions.create({
      model: 'gpt-4o-mini-transcribe',
      file: await toFile(bytes, 'voice.ogg', { type: 'audio/ogg' }),
    });

    expect(result.text).toBe('transcript of voice.ogg');
    expect(fake.transcriptions).toEqual([
      expect.objectContaining({
        model: 'gpt-4o-mini-transcribe',
        filename: 'voice.ogg',
        mimeType: 'audio/ogg',
        bytes,
      }),
    ]);
    expect(fake.violations).toEqual([]);
  });

  it.each([
    [
      'a file name the endpoint does not decode (.oga)',
      'whisper-1',
      'voice.oga',
    ],
    ['an unknown model', 'gpt-4.1-mini', 'voice.ogg'],
  ])('rejects %s with 400 and records a violation', async (_, model, name) => {
    const failed = client.audio.transcriptions.create({
      model,
      file: await toFile(Buffer.from('x'), name),
    });

    await expect(failed).rejects.toMatchObject({ status: 400 });
    expect(fake.transcriptions).toEqual([]);
    expect(fake.violations).toHaveLength(1);
  });

  it('answers an enqueued transcription failure with its status', async () => {
    fake.enqueueTranscription({ type: 'error', status: 503 });

    const failed = client.audio.transcriptions.create({
      model: 'whisper-1',
      file: await toFile(Buffer.from('x'), 'voice.mp3'),
    });

    await expect(failed).rejects.toMatchObject({ status: 503 });
  });

  it('answers 404 on any other route', async () => {
    const res = await fetch(`${fake.baseUrl}/moderations`, {
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
      path: `/${VERSION}/${PHONE_ID}/register`,
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

describe('FakeGraphApi: media, template and interactive sends', () => {
  let graph: FakeGraphApi;

  const post = (body: unknown): Promise<Response> =>
    fetch(`${graph.baseUrl}/${VERSION}/${PHONE_ID}/messages`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${TOKEN}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify(body),
    });

  const message = (type: string, content: unknown) => ({
    messaging_product: 'whatsapp',
    recipient_type: 'individual',
    to: '+16505551234',
    type,
    [type]: content,
  });

  const buttons = (
    items: unknown[],
    extra: Record<string, unknown> = {},
  ): object =>
    message('interactive', {
      type: 'button',
      body: { text: 'Pick one' },
      action: { buttons: items },
      ...extra,
    });

  const reply = (id: string, title: string) => ({
    type: 'reply',
    reply: { id, title },
  });

  const list = (
    sections: unknown[],
    extra: Record<string, unknown> = {},
  ): object =>
    message('interactive', {
      type: 'list',
      body: { text: 'Our menu' },
      action: { button: 'Choose', sections },
      ...extra,
    });

  const rows = (count: number, prefix = 'r') =>
    Array.from({ length: count }, (_, i) => ({
      id: `${prefix}${i}`,
      title: `Row ${prefix}${i}`,
    }));

  beforeEach(async () => {
    graph = await FakeGraphApi.start({ version: VERSION });
  });

  afterEach(async () => {
    await graph.close();
  });

  it.each([
    [
      'an image by link with a caption',
      message('image', { link: 'https://example.com/a.jpg', caption: 'A' }),
    ],
    ['an image by id', message('image', { id: '1013859600285441' })],
    [
      'a video with a 1024-character caption',
      message('video', { id: '1', caption: 'v'.repeat(1024) }),
    ],
    [
      'a document with a filename and a caption',
      message('document', {
        link: 'http://example.com/y.pdf',
        filename: 'y.pdf',
        caption: 'Y',
      }),
    ],
    ['an audio by id', message('audio', { id: '2' })],
    [
      'a sticker by link',
      message('sticker', { link: 'https://example.com/s.webp' }),
    ],
    [
      'a template with components',
      message('template', {
        name: 'hello_world',
        language: { code: 'en_US' },
        components: [
          { type: 'body', parameters: [{ type: 'text', text: 'John' }] },
        ],
      }),
    ],
    [
      'a template without components',
      message('template', {
        name: 'hello_world',
        language: { code: 'en_US', policy: 'deterministic' },
      }),
    ],
    [
      'three reply buttons with a header and a footer',
      buttons(
        [
          reply('yes', 'Yes'),
          reply('no', 'No'),
          reply('x'.repeat(256), 't'.repeat(20)),
        ],
        {
          header: { type: 'text', text: 'h'.repeat(60) },
          footer: { text: 'f'.repeat(60) },
        },
      ),
    ],
    [
      'a list of two titled sections with ten rows',
      list([
        { title: 'Mains', rows: rows(6, 'm') },
        {
          title: 's'.repeat(24),
          rows: [
            ...rows(3, 'd'),
            {
              id: 'i'.repeat(200),
              title: 't'.repeat(24),
              description: 'd'.repeat(72),
            },
          ],
        },
      ]),
    ],
    ['a list of one untitled section', list([{ rows: rows(1) }])],
  ])('accepts %s and records it in sentPayloads', async (_label, body) => {
    const res = await post(body);

    expect(graph.violations).toEqual([]);
    expect(res.status).toBe(200);
    const json = (await res.json()) as { messages: Array<{ id: string }> };
    expect(graph.sentPayloads()).toEqual([
      {
        phoneNumberId: PHONE_ID,
        to: '+16505551234',
        recipient: null,
        type: (body as { type: string }).type,
        payload: body,
        wamid: json.messages[0]?.id,
      },
    ]);
    expect(graph.sentMessages()).toEqual([]);
  });

  it('records a text send in both sentMessages and sentPayloads', async () => {
    const body = message('text', { preview_url: false, body: 'hi' });

    await post(body);

    expect(graph.sentMessages().map((m) => m.body)).toEqual(['hi']);
    expect(graph.sentPayloads().map((p) => p.payload)).toEqual([body]);
  });

  it.each([
    [
      'media with both id and link',
      message('image', { id: '1', link: 'https://example.com/a.jpg' }),
      'exactly one of id and link',
    ],
    [
      'media with neither id nor link',
      message('image', { caption: 'c' }),
      'exactly one of id and link',
    ],
    [
      'a media link that is not http(s)',
      message('document', { link: 'ftp://example.com/y.pdf' }),
      'http(s) URL',
    ],
    [
      'a caption on audio',
      message('audio', { id: '1', caption: 'c' }),
      'audio.caption',
    ],
    [
      'a caption on a sticker',
      message('sticker', { id: '1', caption: 'c' }),
      'sticker.caption',
    ],
    [
      'a 1025-character caption',
      message('image', { id: '1', caption: 'c'.repeat(1025) }),
      '1024',
    ],
    [
      'a filename on an image',
      message('image', { id: '1', filename: 'a.jpg' }),
      'image.filename',
    ],
    [
      'an unknown key in a media object',
      message('video', { id: '1', mime_type: 'video/mp4' }),
      'video.mime_type',
    ],
    [
      'a template without a name',
      message('template', { language: { code: 'en_US' } }),
      'template.name',
    ],
    [
      'a template without a language code',
      message('template', { name: 'hello_world', language: {} }),
      'template.language.code',
    ],
    [
      'a template language given as a string',
      message('template', { name: 'hello_world', language: 'en_US' }),
      'template.language',
    ],
    [
      'a template component of an unknown type',
      message('template', {
        name: 'n',
        language: { code: 'en' },
        components: [{ type: 'greeting' }],
      }),
      'components[0].type',
    ],
    ['no reply buttons', buttons([]), '1 to 3'],
    [
      'four reply buttons',
      buttons([
        reply('a', 'A'),
        reply('b', 'B'),
        reply('c', 'C'),
        reply('d', 'D'),
      ]),
      '1 to 3',
    ],
    [
      'a button of a type other than reply',
      buttons([{ type: 'url', reply: { id: 'a', title: 'A' } }]),
      'must be "reply"',
    ],
    ['a 257-character reply id', buttons([reply('x'.repeat(257), 'A')]), '256'],
    [
      'a 21-character button title',
      buttons([reply('a', 't'.repeat(21))]),
      '20',
    ],
    [
      'two buttons with the same title',
      buttons([reply('a', 'Same'), reply('b', 'Same')]),
      'not unique',
    ],
    [
      'an interactive message without a body',
      message('interactive', {
        type: 'button',
        action: { buttons: [reply('a', 'A')] },
      }),
      'interactive.body',
    ],
    [
      'a 1025-character body',
      buttons([reply('a', 'A')], { body: { text: 'b'.repeat(1025) } }),
      '1024',
    ],
    [
      'a 61-character header',
      buttons([reply('a', 'A')], {
        header: { type: 'text', text: 'h'.repeat(61) },
      }),
      'interactive.header.text',
    ],
    [
      'a 61-character footer',
      buttons([reply('a', 'A')], { footer: { text: 'f'.repeat(61) } }),
      'interactive.footer.text',
    ],
    [
      'an unknown interactive type',
      message('interactive', {
        type: 'carousel',
        body: { text: 'b' },
        action: {},
      }),
      'interactive.type',
    ],
    [
      'a 21-character list button',
      list([{ rows: rows(1) }], {
        action: { button: 'b'.repeat(21), sections: [{ rows: rows(1) }] },
      }),
      'interactive.action.button',
    ],
    ['a list without sections', list([]), '1 to 10 sections'],
    [
      'eleven sections',
      list(
        Array.from({ length: 11 }, (_, i) => ({
          title: `S${i}`,
          rows: rows(1, `s${i}-`),
        })),
      ),
      '1 to 10 sections',
    ],
    [
      'eleven rows in total',
      list([
        { title: 'A', rows: rows(6, 'a') },
        { title: 'B', rows: rows(5, 'b') },
      ]),
      '11 rows',
    ],
    [
      'two sections, one without a title',
      list([{ title: 'A', rows: rows(1, 'a') }, { rows: rows(1, 'b') }]),
      'title is required',
    ],
    [
      'a 25-character section title',
      list([{ title: 's'.repeat(25), rows: rows(1) }]),
      'sections[0].title',
    ],
    [
      'a 201-character row id',
      list([{ rows: [{ id: 'i'.repeat(201), title: 'T' }] }]),
      '200',
    ],
    [
      'a 25-character row title',
      list([{ rows: [{ id: 'r', title: 't'.repeat(25) }] }]),
      'rows[0].title',
    ],
    [
      'a 73-character row description',
      list([{ rows: [{ id: 'r', title: 'T', description: 'd'.repeat(73) }] }]),
      '72',
    ],
    [
      'two rows with the same id',
      list([
        {
          rows: [
            { id: 'r', title: 'A' },
            { id: 'r', title: 'B' },
          ],
        },
      ]),
      'not unique',
    ],
  ])(
    'rejects %s with code 100 and a violation',
    async (_label, body, problem) => {
      const res = await post(body);

      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: 100 } });
      expect(graph.violations.join('\n')).toContain(problem);
      expect(graph.sentPayloads()).toEqual([]);
    },
  );
});

describe('FakeGraphApi: media download and upload', () => {
  let graph: FakeGraphApi;
  const MEDIA_ID = '1003383421387256';
  const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46]);

  const get = (url: string, token: string | null = TOKEN) =>
    fetch(url, {
      headers: token === null ? {} : { authorization: `Bearer ${token}` },
    });

  const mediaInfo = async (id = MEDIA_ID) => {
    const res = await get(`${graph.baseUrl}/${VERSION}/${id}`);
    return { res, json: (await res.json()) as Record<string, unknown> };
  };

  const upload = (form: FormData | string, token = TOKEN) =>
    fetch(`${graph.baseUrl}/${VERSION}/${PHONE_ID}/media`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        ...(typeof form === 'string' && { 'content-type': 'application/json' }),
      },
      body: form,
    });

  const form = (
    fields: Record<string, string>,
    file?: { bytes: Buffer; type: string; name: string },
  ) => {
    const data = new FormData();
    for (const [name, value] of Object.entries(fields))
      data.append(name, value);
    if (file) {
      data.append(
        'file',
        new Blob([new Uint8Array(file.bytes)], { type: file.type }),
        file.name,
      );
    }
    return data;
  };

  beforeEach(async () => {
    graph = await FakeGraphApi.start({ version: VERSION });
    graph.addMedia(MEDIA_ID, JPEG, 'image/jpeg');
  });

  afterEach(async () => {
    await graph.close();
  });

  it('answers GET /{media-id} with a URL on the fake, the mime type, SHA-256 and size', async () => {
    const { res, json } = await mediaInfo();

    expect(res.status).toBe(200);
    expect(json).toEqual({
      messaging_product: 'whatsapp',
      url: expect.stringMatching(
        new RegExp(`^${graph.baseUrl}/media-download/`),
      ) as unknown,
      mime_type: 'image/jpeg',
      sha256: createHash('sha256').update(JPEG).digest('hex'),
      file_size: String(JPEG.length),
      id: MEDIA_ID,
    });
    expect(graph.requestCount('media-info')).toBe(1);
  });

  it('serves the bytes at the media URL with the bearer token, with their Content-Type', async () => {
    const { json } = await mediaInfo();

    const res = await get(json.url as string);

    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    expect(Buffer.from(await res.arrayBuffer())).toEqual(JPEG);
    expect(graph.requestCount('media-download')).toBe(1);
    expect(graph.violations).toEqual([]);
  });

  it('answers the file_size given to addMedia, or none', async () => {
    graph.addMedia('1', JPEG, 'image/jpeg', { reportedSize: 10 });
    graph.addMedia('2', JPEG, 'image/jpeg', { reportedSize: null });

    const { json: understated } = await mediaInfo('1');
    const { json: unsized } = await mediaInfo('2');

    expect(understated.file_size).toBe('10');
    expect(unsized).not.toHaveProperty('file_size');
  });

  it('refuses the media URL without the bearer token (401)', async () => {
    const { json } = await mediaInfo();

    const anonymous = await get(json.url as string, null);
    const wrong = await get(json.url as string, 'nope');

    expect(anonymous.status).toBe(401);
    expect(wrong.status).toBe(401);
  });

  it('answers 404 on every URL handed out before expireMediaUrls, and a fresh URL works', async () => {
    const { json: first } = await mediaInfo();
    graph.expireMediaUrls();

    const expired = await get(first.url as string);
    const { json: fresh } = await mediaInfo();
    const ok = await get(fresh.url as string);

    expect(expired.status).toBe(404);
    expect(fresh.url).not.toBe(first.url);
    expect(ok.status).toBe(200);
    expect(graph.requestCount('media-info')).toBe(2);
    expect(graph.requestCount('media-download')).toBe(2);
    expect(graph.violations).toEqual([]);
  });

  it('answers an unknown media id with 400 and code 100, as the Graph API does', async () => {
    const { res, json } = await mediaInfo('999999');

    expect(res.status).toBe(400);
    expect(json).toMatchObject({
      error: { code: 100, error_subcode: 33, type: 'GraphMethodException' },
    });
  });

  it('refuses GET /{media-id} without the bearer token (401, code 190)', async () => {
    const res = await get(`${graph.baseUrl}/${VERSION}/${MEDIA_ID}`, null);

    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: 190 } });
  });

  it('fails the next media-info requests scripted with failNextOn, then answers', async () => {
    graph.failNextOn('media-info', 1, { status: 503, code: 2 });

    const failed = await mediaInfo();
    const ok = await mediaInfo();

    expect(failed.res.status).toBe(503);
    expect(failed.json).toMatchObject({ error: { code: 2 } });
    expect(ok.res.status).toBe(200);
  });

  it('takes a multipart upload, answers a new media id and serves the file under it', async () => {
    const png = Buffer.from([
      0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0,
    ]);

    const res = await upload(
      form(
        { messaging_product: 'whatsapp', type: 'image/png' },
        { bytes: png, type: 'image/png', name: 'logo.png' },
      ),
    );

    expect(graph.violations).toEqual([]);
    expect(res.status).toBe(200);
    const { id } = (await res.json()) as { id: string };
    expect(id).toMatch(/^\d+$/);
    expect(graph.mediaFile(id)).toMatchObject({
      bytes: png,
      mimeType: 'image/png',
      filename: 'logo.png',
      phoneNumberId: PHONE_ID,
    });
    expect(graph.uploadedMedia().map((m) => m.id)).toEqual([id]);
    const { json } = await mediaInfo(id);
    expect(json.mime_type).toBe('image/png');
    expect(graph.requestCount('media-upload')).toBe(1);
  });

  const pdf = {
    bytes: Buffer.from('%PDF-1.4'),
    type: 'application/pdf',
    name: 'a.pdf',
  };
  it.each([
    [
      'a JSON body',
      JSON.stringify({ messaging_product: 'whatsapp', file: '@a.pdf' }),
      100,
    ],
    ['no messaging_product', form({}, pdf), 100],
    [
      'a file sent as a plain field',
      form({ messaging_product: 'whatsapp', file: 'a.pdf' }),
      100,
    ],
    [
      'an unknown field',
      form({ messaging_product: 'whatsapp', caption: 'x' }, pdf),
      100,
    ],
    [
      'a type field that differs from the file',
      form({ messaging_product: 'whatsapp', type: 'image/png' }, pdf),
      100,
    ],
    [
      'an empty file',
      form(
        { messaging_product: 'whatsapp' },
        { ...pdf, bytes: Buffer.alloc(0) },
      ),
      100,
    ],
    [
      'a MIME type the Cloud API does not take',
      form(
        { messaging_product: 'whatsapp' },
        { ...pdf, type: 'application/x-msdownload' },
      ),
      131053,
    ],
  ])('rejects an upload with %s and flags it', async (_label, body, code) => {
    const res = await upload(body);

    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code } });
    expect(graph.violations.length).toBeGreaterThan(0);
    expect(graph.uploadedMedia()).toEqual([]);
  });

  it('refuses an upload with a wrong token (401)', async () => {
    const res = await upload(
      form({ messaging_product: 'whatsapp' }, pdf),
      'nope',
    );

    expect(res.status).toBe(401);
    expect(graph.uploadedMedia()).toEqual([]);
  });

  it('reset forgets media, URLs and request counts', async () => {
    const { json } = await mediaInfo();

    graph.reset();
    const gone = await mediaInfo();
    const expiredUrl = await get(json.url as string);

    expect(gone.res.status).toBe(400);
    expect(expiredUrl.status).toBe(404);
    expect(graph.requestCount('media-info')).toBe(1);
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
