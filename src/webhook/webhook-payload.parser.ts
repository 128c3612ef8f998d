/**
 * Pure parser for the body of a WhatsApp Cloud API webhook POST.
 *
 * The body is untrusted JSON, so nothing here throws: every value is checked
 * with the small guards of `payload-values.ts`, and anything unusable is skipped. Every
 * `entry[]` and every `changes[]` is walked (never just index 0), and a change
 * may carry `messages`, `statuses` and `errors` together.
 *
 * See shared/reference/whatsapp-cloud-api.md, section 2, for the shapes.
 */
import {
  asErrorCode,
  asId,
  asNumber,
  asRecord,
  asText,
  records,
  UnknownRecord,
} from './payload-values';
import { extractText } from './message-text';
import { MEDIA_KINDS } from '../inbound/reply-decision';

export interface ParsedInboundMessage {
  /** `messages[].id`. */
  wamid: string;
  /** The `wa_id` digits when known (`from`, else the contact's `wa_id`), else the BSUID. */
  customerId: string;
  /** The BSUID (`from_user_id` or the contact's `user_id`) when present. */
  customerUserId: string | null;
  /** `contacts[].profile.name` of the contact matching the sender. */
  customerName: string | null;
  /** `value.metadata.phone_number_id`. */
  phoneNumberId: string | null;
  /** From the epoch-seconds `timestamp`; the time of parsing when it is missing or invalid. */
  timestamp: Date;
  /** `messages[].type` as sent, or `'unknown'` when missing. */
  kind: string;
  /** What the customer "said", as plain text; null when there is nothing to say. */
  text: string | null;
  /** The media id of an image, video, audio, document or sticker. */
  mediaId: string | null;
  /** Sent in a group (the reply decision answers none of those). */
  isGroup: boolean;
  /** `messages[].context.id`: the message this one replies to. */
  contextWamid: string | null;
  /** The original message object. */
  raw: Record<string, unknown>;
}

export interface ParsedStatusUpdate {
  wamid: string;
  /** sent | delivered | read | failed | played | ..., lower-cased. */
  status: string;
  timestamp: Date;
  recipientId: string | null;
  /** The first of `statuses[].errors[]` when present. */
  error: ParsedError | null;
  raw: Record<string, unknown>;
}

export interface ParsedError {
  code: number | null;
  title: string | null;
  message: string | null;
  details: string | null;
}

export interface ParsedWebhookError extends ParsedError {
  phoneNumberId: string | null;
  raw: Record<string, unknown>;
}

export interface ParsedWebhook {
  messages: ParsedInboundMessage[];
  statuses: ParsedStatusUpdate[];
  errors: ParsedWebhookError[];
}

/** What every message in one `changes[].value` shares. */
interface ChangeContext {
  phoneNumberId: string | null;
  contacts: UnknownRecord[];
  isGroup: boolean;
  now: Date;
}

/** Epoch seconds (string or number) to a Date; a copy of `now` when unusable. */
function parseTimestamp(value: unknown, now: Date): Date {
  const seconds = asNumber(value);
  if (seconds === null || seconds <= 0) return new Date(now.getTime());
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? new Date(now.getTime()) : date;
}

/**
 * Calls `visit` on each object element of `list`. A hostile element (a
 * throwing getter or proxy) is skipped so that the rest of the batch survives.
 */
function forEachRecord(
  list: unknown,
  visit: (item: UnknownRecord) => void,
): void {
  for (const item of records(list)) {
    try {
      visit(item);
    } catch {
      // Skip this element only; the parser must never throw.
    }
  }
}

function extractMediaId(kind: string, message: UnknownRecord): string | null {
  return MEDIA_KINDS.has(kind) ? asId(asRecord(message[kind])?.id) : null;
}

// ---------------------------------------------------------------------------
// Sender identity
// ---------------------------------------------------------------------------

/** The contact for this sender: by wa_id, then by BSUID, then the only contact. */
function findSenderContact(
  contacts: UnknownRecord[],
  from: string | null,
  fromUserId: string | null,
): UnknownRecord | null {
  const byWaId =
    from === null
      ? undefined
      : contacts.find((contact) => asId(contact.wa_id) === from);
  const byUserId =
    fromUserId === null
      ? undefined
      : contacts.find((contact) => asId(contact.user_id) === fromUserId);
  return (
    byWaId ??
    byUserId ??
    (contacts.length === 1 ? contacts[0] : undefined) ??
    null
  );
}

function isGroupMessage(
  message: UnknownRecord,
  context: ChangeContext,
): boolean {
  return (
    context.isGroup ||
    asId(message.group_id) !== null ||
    message.recipient_type === 'group'
  );
}

// ---------------------------------------------------------------------------
// Items
// ---------------------------------------------------------------------------

function parseMessage(
  message: UnknownRecord,
  context: ChangeContext,
): ParsedInboundMessage | null {
  const wamid = asText(message.id);
  if (wamid === null) return null;

  const from = asId(message.from);
  const fromUserId = asId(message.from_user_id);
  const contact = findSenderContact(context.contacts, from, fromUserId);
  const customerUserId = fromUserId ?? asId(contact?.user_id);
  const customerId = from ?? asId(contact?.wa_id) ?? customerUserId;
  if (customerId === null) return null;

  const kind = asText(message.type) ?? 'unknown';
  const text = extractText(kind, message);
  return {
    wamid,
    customerId,
    customerUserId,
    customerName: asText(asRecord(contact?.profile)?.name),
    phoneNumberId: context.phoneNumberId,
    timestamp: parseTimestamp(message.timestamp, context.now),
    kind,
    text,
    mediaId: extractMediaId(kind, message),
    isGroup: isGroupMessage(message, context),
    contextWamid: asText(asRecord(message.context)?.id),
    raw: message,
  };
}

function parseError(error: UnknownRecord): ParsedError {
  return {
    code: asErrorCode(error.code),
    title: asText(error.title),
    message: asText(error.message),
    details: asText(asRecord(error.error_data)?.details),
  };
}

function parseStatus(
  status: UnknownRecord,
  now: Date,
): ParsedStatusUpdate | null {
  const wamid = asText(status.id);
  const state = asText(status.status)?.toLowerCase() ?? null;
  if (wamid === null || state === null) return null;
  const firstError = records(status.errors)[0];
  return {
    wamid,
    status: state,
    timestamp: parseTimestamp(status.timestamp, now),
    recipientId: asId(status.recipient_id),
    error: firstError ? parseError(firstError) : null,
    raw: status,
  };
}

function parseChange(
  change: UnknownRecord,
  now: Date,
  out: ParsedWebhook,
): void {
  const value = asRecord(change.value);
  if (!value) return;

  const field = asText(change.field);
  const context: ChangeContext = {
    phoneNumberId: asId(asRecord(value.metadata)?.phone_number_id),
    contacts: records(value.contacts),
    isGroup:
      (field?.startsWith('group') ?? false) ||
      value.recipient_type === 'group' ||
      asId(value.group_id) !== null,
    now,
  };

  forEachRecord(value.messages, (message) => {
    const parsed = parseMessage(message, context);
    if (parsed) out.messages.push(parsed);
  });
  forEachRecord(value.statuses, (status) => {
    const parsed = parseStatus(status, now);
    if (parsed) out.statuses.push(parsed);
  });
  forEachRecord(value.errors, (error) => {
    out.errors.push({
      ...parseError(error),
      phoneNumberId: context.phoneNumberId,
      raw: error,
    });
  });
}

/**
 * Parses a webhook POST body into inbound messages, status updates and
 * account-level errors. Never throws; anything unusable is left out.
 */
export function parseWebhookPayload(body: unknown): ParsedWebhook {
  const result: ParsedWebhook = { messages: [], statuses: [], errors: [] };
  const now = new Date();
  try {
    forEachRecord(asRecord(body)?.entry, (entry) => {
      forEachRecord(entry.changes, (change) => {
        parseChange(change, now, result);
      });
    });
  } catch {
    // Only a hostile body (for example a revoked proxy) gets here; keep what was parsed.
  }
  return result;
}
