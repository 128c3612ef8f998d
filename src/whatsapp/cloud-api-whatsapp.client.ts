import { setTimeout as sleep } from 'node:timers/promises';
import { HttpService } from '@nestjs/axios';
import { Injectable, Logger } from '@nestjs/common';
import { isAxiosError } from 'axios';
import { WhatsappConfig } from '../config/app-config';
import { PAIR_RATE_LIMIT_CODE, retryDelayMs } from './graph-error.classifier';
import { toGraphMessage } from './graph-payload';
import {
  addressOf,
  notConfigured,
  permanent,
  RetriedJob,
  subjectOf,
  toSendError,
  toSendResult,
} from './graph-response';
import type { OutboundMessage } from './outbound-message';
import {
  DownloadedMedia,
  MAX_SEND_RETRY_DELAY_MS,
  SendOptions,
  SendResult,
  WhatsappClient,
} from './whatsapp.client';
import { SendRateLimiter } from './send-rate.limiter';
import { WhatsappSendError } from './whatsapp-send.error';

/**
 * The Cloud API over HTTP: `POST /{version}/{phone-number-id}/messages`
 * with the access token as a bearer. Errors are classified by Meta's
 * `error.code`; the retryable ones (and network errors / 5xx) are retried
 * with exponential backoff and jitter, a bounded number of times.
 */
@Injectable()
export class CloudApiWhatsappClient extends WhatsappClient {
  private readonly logger = new Logger(CloudApiWhatsappClient.name);
  private readonly settings: WhatsappConfig;

  constructor(
    private readonly http: HttpService,
    private readonly limiter: SendRateLimiter,
    settings: WhatsappConfig,
  ) {
    super();
    this.settings = settings;
  }

  get configured(): boolean {
    return Boolean(this.settings.phoneNumberId && this.settings.accessToken);
  }

  async send(
    waId: string,
    message: OutboundMessage,
    options: SendOptions = {},
  ): Promise<SendResult> {
    const payload = {
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      ...addressOf(waId),
      ...toGraphMessage(message),
    };
    return this.withRetries({ action: 'send', waId }, async () => {
      await this.limiter.acquire(waId);
      return toSendResult(
        await this.post(this.numberPath(options, 'messages'), payload),
      );
    });
  }

  /**
   * Runs `work` until it succeeds, a permanent error, or the last of
   * WHATSAPP_SEND_MAX_ATTEMPTS, waiting with backoff and jitter between
   * attempts. `job` names it in the logs: what it does, and for a send whom
   * it is for (logged masked), or the media it concerns.
   */
  private async withRetries<T>(
    job: RetriedJob,
    work: () => Promise<T>,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await work();
      } catch (caught) {
        const error = toSendError(caught);
        const lastAttempt = attempt + 1 >= this.settings.sendMaxAttempts;
        if (!error.retryable || lastAttempt) {
          this.logFailure(error, job, attempt + 1);
          throw error;
        }
        const delay = retryDelayMs(error, attempt, {
          baseMs: this.settings.retryBaseMs,
          maxMs: MAX_SEND_RETRY_DELAY_MS,
        });
        if (error.code === PAIR_RATE_LIMIT_CODE && job.waId !== undefined) {
          // Every instance holds this customer's messages, as Meta advises.
          await this.limiter.holdRecipient(job.waId, delay);
        }
        this.logger.warn(
          {
            code: error.code,
            kind: error.kind,
            attempt: attempt + 1,
            delayMs: delay,
            ...subjectOf(job),
          },
          `${job.action} failed (${error.kind}), retrying in ${delay} ms`,
        );
        await sleep(delay);
      }
    }
  }

  async markRead(
    wamid: string,
    typing: boolean,
    options: SendOptions = {},
  ): Promise<void> {
    try {
      await this.post(this.numberPath(options, 'messages'), {
        messaging_product: 'whatsapp',
        status: 'read',
        message_id: wamid,
        ...(typing && { typing_indicator: { type: 'text' } }),
      });
    } catch (caught) {
      const error = toSendError(caught);
      this.logger.warn(
        { code: error.code, kind: error.kind },
        `mark-read failed: ${error.message}`,
      );
    }
  }

  async downloadMedia(
    mediaId: string,
    maxBytes: number,
  ): Promise<DownloadedMedia> {
    return this.withRetries({ action: 'media download', mediaId }, async () => {
      const info = await this.mediaInfo(mediaId, maxBytes);
      try {
        return await this.fetchMedia(info, maxBytes);
      } catch (caught) {
        // Meta's URLs live about five minutes: a 404 asks for a fresh one.
        if (!isAxiosError(caught) || caught.response?.status !== 404) {
          throw caught;
        }
        return this.fetchMedia(
          await this.mediaInfo(mediaId, maxBytes),
          maxBytes,
        );
      }
    });
  }

  async uploadMedia(
    file: { bytes: Buffer; mimeType: string; filename: string },
    options: SendOptions = {},
  ): Promise<string> {
    const form = new FormData();
    form.append('messaging_product', 'whatsapp');
    form.append('type', file.mimeType);
    form.append(
      'file',
      new Blob([new Uint8Array(file.bytes)], { type: file.mimeType }),
      file.filename,
    );
    const data = (await this.withRetries({ action: 'media upload' }, () =>
      this.post(this.numberPath(options, 'media'), form),
    )) as { id?: unknown };
    if (typeof data?.id !== 'string' || data.id === '') {
      throw permanent(
        'WhatsApp Cloud API answered an upload without a media id',
      );
    }
    return data.id;
  }

  private async mediaInfo(mediaId: string, maxBytes: number) {
    const { data } = await this.http.axiosRef.get<{
      url?: unknown;
      mime_type?: unknown;
      sha256?: unknown;
      file_size?: unknown;
    }>(`${this.graphUrl()}/${encodeURIComponent(mediaId)}`, this.request());
    if (typeof data?.url !== 'string' || !/^https?:\/\//.test(data.url)) {
      throw permanent(`WhatsApp Cloud API gave no URL for media ${mediaId}`);
    }
    const size = Number(data.file_size);
    if (Number.isFinite(size) && size > maxBytes) {
      throw permanent(
        `media ${mediaId} is ${size} bytes, over the ${maxBytes}-byte limit`,
      );
    }
    return {
      url: data.url,
      mimeType: typeof data.mime_type === 'string' ? data.mime_type : '',
      sha256: typeof data.sha256 === 'string' ? data.sha256 : null,
    };
  }

  private async fetchMedia(
    info: { url: string; mimeType: string; sha256: string | null },
    maxBytes: number,
  ): Promise<DownloadedMedia> {
    const response = await this.http.axiosRef
      .get<ArrayBuffer>(info.url, {
        ...this.request(),
        responseType: 'arraybuffer',
        // Stops reading past the cap instead of holding the whole file.
        maxContentLength: maxBytes,
      })
      .catch((caught: unknown) => {
        if (isAxiosError(caught) && /maxContentLength/.test(caught.message)) {
          throw permanent(`media is over the ${maxBytes}-byte limit`);
        }
        throw caught;
      });
    return {
      bytes: Buffer.from(response.data),
      mimeType: info.mimeType,
      sha256: info.sha256,
    };
  }

  /** `/{phone-number-id}/{edge}` of the sending number. */
  private numberPath(options: SendOptions, edge: 'messages' | 'media') {
    const from = options.from ?? this.settings.phoneNumberId;
    if (!from) throw notConfigured();
    return `/${encodeURIComponent(from)}/${edge}`;
  }

  private graphUrl() {
    return `${this.settings.apiBaseUrl}/${this.settings.apiVersion}`;
  }

  private request() {
    const { accessToken } = this.settings;
    if (!accessToken) throw notConfigured();
    return {
      headers: { Authorization: `Bearer ${accessToken}` },
      timeout: this.settings.httpTimeoutMs,
      // The Graph API does not redirect: node's own request, without the
      // layer that follows redirects.
      maxRedirects: 0,
    };
  }

  private async post(path: string, payload: object): Promise<unknown> {
    // The axios instance itself rather than its Observable wrapper, which
    // creates a cancel token per request and cancels it (building an error)
    // after every response; a turn makes two of these calls per reply.
    const response = await this.http.axiosRef.post(
      `${this.graphUrl()}${path}`,
      payload,
      this.request(),
    );
    return response.data;
  }

  private logFailure(
    error: WhatsappSendError,
    job: RetriedJob,
    attempts: number,
  ) {
    const fields = {
      code: error.code,
      kind: error.kind,
      attempts,
      ...subjectOf(job),
      fbtraceId: error.fbtraceId,
    };
    if (error.kind === 'auth') {
      this.logger.error(
        fields,
        `WhatsApp rejected our credentials: refresh WHATSAPP_ACCESS_TOKEN. ${error.message}`,
      );
    } else {
      this.logger.error(
        fields,
        `${job.action} failed for good: ${error.message}`,
      );
    }
  }
}
