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

/**
 * Downloads for operators at once, per instance: each may hold up to
 * 100 MB in memory while it is answered.
 */
export const MAX_OPERATOR_DOWNLOADS = 4;

/** Media files for operators: what a customer sent, or what was uploaded. */
@Injectable()
export class OperatorMediaService {
  private inFlight = 0;

  constructor(private readonly whatsapp: WhatsappClient) {}

  /**
   * The file's bytes and type, from Meta, up to Meta's own 100 MB cap on
   * media (held in memory: the port returns bytes, not a stream). Rejects
   * with `media-not-found` when Meta does not know the id,
   * `media-unavailable` when Meta fails, and `media-busy` while
   * MAX_OPERATOR_DOWNLOADS downloads are under way.
   */
  async fetch(mediaId: string): Promise<DownloadedMedia> {
    if (!this.whatsapp.configured) {
      throw new DomainError(
        'WhatsApp is not configured: set WHATSAPP_PHONE_NUMBER_ID and WHATSAPP_ACCESS_TOKEN',
        'whatsapp-not-configured',
      );
    }
    if (this.inFlight >= MAX_OPERATOR_DOWNLOADS) {
      throw new DomainError(
        `Too many media downloads at once (${MAX_OPERATOR_DOWNLOADS}): try again shortly`,
        'media-busy',
      );
    }
    this.inFlight += 1;
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
    } finally {
      this.inFlight -= 1;
    }
  }
}
