import { isAxiosError } from 'axios';
import {
  isBsuid,
  maskPhoneNumber,
  normalizePhoneNumber,
  toWhatsappRecipient,
} from '../common/phone-number';
import { classifyGraphError } from './graph-error.classifier';
import type { SendResult } from './whatsapp.client';
import { WhatsappSendError } from './whatsapp-send.error';

/** How the Cloud API client reads Meta's answers and names what it sends to. */

/** Any failure of a Graph call as a classified WhatsappSendError. */
export function toSendError(caught: unknown): WhatsappSendError {
  if (caught instanceof WhatsappSendError) return caught;
  // Duck-typed: @nestjs/axios may load axios's ESM build, a different class.
  if (isAxiosError(caught)) {
    if (caught.response) {
      return classifyGraphError({
        httpStatus: caught.response.status,
        body: asText(caught.response.data),
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

/** A call withRetries runs: a send to a customer, or a media download or upload. */
export interface RetriedJob {
  action: 'send' | 'media download' | 'media upload';
  waId?: string;
  mediaId?: string;
}

/** What a log line says a job concerns: the customer masked, or the media id. */
export function subjectOf(job: RetriedJob): { to?: string; mediaId?: string } {
  if (job.waId !== undefined) return { to: maskPhoneNumber(job.waId) };
  if (job.mediaId !== undefined) return { mediaId: job.mediaId };
  return {};
}

/**
 * Who a message goes to: `to` with the phone number when the customer has
 * one, otherwise `recipient` with their business-scoped user id (BSUID), as
 * Meta sends it (`US.13491208655302741918`). A customer key that is neither
 * cannot be sent to, and is not retried.
 */
export function addressOf(
  customerId: string,
): { to: string } | { recipient: string } {
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

/**
 * A media download asks for an `arraybuffer`, so its error bodies (Meta's
 * JSON error, with the code the classifier decides by) arrive as bytes.
 */
function asText(data: unknown): unknown {
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  if (ArrayBuffer.isView(data)) {
    return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString(
      'utf8',
    );
  }
  return data;
}

export const notConfigured = () =>
  new WhatsappSendError({
    message:
      'WhatsApp is not configured: set WHATSAPP_PHONE_NUMBER_ID and WHATSAPP_ACCESS_TOKEN',
    code: null,
    httpStatus: null,
    retryable: false,
    details: null,
    fbtraceId: null,
    kind: 'auth',
  });

export const permanent = (message: string) =>
  new WhatsappSendError({
    message,
    code: null,
    httpStatus: null,
    retryable: false,
    details: null,
    fbtraceId: null,
    kind: 'permanent',
  });

export function toSendResult(data: unknown): SendResult {
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
