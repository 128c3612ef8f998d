import { sql } from 'drizzle-orm';
import { FakeGraphApi } from './fakes/fake-graph-api';
import { FakeOpenAi } from './fakes/fake-openai';
import { waitFor } from './fakes/wait-for';
import {
  docxWithText,
  jpegImage,
  oggOpusVoiceNote,
  pdfWithText,
} from './support/media-fixtures';
import { ADMIN_KEY, fakeEnv, startTestApp, TestApp } from './support/test-app';
import {
  envelope,
  InboundSpec,
  messageChange,
  postWebhook,
} from './support/webhooks';

const DOCX_TYPE =
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
const MEDIA_NOTICE = 'Send me words, please.';

let graph: FakeGraphApi;
let openai: FakeOpenAi;
let app: TestApp;
let seq = 0;
const newCustomer = () =>
  `1556${String(Date.now()).slice(-5)}${String(++seq).padStart(2, '0')}`;
let mediaSeq = 0;
const newMediaId = () => `${Date.now()}${++mediaSeq}`;

const sentTo = (waId: string) =>
  graph.sentMessages().filter((m) => m.to.replace(/\D/g, '') === waId);
/** The texts sent to `waId`, once there is one. */
const repliesTo = async (waId: string) =>
  (await waitFor(() => sentTo(waId).length > 0 && sentTo(waId))).map(
    (m) => m.body,
  );
/** The last user message of the chat request that answered `text`'s customer (as JSON). */
const promptFor = (needle: string) =>
  waitFor(() =>
    openai.requests.find((r) => JSON.stringify(r.messages).includes(needle)),
  );

async function storedMedia(wamid: string) {
  const result = (await app.db.db.execute(sql`
    select media_status as status, media_text as text, media_failure as failure
      from messages where wamid = ${wamid}`)) as unknown as {
    rows: Array<{
      status: string | null;
      text: string | null;
      failure: string | null;
    }>;
  };
  return result.rows[0];
}

/** Posts one webhook with these messages from `customer`. */
const post = (customer: string, ...specs: Array<Omit<InboundSpec, 'from'>>) =>
  postWebhook(
    app.url,
    envelope(messageChange(specs.map((s) => ({ ...s, from: customer })))),
  );

beforeAll(async () => {
  graph = await FakeGraphApi.start();
  openai = await FakeOpenAi.start();
  app = await startTestApp({
    ...fakeEnv(graph, openai),
    LLM_VISION: 'true',
    MEDIA_REPLY_MESSAGE: MEDIA_NOTICE,
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
afterEach(() => {
  expect(graph.violations).toEqual([]);
  expect(openai.violations).toEqual([]);
});

describe('media understanding, end to end', () => {
  it('transcribes a voice note (sent as voice.ogg to the transcription model): the transcript reaches the model, is stored and shown by the admin API', async () => {
    const customer = newCustomer();
    const id = newMediaId();
    const wamid = `wamid.voice.${id}`;
    graph.addMedia(id, oggOpusVoiceNote(), 'audio/ogg; codecs=opus');
    openai.enqueueTranscription({
      type: 'text',
      text: 'My order 4411 never arrived',
    });

    await post(customer, {
      wamid,
      type: 'audio',
      body: { id, mime_type: 'audio/ogg; codecs=opus', voice: true },
    });

    expect(await repliesTo(customer)).toEqual([
      'Echo: [voice note] My order 4411 never arrived',
    ]);
    expect(
      openai.transcriptions.map((t) => [t.model, t.filename, t.bytes.length]),
    ).toEqual([
      ['gpt-4o-mini-transcribe', 'voice.ogg', oggOpusVoiceNote().length],
    ]);
    expect(await storedMedia(wamid)).toEqual({
      status: 'understood',
      text: 'My order 4411 never arrived',
      failure: null,
    });

    const conversations = (await (
      await fetch(`${app.url}/api/conversations?customer=${customer}`, {
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
      })
    ).json()) as { data: { items: Array<{ id: string }> } };
    const messages = (await (
      await fetch(
        `${app.url}/api/conversations/${conversations.data.items[0].id}/messages`,
        { headers: { authorization: `Bearer ${ADMIN_KEY}` } },
      )
    ).json()) as { data: { items: Array<Record<string, unknown>> } };
    expect(messages.data.items).toContainEqual(
      expect.objectContaining({
        wamid,
        mediaStatus: 'understood',
        mediaText: 'My order 4411 never arrived',
      }),
    );
    const session = (await (
      await fetch(`${app.url}/api/session/${customer}`, {
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
      })
    ).json()) as {
      data: { context: { previousMessages: Array<{ text: string }> } };
    };
    expect(session.data.context.previousMessages.map((m) => m.text)).toContain(
      '[voice note] My order 4411 never arrived',
    );
  });

  it('shows an image with its caption to a vision model as an image part (data URI)', async () => {
    const customer = newCustomer();
    const id = newMediaId();
    const jpeg = jpegImage();
    graph.addMedia(id, jpeg, 'image/jpeg');

    await post(customer, {
      type: 'image',
      body: { id, mime_type: 'image/jpeg', caption: 'It arrived broken' },
    });

    await repliesTo(customer);
    const request = await promptFor('It arrived broken');
    const user = request.messages.at(-1)!;
    expect(user.content).toEqual([
      { type: 'text', text: '[image] It arrived broken' },
      {
        type: 'image_url',
        image_url: { url: `data:image/jpeg;base64,${jpeg.toString('base64')}` },
      },
    ]);
  });

  it('gives the model the text of a PDF and of a DOCX, with the file name; a later turn reads it back without downloading again', async () => {
    const customer = newCustomer();
    const pdfId = newMediaId();
    const docxId = newMediaId();
    graph.addMedia(
      pdfId,
      await pdfWithText(['Terms of sale', 'Refunds within 30 days']),
      'application/pdf',
    );
    graph.addMedia(
      docxId,
      await docxWithText(['Order 5512', 'Two blue chairs']),
      DOCX_TYPE,
    );

    await post(customer, {
      type: 'document',
      body: { id: pdfId, mime_type: 'application/pdf', filename: 'terms.pdf' },
    });
    await repliesTo(customer);
    const pdfPrompt = JSON.stringify(
      (await promptFor('Refunds within 30 days')).messages,
    );
    expect(pdfPrompt).toContain('[document terms.pdf]');

    await post(customer, {
      type: 'document',
      body: {
        id: docxId,
        mime_type: DOCX_TYPE,
        filename: 'order.docx',
        caption: 'my order',
      },
    });
    await waitFor(() => sentTo(customer).length >= 2);
    const docxRequest = await promptFor('Two blue chairs');
    const docxPrompt = JSON.stringify(docxRequest.messages);
    expect(docxPrompt).toContain('[document order.docx] my order');
    // The PDF is context now, read from the database, not downloaded again.
    expect(docxPrompt).toContain('Refunds within 30 days');
    expect(graph.requestCount('media-info')).toBe(2);
  });

  it('answers a video with the media notice, without downloading it', async () => {
    const customer = newCustomer();
    await post(customer, {
      type: 'video',
      body: { id: newMediaId(), mime_type: 'video/mp4' },
    });

    expect(await repliesTo(customer)).toEqual([MEDIA_NOTICE]);
    expect(graph.requestCount('media-info')).toBe(0);
    expect(openai.requests).toEqual([]);
  });

  it('fetches a fresh URL once when the first one has expired', async () => {
    const customer = newCustomer();
    const id = newMediaId();
    graph.addMedia(id, jpegImage(), 'image/jpeg');
    graph.failNextOn('media-download', 1, {
      status: 404,
      code: 100,
      message: 'URL expired',
    });

    await post(customer, {
      type: 'image',
      body: { id, mime_type: 'image/jpeg', caption: 'look' },
    });

    await repliesTo(customer);
    const user = (await promptFor('look')).messages.at(-1)!;
    expect(JSON.stringify(user.content)).toContain('data:image/jpeg;base64,');
    expect(graph.requestCount('media-info')).toBe(2);
    expect(graph.requestCount('media-download')).toBe(2);
  });

  describe('failures answer as unsupported media, stored, counted, and the turn completes', () => {
    async function failsWith(
      reason: string,
      spec: Omit<InboundSpec, 'from'>,
    ): Promise<void> {
      const customer = newCustomer();
      const wamid = `wamid.fail.${newMediaId()}`;
      await post(customer, { ...spec, wamid });
      expect(await repliesTo(customer)).toEqual([MEDIA_NOTICE]);
      const stored = await storedMedia(wamid);
      expect(stored.status).toBe('failed');
      expect(stored.failure).toMatch(new RegExp(`^${reason}: `));
      expect(openai.requests).toEqual([]);
      const metrics = await (await fetch(`${app.url}/metrics`)).text();
      expect(metrics).toMatch(
        new RegExp(
          `clariops_media_failures_total\\{kind="${spec.type}",reason="${reason}"\\} [1-9]`,
        ),
      );
    }

    it('a media id Meta does not know (404)', async () => {
      await failsWith('download-failed', {
        type: 'image',
        body: { id: newMediaId(), mime_type: 'image/jpeg' },
      });
    });

    it("a file over Meta's cap for its kind", async () => {
      const id = newMediaId();
      graph.addMedia(id, jpegImage(), 'image/jpeg', {
        reportedSize: 6 * 1024 * 1024,
      });
      await failsWith('too-large', {
        type: 'image',
        body: { id, mime_type: 'image/jpeg' },
      });
      expect(graph.requestCount('media-download')).toBe(0);
    });

    it('bytes that are not what Meta said they are', async () => {
      const id = newMediaId();
      graph.addMedia(id, await pdfWithText(['not a photo']), 'image/jpeg');
      await failsWith('wrong-type', {
        type: 'image',
        body: { id, mime_type: 'image/jpeg' },
      });
    });

    it('the transcription endpoint failing', async () => {
      const id = newMediaId();
      graph.addMedia(id, oggOpusVoiceNote(), 'audio/ogg; codecs=opus');
      openai.enqueueTranscription({ type: 'error', status: 500 });
      await failsWith('transcription-failed', {
        type: 'audio',
        body: { id, mime_type: 'audio/ogg; codecs=opus', voice: true },
      });
      expect(openai.transcriptions).toHaveLength(1);
    });
  });

  it('answers a burst of mixed media in one turn, with one model call that sees all of it', async () => {
    const customer = newCustomer();
    const [voice, photo, pdf] = [newMediaId(), newMediaId(), newMediaId()];
    graph.addMedia(voice, oggOpusVoiceNote(), 'audio/ogg; codecs=opus');
    graph.addMedia(photo, jpegImage(), 'image/jpeg');
    graph.addMedia(pdf, await pdfWithText(['Invoice 9000']), 'application/pdf');
    openai.enqueueTranscription({
      type: 'text',
      text: 'see the photo and invoice',
    });

    await post(
      customer,
      {
        type: 'audio',
        body: { id: voice, mime_type: 'audio/ogg; codecs=opus', voice: true },
      },
      { type: 'image', body: { id: photo, mime_type: 'image/jpeg' } },
      {
        type: 'document',
        body: { id: pdf, mime_type: 'application/pdf', filename: 'inv.pdf' },
      },
      { type: 'text', text: 'what do I owe?' },
    );

    expect(await repliesTo(customer)).toHaveLength(1);
    const request = await promptFor('what do I owe?');
    const prompt = JSON.stringify(request.messages);
    expect(prompt).toContain('[voice note] see the photo and invoice');
    expect(prompt).toContain('data:image/jpeg;base64,');
    expect(prompt).toContain('[document inv.pdf]');
    expect(prompt).toContain('Invoice 9000');
    expect(openai.requests).toHaveLength(1);
  });
});
