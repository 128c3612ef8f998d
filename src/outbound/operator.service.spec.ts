import { Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { validateEnv } from '../config/validate-env';
import { InProcessDomainEvents } from '../events/in-process-domain.events';
import {
  FakeWhatsapp,
  permanentSendError,
} from '../../test/support/fake-whatsapp';
import { InMemoryWorld } from '../../test/support/in-memory-stores';
import { OperatorService } from './operator.service';
import { OutboxService } from './outbox.service';

const config = new AppConfig(validateEnv({}));

/** FakeWhatsapp that also takes uploads, giving each a fresh media id. */
class UploadingWhatsapp extends FakeWhatsapp {
  readonly uploads: Array<{
    bytes: Buffer;
    mimeType: string;
    filename: string;
  }> = [];
  refuseUploads = false;

  // Optional only because FakeWhatsapp declares uploadMedia without one.
  override uploadMedia(file?: {
    bytes: Buffer;
    mimeType: string;
    filename: string;
  }): Promise<string> {
    if (this.refuseUploads || !file) {
      return Promise.reject(permanentSendError(131053, 'media upload error'));
    }
    this.uploads.push(file);
    return Promise.resolve(`90000${this.uploads.length}`);
  }
}

describe('OperatorService media sends', () => {
  let world: InMemoryWorld;
  let whatsapp: UploadingWhatsapp;
  let operator: OperatorService;
  const customer = '4860300002';

  beforeEach(() => {
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    world = new InMemoryWorld();
    whatsapp = new UploadingWhatsapp();
    const events = new InProcessDomainEvents();
    operator = new OperatorService(
      world.conversations,
      world.outbox,
      new OutboxService(world.outbox, whatsapp, events),
      config.conversation,
      whatsapp,
    );
  });
  afterEach(() => jest.restoreAllMocks());

  it('records a media message with its type as kind and a context text, and sends what it recorded', async () => {
    const result = await operator.sendMediaToCustomer(customer, {
      mediaType: 'document',
      source: { link: 'https://example.com/terms.pdf' },
      caption: 'Our terms',
      filename: 'terms.pdf',
    });
    const [stored] = world.outboundOf(result.conversationId);
    expect(stored).toMatchObject({
      author: 'operator',
      kind: 'document',
      text: '[document terms.pdf] Our terms',
      status: 'sent',
    });
    expect(whatsapp.messages).toEqual([
      {
        type: 'media',
        mediaType: 'document',
        source: { link: 'https://example.com/terms.pdf' },
        caption: 'Our terms',
        filename: 'terms.pdf',
      },
    ]);
  });

  it('uploads a file first, named after its type when no name is given, and sends it by the new id', async () => {
    const bytes = Buffer.from('fake jpeg');
    await operator.sendMediaToCustomer(customer, {
      mediaType: 'image',
      source: { upload: { bytes, mimeType: 'image/jpeg' } },
    });
    expect(whatsapp.uploads).toEqual([
      { bytes, mimeType: 'image/jpeg', filename: 'image.jpg' },
    ]);
    expect(whatsapp.messages).toEqual([
      { type: 'media', mediaType: 'image', source: { id: '900001' } },
    ]);
  });

  it('records nothing, not even a conversation, when Meta refuses the upload', async () => {
    whatsapp.refuseUploads = true;
    await expect(
      operator.sendMediaToCustomer(customer, {
        mediaType: 'image',
        source: { upload: { bytes: Buffer.from('x'), mimeType: 'image/png' } },
      }),
    ).rejects.toMatchObject({
      code: 'whatsapp-send-failed',
      message: expect.stringMatching(/did not accept the upload/),
    });
    expect(world.conversationRows).toEqual([]);
    expect(world.messageRows).toEqual([]);
    expect(whatsapp.messages).toEqual([]);
  });

  it('answers a refused send with whatsapp-send-failed and keeps the message as failed', async () => {
    whatsapp.refuseCall(1);
    await expect(
      operator.sendMediaToCustomer(customer, {
        mediaType: 'sticker',
        source: { id: '42' },
      }),
    ).rejects.toMatchObject({ code: 'whatsapp-send-failed' });
    expect(world.messageRows).toMatchObject([
      { kind: 'sticker', text: '[sticker]', status: 'failed' },
    ]);
  });
});
