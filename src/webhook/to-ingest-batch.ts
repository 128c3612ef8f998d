import type { IngestBatch } from '../inbound/ingest.types';
import { decideReply } from '../inbound/reply-decision';
import type { ParsedWebhook } from './webhook-payload.parser';

/**
 * PostgreSQL cannot store U+0000, nor a lone UTF-16 surrogate, in text or
 * jsonb; a payload carrying one must not poison the transaction it shares
 * with other webhooks. Lone surrogates become U+FFFD.
 */
export function withoutNul<T>(value: T): T {
  // Almost every payload is clean: check without copying first.
  return isClean(value) ? value : cleaned(value);
}

function isClean(value: unknown): boolean {
  if (typeof value === 'string') {
    return value.isWellFormed() && !value.includes('\u0000');
  }
  if (Array.isArray(value)) return value.every(isClean);
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    for (const [k, v] of Object.entries(value)) {
      if (!isClean(k) || !isClean(v)) return false;
    }
  }
  return true;
}

function cleaned<T>(value: T): T {
  if (typeof value === 'string') {
    return value.replaceAll('\u0000', '').toWellFormed() as T;
  }
  if (Array.isArray(value)) return value.map((v) => cleaned(v)) as T;
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [cleaned(k), cleaned(v)]),
    ) as T;
  }
  return value;
}

/**
 * What ingest stores, from what the parser found, with the reply decision
 * for each message: one for a business number `answers` refuses is stored
 * `not-served`.
 */
export function toIngestBatch(
  parsed: ParsedWebhook,
  answers: (phoneNumberId: string | null) => boolean,
): IngestBatch {
  return withoutNul({
    messages: parsed.messages.map((m) => ({
      wamid: m.wamid,
      customerWaId: m.customerId,
      customerName: m.customerName,
      timestamp: m.timestamp,
      kind: m.kind,
      text: m.text,
      mediaId: m.mediaId,
      reply: answers(m.phoneNumberId)
        ? decideReply(m)
        : ('not-served' as const),
      raw: m.raw,
    })),
    statuses: parsed.statuses.map((s) => ({
      wamid: s.wamid,
      status: s.status,
      timestamp: s.timestamp,
      error: s.error,
      raw: s.raw,
    })),
    errors: parsed.errors.map((e) => ({
      phoneNumberId: e.phoneNumberId,
      code: e.code,
      title: e.title,
      message: e.message,
      details: e.details,
      raw: e.raw,
    })),
  });
}
