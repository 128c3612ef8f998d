import { FakeWhatsapp } from '../../test/support/fake-whatsapp';
import { DownloadedMedia } from '../whatsapp/whatsapp.client';
import { WhatsappSendError } from '../whatsapp/whatsapp-send.error';
import {
  MAX_OPERATOR_DOWNLOADS,
  OperatorMediaService,
} from './operator-media.service';

const graphError = (code: number, httpStatus: number) =>
  new WhatsappSendError({
    message: `WhatsApp Cloud API error ${code}`,
    code,
    httpStatus,
    retryable: false,
    details: null,
    fbtraceId: null,
    kind: 'permanent',
  });

/** FakeWhatsapp whose downloads wait until the test settles them. */
class SlowMediaWhatsapp extends FakeWhatsapp {
  readonly pending: Array<{
    mediaId: string;
    maxBytes: number;
    resolve: (media: DownloadedMedia) => void;
    reject: (error: unknown) => void;
  }> = [];

  // Optional only because FakeWhatsapp declares downloadMedia without them.
  override downloadMedia(mediaId = '', maxBytes = 0): Promise<DownloadedMedia> {
    return new Promise((resolve, reject) =>
      this.pending.push({ mediaId, maxBytes, resolve, reject }),
    );
  }
}

const file: DownloadedMedia = {
  bytes: Buffer.from('jpeg'),
  mimeType: 'image/jpeg',
  sha256: null,
};

describe('OperatorMediaService', () => {
  let whatsapp: SlowMediaWhatsapp;
  let media: OperatorMediaService;

  beforeEach(() => {
    whatsapp = new SlowMediaWhatsapp();
    media = new OperatorMediaService(whatsapp);
  });

  it("downloads up to Meta's 100 MB media cap", async () => {
    const download = media.fetch('42');
    whatsapp.pending[0]!.resolve(file);
    await expect(download).resolves.toBe(file);
    expect(whatsapp.pending[0]).toMatchObject({
      mediaId: '42',
      maxBytes: 100 * 1024 * 1024,
    });
  });

  it("answers Meta's unknown-object error as media-not-found, and any other failure as media-unavailable", async () => {
    const unknown = media.fetch('1');
    whatsapp.pending[0]!.reject(graphError(100, 400));
    await expect(unknown).rejects.toMatchObject({ code: 'media-not-found' });
    const failed = media.fetch('2');
    whatsapp.pending[1]!.reject(graphError(10, 403));
    await expect(failed).rejects.toMatchObject({ code: 'media-unavailable' });
  });

  it('refuses a download while the most allowed are under way, and takes one again once one ends', async () => {
    const running = Array.from({ length: MAX_OPERATOR_DOWNLOADS }, (_, i) =>
      media.fetch(String(i)),
    );
    await expect(media.fetch('99')).rejects.toMatchObject({
      code: 'media-busy',
    });
    expect(whatsapp.pending).toHaveLength(MAX_OPERATOR_DOWNLOADS);

    whatsapp.pending[0]!.reject(graphError(100, 400));
    await expect(running[0]).rejects.toMatchObject({ code: 'media-not-found' });
    const next = media.fetch('100');
    expect(whatsapp.pending).toHaveLength(MAX_OPERATOR_DOWNLOADS + 1);
    for (const p of whatsapp.pending.slice(1)) p.resolve(file);
    await expect(
      Promise.all([...running.slice(1), next]),
    ).resolves.toHaveLength(MAX_OPERATOR_DOWNLOADS);
  });
});
