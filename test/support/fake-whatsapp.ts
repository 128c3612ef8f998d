import type { OutboundMessage } from '../../src/whatsapp/outbound-message';
import {
  DownloadedMedia,
  SendResult,
  WhatsappClient,
} from '../../src/whatsapp/whatsapp.client';
import { WhatsappSendError } from '../../src/whatsapp/whatsapp-send.error';

/** A Graph API refusal that must not be retried (e.g. 131026: recipient unknown). */
export const permanentSendError = (
  code = 131026,
  message = 'recipient unknown',
) =>
  new WhatsappSendError({
    message,
    code,
    httpStatus: 400,
    retryable: false,
    details: null,
    fbtraceId: null,
    kind: 'permanent',
  });

/**
 * Records every text it is asked to send and accepts it with a fresh wamid,
 * unless told to refuse a given call (numbered from 1, across the fake's
 * life) with a WhatsappSendError.
 */
export class FakeWhatsapp extends WhatsappClient {
  readonly configured = true;
  /** Every send accepted, in order. */
  readonly sent: Array<{ to: string; text: string; wamid: string }> = [];
  /** Every message accepted, as the port was given it, in order. */
  readonly messages: OutboundMessage[] = [];
  /** Every inbound wamid marked read. */
  readonly read: string[] = [];
  private calls = 0;
  private readonly refusals = new Map<number, WhatsappSendError>();

  /** The `call`-th send (1 = the next one if none was made yet) rejects with `error`. */
  refuseCall(call: number, error: WhatsappSendError = permanentSendError()) {
    this.refusals.set(call, error);
  }

  /** The texts accepted so far. */
  get texts(): string[] {
    return this.sent.map((s) => s.text);
  }

  send(waId: string, message: OutboundMessage): Promise<SendResult> {
    const call = ++this.calls;
    const refusal = this.refusals.get(call);
    if (refusal) return Promise.reject(refusal);
    const wamid = `wamid.out-${call}`;
    const text = message.type === 'text' ? message.body : `[${message.type}]`;
    this.sent.push({ to: waId, text, wamid });
    this.messages.push(structuredClone(message));
    return Promise.resolve({ wamid, waId, response: { call } });
  }

  /** Media a customer "sent", by media id (see addMedia). */
  private readonly media = new Map<
    string,
    { bytes: Buffer; mimeType: string }
  >();
  /** Every media id downloaded, in order. */
  readonly downloads: string[] = [];

  addMedia(mediaId: string, bytes: Buffer, mimeType: string): void {
    this.media.set(mediaId, { bytes, mimeType });
  }

  downloadMedia(mediaId: string, maxBytes: number): Promise<DownloadedMedia> {
    this.downloads.push(mediaId);
    const file = this.media.get(mediaId);
    if (!file) return Promise.reject(new Error(`no media ${mediaId}`));
    if (file.bytes.length > maxBytes) {
      return Promise.reject(
        new Error(`media is over the ${maxBytes}-byte limit`),
      );
    }
    return Promise.resolve({ ...file, sha256: null });
  }

  uploadMedia(): Promise<string> {
    return Promise.reject(new Error('FakeWhatsapp takes no uploads'));
  }

  markRead(wamid: string): Promise<void> {
    this.read.push(wamid);
    return Promise.resolve();
  }
}
