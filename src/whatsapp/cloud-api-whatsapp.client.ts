import { setTimeout as sleep } from 'node:timers/promises';
import { HttpService } from '@nestjs/axios';
import { Injectable, Logger } from '@nestjs/common';
import { isAxiosError } from 'axios';
import {
  isBsuid,
  maskPhoneNumber,
  normalizePhoneNumber,
  toWhatsappRecipient,
} from '../common/phone-number';
import { AppConfig, WhatsappConfig } from '../config/app-config';
import { classifyGraphError, retryDelayMs } from './graph-error.classifier';
import {
  MAX_SEND_RETRY_DELAY_MS,
  SendResult,
  WhatsappClient,
} from './whatsapp.client';
import { SendRateLimiter } from './send-rate.limiter';
import { WhatsappSendError } from './whatsapp-send.error';

/** Meta's pair rate limit: too many messages to one customer. */
const PAIR_RATE_LIMIT = 131056;

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
    config: AppConfig,
  ) {
    super();
    this.settings = config.whatsapp;
  }

  get configured(): boolean {
    return Boolean(this.settings.phoneNumberId && this.settings.accessToken);
  }

  async sendText(waId: string, body: string): Promise<SendResult> {
    const payload = {
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      ...addressOf(waId),
      type: 'text',
      text: { preview_url: false, body },
    };
    for (let attempt = 0; ; attempt++) {
      try {
        await this.limiter.acquire(waId);
        const data = await this.post(payload);
        return toSendResult(data);
      } catch (caught) {
        const error = this.toSendError(caught);
        const lastAttempt = attempt + 1 >= this.settings.sendMaxAttempts;
        if (!error.retryable || lastAttempt) {
          this.logFailure(error, waId, attempt + 1);
          throw error;
        }
        const delay = retryDelayMs(error, attempt, {
          baseMs: this.settings.retryBaseMs,
          maxMs: MAX_SEND_RETRY_DELAY_MS,
        });
        if (error.code === PAIR_RATE_LIMIT) {
          // Every instance holds this customer's messages, as Meta advises.
          await this.limiter.holdRecipient(waId, delay);
        }
        this.logger.warn(
          {
            code: error.code,
            kind: error.kind,
            attempt: attempt + 1,
            delayMs: delay,
            to: maskPhoneNumber(waId),
          },
          `send failed (${error.kind}), retrying in ${delay} ms`,
        );
        await sleep(delay);
      }
    }
  }

  async markRead(wamid: string, typing: boolean): Promise<void> {
    try {
      await this.post({
        messaging_product: 'whatsapp',
        status: 'read',
        message_id: wamid,
        ...(typing && { typing_indicator: { type: 'text' } }),
      });
    } catch (caught) {
      const error = this.toSendError(caught);
      this.logger.warn(
        { code: error.code, kind: error.kind },
        `mark-read failed: ${error.message}`,
      );
    }
  }

  private async post(payload: object): Promise<unknown> {
    const { phoneNumberId, accessToken, apiBaseUrl, apiVersion } =
      this.settings;
    if (!phoneNumberId || !accessToken) {
      throw new WhatsappSendError({
        message:
          'WhatsApp is not configured: set WHATSAPP_PHONE_NUMBER_ID and WHATSAPP_ACCESS_TOKEN',
        code: null,
        httpStatus: null,
        retryable: false,
        details: null,
        fbtraceId: null,
        kind: 'auth',
      });
    }
    // The axios instance itself rather than its Observable wrapper, which
    // creates a cancel token per request and cancels it (building an error)
    // after every response; a turn makes two of these calls per reply.
    const response = await this.http.axiosRef.post(
      `${apiBaseUrl}/${apiVersion}/${phoneNumberId}/messages`,
      payload,
      {
        headers: {
          Authorization: `Bearer ${accessToken}`,
          'Content-Type': 'application/json',
        },
        timeout: this.settings.httpTimeoutMs,
        // The Graph API does not redirect: node's own request, without the
        // layer that follows redirects.
        maxRedirects: 0,
      },
    );
    return response.data;
  }

  private toSendError(caught: unknown): WhatsappSendError {
    if (caught instanceof WhatsappSendError) return caught;
    // Duck-typed: @nestjs/axios may load axios's ESM build, a different class.
    if (isAxiosError(caught)) {
      if (caught.response) {
        return classifyGraphError({
          httpStatus: caught.response.status,
          body: caught.response.data,
        });
      }
      return classifyGraphError({
        httpStatus: null,
        body: null,
        networkError: caught.code ?? caught.message,
      });
    }
    return classifyGraphError({
      httpStatus: null,
      body: null,
      networkError: caught instanceof Error ? caught.message : String(caught),
    });
  }

  private logFailure(error: WhatsappSendError, waId: string, attempts: number) {
    const fields = {
      code: error.code,
      kind: error.kind,
      attempts,
      to: maskPhoneNumber(waId),
      fbtraceId: error.fbtraceId,
    };
    if (error.kind === 'auth') {
      this.logger.error(
        fields,
        `WhatsApp rejected our credentials: refresh WHATSAPP_ACCESS_TOKEN. ${error.message}`,
      );
    } else {
      this.logger.error(fields, `send failed for good: ${error.message}`);
    }
  }
}

/**
 * Who a message goes to: `to` with the phone number when the customer has
 * one, otherwise `recipient` with their business-scoped user id (BSUID), as
 * Meta sends it (`US.13491208655302741918`). A customer key that is neither
 * cannot be sent to, and is not retried.
 */
function addressOf(customerId: string): { to: string } | { recipient: string } {
  if (normalizePhoneNumber(customerId)) {
    return { to: toWhatsappRecipient(customerId) };
  }
  if (isBsuid(customerId)) return { recipient: customerId };
  throw new WhatsappSendError({
    message: `Cannot send to ${maskPhoneNumber(customerId)}: neither a phone number nor a business-scoped user id`,
    code: null,
    httpStatus: null,
    retryable: false,
    details: null,
    fbtraceId: null,
    kind: 'permanent',
  });
}

function toSendResult(data: unknown): SendResult {
  const body = (data ?? {}) as {
    messages?: Array<{ id?: unknown }>;
    contacts?: Array<{ wa_id?: unknown }>;
  };
  const wamid = body.messages?.[0]?.id;
  if (typeof wamid !== 'string' || wamid === '') {
    // Accepted without an id: we cannot track it, and must not resend it.
    throw new WhatsappSendError({
      message: 'WhatsApp Cloud API answered without a message id',
      code: null,
      httpStatus: 200,
      retryable: false,
      details: null,
      fbtraceId: null,
      kind: 'permanent',
    });
  }
  const waId = body.contacts?.[0]?.wa_id;
  return {
    wamid,
    waId: typeof waId === 'string' ? waId : null,
    response: data,
  };
}
