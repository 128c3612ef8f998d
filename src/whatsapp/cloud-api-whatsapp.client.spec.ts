import { HttpService } from '@nestjs/axios';
import { Logger } from '@nestjs/common';
import axios from 'axios';
import { FakeGraphApi } from '../../test/fakes/fake-graph-api';
import type { WhatsappConfig } from '../config/app-config';
import { CloudApiWhatsappClient } from './cloud-api-whatsapp.client';
import { InMemorySendRateLimiter } from './in-memory-send-rate.limiter';
import type { OutboundMessage } from './outbound-message';
import { WhatsappSendError } from './whatsapp-send.error';

const VERSION = 'v25.0';
const PHONE_ID = '106540352242922';
const OTHER_PHONE_ID = '106540352242999';
const TOKEN = 'test-access-token';
const CUSTOMER = '16505551234';
const BSUID = 'US.13491208655302741918';
const MEDIA_ID = '1003383421387256';
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 1]);

describe('CloudApiWhatsappClient against the fake Graph API', () => {
  let graph: FakeGraphApi;
  let http: ReturnType<typeof axios.create>;
  let client: CloudApiWhatsappClient;

  const settings = (
    overrides: Partial<WhatsappConfig> = {},
  ): WhatsappConfig => ({
    phoneNumberId: PHONE_ID,
    businessAccountId: null,
    accessToken: TOKEN,
    verifyToken: null,
    appSecret: null,
    apiBaseUrl: graph.baseUrl,
    apiVersion: VERSION,
    sendMaxAttempts: 3,
    retryBaseMs: 1,
    httpTimeoutMs: 5000,
    messagesPerSecond: 1000,
    ...overrides,
  });

  const rejection = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('expected a rejection');
      },
      (error: unknown) => error as WhatsappSendError,
    );

  beforeAll(() => {
    // The retries and failures below are expected; their logs are noise here.
    Logger.overrideLogger(false);
  });

  afterAll(() => {
    Logger.overrideLogger(true);
  });

  beforeEach(async () => {
    graph = await FakeGraphApi.start({ version: VERSION, accessToken: TOKEN });
    http = axios.create();
    client = new CloudApiWhatsappClient(
      // @nestjs/axios types its instance from axios's ESM declarations, this
      // file gets the CommonJS ones: the same object at run time.
      new HttpService(http as unknown as HttpService['axiosRef']),
      new InMemorySendRateLimiter(1000),
      settings(),
    );
  });

  afterEach(async () => {
    await graph.close();
  });

  describe('send', () => {
    const sendsAndIsAccepted = async (
      message: OutboundMessage,
      expected: Record<string, unknown>,
    ) => {
      const result = await client.send(CUSTOMER, message);

      expect(graph.violations).toEqual([]);
      expect(graph.sentPayloads()).toEqual([
        {
          phoneNumberId: PHONE_ID,
          to: `+${CUSTOMER}`,
          recipient: null,
          type: expected.type,
          payload: {
            messaging_product: 'whatsapp',
            recipient_type: 'individual',
            to: `+${CUSTOMER}`,
            ...expected,
          },
          wamid: result.wamid,
        },
      ]);
      expect(result.waId).toBe(CUSTOMER);
    };

    it('sends a text from WHATSAPP_PHONE_NUMBER_ID and returns the wamid', async () => {
      await sendsAndIsAccepted(
        { type: 'text', body: 'Hello' },
        { type: 'text', text: { preview_url: false, body: 'Hello' } },
      );
      expect(graph.sentMessages()).toEqual([
        expect.objectContaining({ phoneNumberId: PHONE_ID, body: 'Hello' }),
      ]);
    });

    it('sends an image by link with its caption', async () => {
      await sendsAndIsAccepted(
        {
          type: 'media',
          mediaType: 'image',
          source: { link: 'https://example.com/shop.jpg' },
          caption: 'Our shop',
        },
        {
          type: 'image',
          image: { link: 'https://example.com/shop.jpg', caption: 'Our shop' },
        },
      );
    });

    it('sends a document by id with its caption and filename', async () => {
      await sendsAndIsAccepted(
        {
          type: 'media',
          mediaType: 'document',
          source: { id: '1013859600285441' },
          caption: 'Your invoice',
          filename: 'invoice.pdf',
        },
        {
          type: 'document',
          document: {
            id: '1013859600285441',
            caption: 'Your invoice',
            filename: 'invoice.pdf',
          },
        },
      );
    });

    it('sends a voice note by id without the caption audio does not take', async () => {
      await sendsAndIsAccepted(
        {
          type: 'media',
          mediaType: 'audio',
          source: { id: '55' },
          caption: 'dropped',
        },
        { type: 'audio', audio: { id: '55' } },
      );
    });

    it('sends a template with its language and components', async () => {
      const components = [
        { type: 'body', parameters: [{ type: 'text', text: 'John' }] },
      ];
      await sendsAndIsAccepted(
        {
          type: 'template',
          name: 'order_update',
          language: 'en_US',
          components,
        },
        {
          type: 'template',
          template: {
            name: 'order_update',
            language: { code: 'en_US' },
            components,
          },
        },
      );
    });

    it('sends reply buttons with a header and a footer', async () => {
      await sendsAndIsAccepted(
        {
          type: 'interactive',
          header: 'Delivery',
          body: 'Shall we come tomorrow?',
          footer: 'Any time',
          action: {
            buttons: [
              { id: 'yes', title: 'Yes' },
              { id: 'no', title: 'No' },
            ],
          },
        },
        {
          type: 'interactive',
          interactive: {
            type: 'button',
            header: { type: 'text', text: 'Delivery' },
            body: { text: 'Shall we come tomorrow?' },
            footer: { text: 'Any time' },
            action: {
              buttons: [
                { type: 'reply', reply: { id: 'yes', title: 'Yes' } },
                { type: 'reply', reply: { id: 'no', title: 'No' } },
              ],
            },
          },
        },
      );
    });

    it('sends a list of sections', async () => {
      const sections = [
        {
          title: 'Drinks',
          rows: [
            { id: 'tea', title: 'Tea', description: 'Green or black' },
            { id: 'coffee', title: 'Coffee' },
          ],
        },
        { title: 'Food', rows: [{ id: 'cake', title: 'Cake' }] },
      ];
      await sendsAndIsAccepted(
        {
          type: 'interactive',
          body: 'What would you like?',
          action: { button: 'Menu', sections },
        },
        {
          type: 'interactive',
          interactive: {
            type: 'list',
            body: { text: 'What would you like?' },
            action: { button: 'Menu', sections },
          },
        },
      );
    });

    it('sends from another business number when `from` is given', async () => {
      await client.send(
        CUSTOMER,
        { type: 'text', body: 'From the other shop' },
        { from: OTHER_PHONE_ID },
      );
      await client.send(CUSTOMER, { type: 'text', body: 'From the default' });

      expect(graph.violations).toEqual([]);
      expect(graph.sentPayloads().map((s) => s.phoneNumberId)).toEqual([
        OTHER_PHONE_ID,
        PHONE_ID,
      ]);
    });

    it('addresses a customer known only by a business-scoped user id with `recipient`', async () => {
      const result = await client.send(BSUID, { type: 'text', body: 'Hi' });

      expect(graph.violations).toEqual([]);
      const [sent] = graph.sentPayloads();
      expect(sent?.recipient).toBe(BSUID);
      expect(sent?.payload).not.toHaveProperty('to');
      expect(sent?.payload.recipient).toBe(BSUID);
      expect(result.waId).toBeNull();
    });

    it('retries a retryable Graph error and sends once it passes', async () => {
      graph.failNext(1, { status: 500, code: 131000 });

      const result = await client.send(CUSTOMER, { type: 'text', body: 'x' });

      expect(result.wamid).toMatch(/^wamid\./);
      expect(graph.requestCount('messages')).toBe(2);
      expect(graph.sentPayloads()).toHaveLength(1);
    });

    it('does not retry a message Meta rejects as invalid', async () => {
      const error = await rejection(
        client.send(CUSTOMER, {
          type: 'interactive',
          body: 'Too many',
          action: {
            buttons: ['a', 'b', 'c', 'd'].map((id) => ({ id, title: id })),
          },
        }),
      );

      expect(error).toBeInstanceOf(WhatsappSendError);
      expect(error).toMatchObject({ code: 100, retryable: false });
      expect(graph.requestCount('messages')).toBe(1);
    });
  });

  describe('markRead', () => {
    it('marks a message read with the typing indicator from the number given', async () => {
      await client.markRead('wamid.IN', true, { from: OTHER_PHONE_ID });
      await client.markRead('wamid.IN2', false);

      expect(graph.violations).toEqual([]);
      expect(graph.readReceipts()).toEqual([
        { phoneNumberId: OTHER_PHONE_ID, messageId: 'wamid.IN', typing: true },
        { phoneNumberId: PHONE_ID, messageId: 'wamid.IN2', typing: false },
      ]);
    });
  });

  describe('downloadMedia', () => {
    beforeEach(() => {
      graph.addMedia(MEDIA_ID, JPEG, 'image/jpeg');
    });

    /** Expires every URL right after each of the first `times` media-info answers. */
    const expireUrlsAfterMediaInfo = (times: number) => {
      let left = times;
      http.interceptors.response.use((response) => {
        if (left > 0 && response.config.url?.endsWith(`/${MEDIA_ID}`)) {
          left -= 1;
          graph.expireMediaUrls();
        }
        return response;
      });
    };

    it('downloads a file: its bytes, mime type and SHA-256', async () => {
      const media = await client.downloadMedia(MEDIA_ID, 1024);

      expect(media.bytes).toEqual(JPEG);
      expect(media.mimeType).toBe('image/jpeg');
      expect(media.sha256).toBe(graph.mediaFile(MEDIA_ID)?.sha256);
      expect(graph.requestCount('media-info')).toBe(1);
      expect(graph.requestCount('media-download')).toBe(1);
      expect(graph.violations).toEqual([]);
    });

    it('fetches a fresh URL once when the first has expired, and succeeds', async () => {
      expireUrlsAfterMediaInfo(1);

      const media = await client.downloadMedia(MEDIA_ID, 1024);

      expect(media.bytes).toEqual(JPEG);
      expect(graph.requestCount('media-info')).toBe(2);
      expect(graph.requestCount('media-download')).toBe(2);
    });

    it('gives up, without retrying, when the fresh URL has expired too', async () => {
      expireUrlsAfterMediaInfo(10);

      const error = await rejection(client.downloadMedia(MEDIA_ID, 1024));

      expect(error).toBeInstanceOf(WhatsappSendError);
      expect(error.retryable).toBe(false);
      expect(graph.requestCount('media-info')).toBe(2);
      expect(graph.requestCount('media-download')).toBe(2);
    });

    it('refuses a file over maxBytes as permanent, without downloading or retrying', async () => {
      const error = await rejection(
        client.downloadMedia(MEDIA_ID, JPEG.length - 1),
      );

      expect(error).toBeInstanceOf(WhatsappSendError);
      expect(error).toMatchObject({ kind: 'permanent', retryable: false });
      expect(graph.requestCount('media-info')).toBe(1);
      expect(graph.requestCount('media-download')).toBe(0);
    });

    it('stops reading a file whose size Meta did not give once it passes maxBytes', async () => {
      graph.addMedia(MEDIA_ID, Buffer.alloc(64 * 1024, 1), 'image/jpeg', {
        reportedSize: null,
      });

      const error = await rejection(client.downloadMedia(MEDIA_ID, 1024));

      expect(error).toBeInstanceOf(WhatsappSendError);
      expect(error).toMatchObject({ kind: 'permanent', retryable: false });
      expect(graph.requestCount('media-info')).toBe(1);
      expect(graph.requestCount('media-download')).toBe(1);
    });

    it('fails on an unknown media id with Meta’s code 100, asking once', async () => {
      const error = await rejection(client.downloadMedia('999999', 1024));

      expect(error).toBeInstanceOf(WhatsappSendError);
      expect(error).toMatchObject({ code: 100, retryable: false });
      expect(graph.requestCount('media-info')).toBe(1);
    });

    it('logs a failed download with its media id, not as a send to a phone number', async () => {
      const errors: unknown[][] = [];
      Logger.overrideLogger({
        log: () => undefined,
        warn: () => undefined,
        error: (...args: unknown[]) => errors.push(args),
      });
      try {
        await rejection(client.downloadMedia('999999', 1024));
      } finally {
        Logger.overrideLogger(false);
      }

      expect(errors).toHaveLength(1);
      const [fields, message] = errors[0] ?? [];
      expect(fields).toMatchObject({ code: 100, mediaId: '999999' });
      expect(fields).not.toHaveProperty('to');
      expect(message).toMatch(/^media download failed for good/);
    });

    it('retries a retryable Graph error on the media info, then downloads', async () => {
      graph.failNextOn('media-info', 1, { status: 503, code: 2 });

      const media = await client.downloadMedia(MEDIA_ID, 1024);

      expect(media.bytes).toEqual(JPEG);
      expect(graph.requestCount('media-info')).toBe(2);
    });

    it('stops after WHATSAPP_SEND_MAX_ATTEMPTS when the media info keeps failing', async () => {
      graph.failNextOn('media-info', 10, { status: 503, code: 2 });

      const error = await rejection(client.downloadMedia(MEDIA_ID, 1024));

      expect(error).toMatchObject({ code: 2, retryable: true });
      expect(graph.requestCount('media-info')).toBe(3);
    });

    it('retries a retryable Graph error on the media URL, read from its byte body', async () => {
      // HTTP 400 alone is permanent: only Meta's code 131000 says retry.
      graph.failNextOn('media-download', 1, { status: 400, code: 131000 });

      const media = await client.downloadMedia(MEDIA_ID, 1024);

      expect(media.bytes).toEqual(JPEG);
      expect(graph.requestCount('media-download')).toBe(2);
    });

    it('reports a rejected token on the media URL as an auth error', async () => {
      graph.failNextOn('media-download', 1, { status: 401, code: 190 });

      const error = await rejection(client.downloadMedia(MEDIA_ID, 1024));

      expect(error).toMatchObject({ kind: 'auth', code: 190 });
      expect(graph.requestCount('media-download')).toBe(1);
    });
  });

  describe('uploadMedia', () => {
    const pdf = {
      bytes: Buffer.from('%PDF-1.4\n%\u00e2\u00e3\n', 'latin1'),
      mimeType: 'application/pdf',
      filename: 'invoice.pdf',
    };

    it('uploads a file to the default number and returns the new media id', async () => {
      const id = await client.uploadMedia(pdf);

      expect(graph.violations).toEqual([]);
      expect(graph.mediaFile(id)).toMatchObject({
        bytes: pdf.bytes,
        mimeType: 'application/pdf',
        filename: 'invoice.pdf',
        phoneNumberId: PHONE_ID,
      });
    });

    it('uploads to the business number given in `from`', async () => {
      const id = await client.uploadMedia(pdf, { from: OTHER_PHONE_ID });

      expect(graph.mediaFile(id)?.phoneNumberId).toBe(OTHER_PHONE_ID);
    });

    it('retries a retryable error and uploads the whole file again', async () => {
      graph.failNextOn('media-upload', 1, { status: 500, code: 1 });

      const id = await client.uploadMedia(pdf);

      expect(graph.violations).toEqual([]);
      expect(graph.requestCount('media-upload')).toBe(2);
      expect(graph.mediaFile(id)?.bytes).toEqual(pdf.bytes);
    });

    it('sends the uploaded id in a media message the fake accepts', async () => {
      const id = await client.uploadMedia(pdf);

      await client.send(CUSTOMER, {
        type: 'media',
        mediaType: 'document',
        source: { id },
        filename: 'invoice.pdf',
      });

      expect(graph.violations).toEqual([]);
      expect(graph.sentPayloads()[0]?.payload.document).toEqual({
        id,
        filename: 'invoice.pdf',
      });
    });
  });
});
