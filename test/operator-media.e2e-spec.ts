import { FakeGraphApi } from './fakes/fake-graph-api';
import { FakeOpenAi } from './fakes/fake-openai';
import { waitFor } from './fakes/wait-for';
import { ADMIN_KEY, fakeEnv, startTestApp, TestApp } from './support/test-app';
import { postWebhook, textWebhook } from './support/webhooks';

// Media for operators: GET /api/media/:mediaId, and media sends through
// POST /api/send-message (by link, by id, or uploaded first), against the
// fake Graph API.

let app: TestApp;
let graph: FakeGraphApi;
let openai: FakeOpenAi;
let seq = 0;
const newCustomer = () =>
  `4479${String(Date.now()).slice(-5)}${String(++seq).padStart(2, '0')}`;

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

describe('POST /api/send-message with media', () => {
  const send = (body: Record<string, unknown>) =>
    api('POST', '/api/send-message', body);
  const payloadsTo = (waId: string) =>
    graph.sentPayloads().filter((p) => p.to === `+${waId}`);
  const storedMessages = async (waId: string) => {
    const inbox = await api('GET', `/api/conversations?customer=${waId}`);
    const [conversation] = inbox.body.data.items as Array<{ id: string }>;
    const page = await api(
      'GET',
      `/api/conversations/${conversation!.id}/messages`,
    );
    return page.body.data.items as Array<Record<string, unknown>>;
  };

  it('sends an image by link with the message as its caption, and records it as an image', async () => {
    const customer = newCustomer();
    const res = await send({
      phoneNumber: `+${customer}`,
      message: 'Your receipt',
      media: { type: 'image', link: 'https://example.com/receipts/4711.jpg' },
    });
    expect(res.status).toBe(200);
    expect(res.body.data.messages).toHaveLength(1);
    const [sent] = payloadsTo(customer);
    expect(sent?.type).toBe('image');
    expect(sent?.payload.image).toEqual({
      link: 'https://example.com/receipts/4711.jpg',
      caption: 'Your receipt',
    });
    expect(res.body.data.messages[0].id).toBe(sent?.wamid);
    const [stored] = await storedMessages(customer);
    expect(stored).toMatchObject({
      direction: 'outbound',
      author: 'operator',
      kind: 'image',
      text: '[image] Your receipt',
      status: 'sent',
      mediaId: null,
    });
  });

  it('sends a document by media id with its file name and caption', async () => {
    const customer = newCustomer();
    const res = await send({
      phoneNumber: customer,
      media: {
        type: 'document',
        id: '1013859600285441',
        filename: 'receipt-4711.pdf',
        caption: 'Your receipt',
      },
    });
    expect(res.status).toBe(200);
    const [sent] = payloadsTo(customer);
    expect(sent?.type).toBe('document');
    expect(sent?.payload.document).toEqual({
      id: '1013859600285441',
      filename: 'receipt-4711.pdf',
      caption: 'Your receipt',
    });
    const [stored] = await storedMessages(customer);
    expect(stored).toMatchObject({
      kind: 'document',
      text: '[document receipt-4711.pdf] Your receipt',
      mediaId: '1013859600285441',
    });
  });

  it('sends audio without a caption', async () => {
    const customer = newCustomer();
    const res = await send({
      phoneNumber: customer,
      media: { type: 'audio', link: 'https://example.com/hello.ogg' },
    });
    expect(res.status).toBe(200);
    expect(payloadsTo(customer)[0]?.payload.audio).toEqual({
      link: 'https://example.com/hello.ogg',
    });
    expect((await storedMessages(customer))[0]).toMatchObject({
      kind: 'audio',
      text: '[audio]',
    });
  });

  it('uploads base64 data to Meta first, then sends the file by its new media id', async () => {
    const customer = newCustomer();
    const res = await send({
      phoneNumber: customer,
      message: 'The photo you asked for',
      media: {
        type: 'image',
        data: JPEG.toString('base64'),
        mimeType: 'image/jpeg',
      },
    });
    expect(res.status).toBe(200);
    const [upload] = graph.uploadedMedia();
    expect(upload).toMatchObject({
      mimeType: 'image/jpeg',
      filename: 'image.jpg',
      phoneNumberId: expect.any(String),
    });
    expect(upload?.bytes).toEqual(JPEG);
    const [sent] = payloadsTo(customer);
    expect(sent?.payload.image).toEqual({
      id: upload?.id,
      caption: 'The photo you asked for',
    });
    // The history shows the new id, and operators can fetch the file back.
    const [stored] = await storedMessages(customer);
    expect(stored).toMatchObject({ kind: 'image', mediaId: upload?.id });
    const back = await fetch(`${app.url}/api/media/${upload?.id}`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    expect(Buffer.from(await back.arrayBuffer())).toEqual(JPEG);
  });

  it('uploads a document under its file name', async () => {
    const customer = newCustomer();
    const text = Buffer.from('Terms and conditions\n');
    const res = await send({
      phoneNumber: customer,
      media: {
        type: 'document',
        data: text.toString('base64'),
        mimeType: 'text/plain',
        filename: 'terms.txt',
      },
    });
    expect(res.status).toBe(200);
    const [upload] = graph.uploadedMedia();
    expect(upload).toMatchObject({
      filename: 'terms.txt',
      mimeType: 'text/plain',
    });
    expect(payloadsTo(customer)[0]?.payload.document).toEqual({
      id: upload?.id,
      filename: 'terms.txt',
    });
  });

  it('answers 502 and records nothing when Meta refuses the upload', async () => {
    const customer = newCustomer();
    graph.failNextOn('media-upload', 1, { status: 400, code: 131053 });
    const res = await send({
      phoneNumber: customer,
      media: {
        type: 'image',
        data: JPEG.toString('base64'),
        mimeType: 'image/jpeg',
      },
    });
    expect(res.status).toBe(502);
    expect(res.body.message).toMatch(/did not accept the upload/);
    expect(graph.sentPayloads()).toEqual([]);
    const inbox = await api('GET', `/api/conversations?customer=${customer}`);
    expect(inbox.body.data.items).toEqual([]);
  });

  const link = 'https://example.com/a.jpg';
  it.each<[string, Record<string, unknown>, RegExp]>([
    [
      'both a link and an id',
      { media: { type: 'image', link, id: '42' } },
      /exactly one of link, id and data/,
    ],
    [
      'neither a link, an id nor data',
      { media: { type: 'image' } },
      /exactly one of link, id and data/,
    ],
    [
      'a link that is not http(s)',
      { media: { type: 'image', link: 'ftp://example.com/a.jpg' } },
      /^Validation failed: media.link must be an http\(s\) URL$/,
    ],
    [
      'an id that is not digits',
      { media: { type: 'image', id: 'abc' } },
      /media.id must be 1 to 30 digits/,
    ],
    [
      'an unknown type',
      { media: { type: 'gif', link } },
      /type must be one of/,
    ],
    [
      'a caption on audio',
      { media: { type: 'audio', link, caption: 'hi' } },
      /audio takes no caption/,
    ],
    [
      'a message with a sticker',
      { message: 'hi', media: { type: 'sticker', link } },
      /sticker takes no caption/,
    ],
    [
      'a caption given twice',
      { message: 'a', media: { type: 'image', link, caption: 'b' } },
      /give the caption once/,
    ],
    [
      'a caption over 1024 characters',
      { media: { type: 'image', link, caption: 'x'.repeat(1025) } },
      /caption must be shorter than or equal to 1024/,
    ],
    [
      'a message over 1024 characters as the caption',
      { message: 'x'.repeat(1025), media: { type: 'video', link } },
      /at most 1024 characters/,
    ],
    [
      'a file name on an image',
      { media: { type: 'image', link, filename: 'a.jpg' } },
      /filename is only taken for a document/,
    ],
    [
      'a file name with a path',
      { media: { type: 'document', link, filename: '../etc/passwd' } },
      /media.filename must be a file name/,
    ],
    [
      'a file name with a control character',
      { media: { type: 'document', link, filename: 'a\tb.pdf' } },
      /media.filename must be a file name/,
    ],
    [
      'data without its MIME type',
      { media: { type: 'image', data: JPEG.toString('base64') } },
      /mimeType is required with media.data/,
    ],
    [
      'a MIME type without data',
      { media: { type: 'image', link, mimeType: 'image/jpeg' } },
      /mimeType is only taken with media.data/,
    ],
    [
      'a MIME type the media type does not take',
      {
        media: {
          type: 'image',
          data: JPEG.toString('base64'),
          mimeType: 'application/pdf',
        },
      },
      /mimeType of image must be one of image\/jpeg, image\/png/,
    ],
    [
      'data that is not base64',
      { media: { type: 'image', data: 'not base64!', mimeType: 'image/jpeg' } },
      /media.data must be base64/,
    ],
    [
      'a sticker over 500 KB',
      {
        media: {
          type: 'sticker',
          data: Buffer.alloc(500 * 1024 + 1).toString('base64'),
          mimeType: 'image/webp',
        },
      },
      /over Meta's 512000-byte limit for sticker/,
    ],
    [
      'an unknown media field',
      { media: { type: 'image', link, url: link } },
      /property url should not exist/,
    ],
    [
      'media that is not an object',
      { media: 'https://example.com/a.jpg' },
      /media must be an object/,
    ],
    ['no message and no media', {}, /message must be a string/],
    ['no message and null media', { media: null }, /message must be a string/],
  ])('answers 400 and sends nothing for %s', async (_name, body, problem) => {
    const customer = newCustomer();
    const res = await send({ phoneNumber: customer, ...body });
    expect(res.status).toBe(400);
    expect(res.body.success).toBe(false);
    expect(res.body.message).toMatch(problem);
    expect(res.body.message).not.toMatch(/media\.media\./);
    expect(graph.sentPayloads()).toEqual([]);
    expect(graph.uploadedMedia()).toEqual([]);
    const inbox = await api('GET', `/api/conversations?customer=${customer}`);
    expect(inbox.body.data.items).toEqual([]);
  });

  it('answers 413 and sends nothing when the base64 file makes the request larger than 3 MiB', async () => {
    const customer = newCustomer();
    const res = await send({
      phoneNumber: customer,
      media: {
        type: 'image',
        data: Buffer.alloc(2_400_000).toString('base64'),
        mimeType: 'image/jpeg',
      },
    });
    expect(res.status).toBe(413);
    expect(res.body.success).toBe(false);
    expect(graph.uploadedMedia()).toEqual([]);
    expect(graph.sentPayloads()).toEqual([]);
  });

  it('shows the sent media to the model as context of the next reply', async () => {
    const customer = newCustomer();
    await send({
      phoneNumber: customer,
      message: 'Your receipt',
      media: { type: 'image', link: 'https://example.com/receipts/4711.jpg' },
    });
    await postWebhook(app.url, textWebhook(customer, 'thanks, is it paid?'));
    const request = await waitFor(() =>
      openai.requests.find((r) =>
        r.messages.some((m) => String(m.content).includes('is it paid?')),
      ),
    );
    expect(
      request.messages.map((m) => `${m.role}:${String(m.content)}`),
    ).toEqual(
      expect.arrayContaining([
        'assistant:[image] Your receipt',
        'user:thanks, is it paid?',
      ]),
    );
  });
});

describe('the OpenAPI document', () => {
  it('documents the media download as binary and a media example for each way to send', async () => {
    const doc = (await (await fetch(`${app.url}/docs-json`)).json()) as any;
    const download = doc.paths['/api/media/{mediaId}'].get;
    expect(
      download.responses['200'].content['application/octet-stream'],
    ).toEqual({
      schema: { type: 'string', format: 'binary' },
    });
    expect(Object.keys(download.responses)).toEqual(
      expect.arrayContaining(['200', '400', '401', '404', '502']),
    );
    const send = doc.paths['/api/send-message'].post;
    const examples = send.requestBody.content['application/json'].examples;
    expect(
      Object.values(examples).map((e: any) => e.value.media ?? null),
    ).toEqual([
      null,
      expect.objectContaining({ link: expect.any(String) }),
      expect.objectContaining({ id: expect.any(String) }),
      expect.objectContaining({ data: expect.any(String) }),
    ]);
    expect(doc.components.schemas.SendMediaDto.required).toEqual(['type']);
  });

  it('accepts each documented send-message example', async () => {
    const doc = (await (await fetch(`${app.url}/docs-json`)).json()) as any;
    const examples = doc.paths['/api/send-message'].post.requestBody.content[
      'application/json'
    ].examples as Record<string, { value: Record<string, unknown> }>;
    for (const [name, example] of Object.entries(examples)) {
      const customer = newCustomer();
      const res = await api('POST', '/api/send-message', {
        ...example.value,
        phoneNumber: customer,
      });
      expect({ name, status: res.status }).toEqual({ name, status: 200 });
    }
  });
});
