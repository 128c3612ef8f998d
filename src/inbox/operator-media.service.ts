import { Injectable } from '@nestjs/common';
import { DomainError } from '../common/domain.error';
import { INBOUND_MEDIA_MAX_BYTES } from '../whatsapp/media-limits';
import { DownloadedMedia, WhatsappClient } from '../whatsapp/whatsapp.client';
import { WhatsappSendError } from '../whatsapp/whatsapp-send.error';

/**
 * Meta's answer to `GET /{media-id}` for an id it does not know (or that
 * has expired): `(#100)` with subcode 33, "Object with ID … does not exist".
 */
const UNKNOWN_OBJECT_CODE = 100;

/** Media files for operators: what a customer sent, or what was uploaded. */
@Injectable()
export class OperatorMediaService {
  constructor(private readonly whatsapp: WhatsappClient) {}

  /**
   * The file's bytes and type, from Meta, up to Meta's own 100 MB cap on
   * media (held in memory: the port returns bytes, not a stream). Rejects
   * with `media-not-found` when Meta does not know the id, and
   * `media-unavailable` when Meta fails.
   */
  async fetch(mediaId: string): Promise<DownloadedMedia> {
    try {
      return await this.whatsapp.downloadMedia(
        mediaId,
        INBOUND_MEDIA_MAX_BYTES,
      );
    } catch (error) {
      if (!(error instanceof WhatsappSendError)) throw error;
      if (error.code === UNKNOWN_OBJECT_CODE) {
        throw new DomainError(
          `WhatsApp has no media ${mediaId} (media ids expire: 7 days after a customer sent them, 30 after an upload)`,
          'media-not-found',
        );
      }
      throw new DomainError(
        `WhatsApp did not give media ${mediaId}: ${error.message}`,
        'media-unavailable',
      );
    }
  }
}
