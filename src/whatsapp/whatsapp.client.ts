import type { MediaType, OutboundMessage } from './outbound-message';

/** The longest wait between two attempts to send one message. */
export const MAX_SEND_RETRY_DELAY_MS = 60_000;

export interface SendResult {
  wamid: string;
  /** The recipient's wa_id as Meta resolved it. */
  waId: string | null;
  /** Meta's response body, for callers that return it as-is. */
  response: unknown;
}

/** A media file fetched from the Cloud API. */
export interface DownloadedMedia {
  bytes: Buffer;
  /** What Meta said the file is (`mime_type`). */
  mimeType: string;
  sha256: string | null;
}

export interface SendOptions {
  /** The business number (phone number id) it goes out from; default WHATSAPP_PHONE_NUMBER_ID. */
  from?: string;
}

/** Port: the WhatsApp Cloud API as the rest of the service needs it. */
export abstract class WhatsappClient {
  abstract readonly configured: boolean;
  /**
   * Sends a message to a customer: `to` their wa_id digits when known, else
   * `recipient` their business-scoped user id. Retryable Graph errors are
   * retried with backoff; rejects with a WhatsappSendError otherwise.
   */
  abstract send(
    customerId: string,
    message: OutboundMessage,
    options?: SendOptions,
  ): Promise<SendResult>;
  /** Marks an inbound message read, optionally showing the typing indicator. One attempt. */
  abstract markRead(
    wamid: string,
    typing: boolean,
    options?: SendOptions,
  ): Promise<void>;
  /**
   * Fetches a media file by id: its URL from `GET /{media-id}`, then the
   * bytes with the access token (a fresh URL once when the first has
   * expired). Rejects with a WhatsappSendError (`kind: 'permanent'` for a
   * file over `maxBytes`); retryable errors are retried like sends.
   */
  abstract downloadMedia(
    mediaId: string,
    maxBytes: number,
  ): Promise<DownloadedMedia>;
  /** Uploads a file to `POST /{phone-number-id}/media`; resolves with its media id. */
  abstract uploadMedia(
    file: { bytes: Buffer; mimeType: string; filename: string },
    options?: SendOptions,
  ): Promise<string>;
}

export type { MediaType, OutboundMessage };
