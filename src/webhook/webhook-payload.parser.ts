/**
 * Pure parser for the body of a WhatsApp Cloud API webhook POST.
 *
 * The body is untrusted JSON, so nothing here throws: every value is checked
 * with the small guards below, and anything unusable is skipped. Every
 * `entry[]` and every `changes[]` is walked (never just index 0), and a change
 * may carry `messages`, `statuses` and `errors` together.
 *
 * See shared/reference/whatsapp-cloud-api.md, section 2, for the shapes.
 */

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
  /** How the bot should answer. */
  reply: 'llm' | 'media-notice' | 'none';
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

type UnknownRecord = Record<string, unknown>;
type Reply = ParsedInboundMessage['reply'];

/** What every message in one `changes[].value` shares. */
interface ChangeContext {
  phoneNumberId: string | null;
  contacts: UnknownRecord[];
  isGroup: boolean;
  now: Date;
}

const MEDIA_KINDS: ReadonlySet<string> = new Set([
  'image',
  'video',
  'audio',
  'document',
  'sticker',
]);

/** Kinds the LLM answers, provided they yield some text. */
const CONVERSATIONAL_KINDS: ReadonlySet<string> = new Set([
  'text',
  'interactive',
  'button',
  'location',
  'contacts',
  'order',
]);

// ---------------------------------------------------------------------------
// Guards
// ---------------------------------------------------------------------------

function asRecord(value: unknown): UnknownRecord | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as UnknownRecord)
    : null;
}

/** The object elements of `value` when it is an array; otherwise none. */
function records(value: unknown): UnknownRecord[] {
  if (!Array.isArray(value)) return [];
  const found: UnknownRecord[] = [];
  for (let i = 0; i < value.length; i += 1) {
    const item = asRecord(value[i]);
    if (item) found.push(item);
  }
  return found;
}

/** A trimmed, non-empty string, or null. */
function asText(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
}

/** An identifier such as a wa_id: a non-empty string, or a whole number sent as a JSON number. */
function asId(value: unknown): string | null {
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && value >= 0 ? String(value) : null;
  }
  return asText(value);
}

/** A finite number, sent either as a JSON number or as a numeric string. */
function asNumber(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  const text = asText(value);
  if (
    text === null ||
    !/^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(text)
  ) {
    return null;
  }
  const parsed = Number(text);
  return Number.isFinite(parsed) ? parsed : null;
}

function asInteger(value: unknown): number | null {
  const parsed = asNumber(value);
  return parsed !== null && Number.isSafeInteger(parsed) ? parsed : null;
}

/** Meta's error codes are 32-bit integers; anything else is not one. */
function asErrorCode(value: unknown): number | null {
  const parsed = asInteger(value);
  return parsed !== null && Math.abs(parsed) <= 2_147_483_647 ? parsed : null;
}

function joinPresent(parts: (string | null)[], separator: string): string {
  return parts.filter((part): part is string => part !== null).join(separator);
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

// ---------------------------------------------------------------------------
// Message text, by kind
// ---------------------------------------------------------------------------

type TextExtractor = (message: UnknownRecord) => string | null;

/** Longest piece of customer-supplied text kept in a descriptive line (a value, a name). */
const FIELD_MAX_CHARS = 200;
/** Longest description of a form reply or an order. */
const DESCRIPTION_MAX_CHARS = 1_500;
/** Form fields and order lines listed before the rest is counted. */
const LIST_MAX_ITEMS = 20;

/** `value` cut to `max` characters (an ellipsis marks the cut). */
function bounded(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`;
}

/** A short, single-line field for a bracketed label: no brackets, no line breaks. */
function labelField(value: unknown): string | null {
  const text = asText(value);
  return text === null
    ? null
    : bounded(text.replace(/[[\]\s]+/g, ' ').trim(), FIELD_MAX_CHARS) || null;
}

/**
 * A captioned image, video or document reads as its caption behind a label
 * naming what was attached (`[image] Taj Mahal`, `[document invoice.pdf]
 * Please check`); without a caption there is nothing to answer.
 */
function captionOf(kind: string): TextExtractor {
  return (message) => {
    const media = asRecord(message[kind]);
    const caption = asText(media?.caption);
    if (caption === null) return null;
    const filename = kind === 'document' ? labelField(media?.filename) : null;
    return `[${joinPresent([kind, filename], ' ')}] ${caption}`;
  };
}

function plainText(message: UnknownRecord): string | null {
  return asText(asRecord(message.text)?.body);
}

/** A button_reply or list_reply title, or what a Flow's form (nfm_reply) answered. */
function interactiveText(message: UnknownRecord): string | null {
  const interactive = asRecord(message.interactive);
  return (
    asText(asRecord(interactive?.button_reply)?.title) ??
    asText(asRecord(interactive?.list_reply)?.title) ??
    flowReplyText(asRecord(interactive?.nfm_reply))
  );
}

/** Flow fields that mean nothing to the customer or the model. */
const FLOW_INTERNAL_FIELDS: ReadonlySet<string> = new Set(['flow_token']);

/** `key: value` lines of a form answer, nested objects as `key.inner`. */
function formFields(value: unknown, prefix: string, out: string[]): void {
  const record = asRecord(value);
  if (record) {
    for (const [key, inner] of Object.entries(record)) {
      if (prefix === '' && FLOW_INTERNAL_FIELDS.has(key)) continue;
      formFields(inner, prefix ? `${prefix}.${key}` : key, out);
    }
    return;
  }
  const scalar = Array.isArray(value)
    ? value
        .map((item) => formScalar(item))
        .filter((item): item is string => item !== null)
        .join(', ')
    : formScalar(value);
  if (scalar) out.push(`${labelField(prefix) ?? '?'}: ${scalar}`);
}

function formScalar(value: unknown): string | null {
  if (typeof value === 'number' || typeof value === 'boolean') {
    return String(value);
  }
  return labelField(value);
}

/**
 * A Flow's answer as readable text: `Form reply: name: Ana, date:
 * 2026-12-03`, from `response_json` (a JSON string), bounded; the reply's
 * `body` when the JSON holds nothing readable.
 */
function flowReplyText(reply: UnknownRecord | null): string | null {
  if (!reply) return null;
  const fields: string[] = [];
  const json = asText(reply.response_json);
  if (json !== null) {
    try {
      formFields(JSON.parse(json) as unknown, '', fields);
    } catch {
      // Not JSON: fall back to the body below.
    }
  }
  const shown = fields.slice(0, LIST_MAX_ITEMS);
  const more = fields.length - shown.length;
  const answer =
    shown.length > 0
      ? shown.join(', ') +
        (more > 0 ? ` (and ${String(more)} more fields)` : '')
      : labelField(reply.body);
  return answer === null
    ? null
    : bounded(`Form reply: ${answer}`, DESCRIPTION_MAX_CHARS);
}

function buttonText(message: UnknownRecord): string | null {
  const button = asRecord(message.button);
  return asText(button?.text) ?? asText(button?.payload);
}

function locationText(message: UnknownRecord): string | null {
  const location = asRecord(message.location);
  if (!location) return null;
  const place = joinPresent(
    [asText(location.name), asText(location.address)],
    ', ',
  );
  const latitude = asNumber(location.latitude);
  const longitude = asNumber(location.longitude);
  const coordinates =
    latitude !== null && longitude !== null
      ? `(${String(latitude)}, ${String(longitude)})`
      : null;
  const description = joinPresent([place || null, coordinates], ' ');
  return description ? `Location: ${description}` : null;
}

function describeContactCard(card: UnknownRecord): string | null {
  const name = asRecord(card.name);
  const displayName =
    asText(name?.formatted_name) ??
    asText(
      joinPresent([asText(name?.first_name), asText(name?.last_name)], ' '),
    );
  const phones = records(card.phones)
    .map((phone) => asText(phone.phone) ?? asId(phone.wa_id))
    .filter((phone): phone is string => phone !== null);
  return asText(joinPresent([displayName, phones.join(', ') || null], ' '));
}

function sharedContactsText(message: UnknownRecord): string | null {
  const cards = records(message.contacts)
    .map(describeContactCard)
    .filter((card): card is string => card !== null);
  if (cards.length === 0) return null;
  const label = cards.length === 1 ? 'Shared contact' : 'Shared contacts';
  return `${label}: ${cards.join('; ')}`;
}

function describeOrderItem(item: UnknownRecord): string {
  const quantity = asNumber(item.quantity);
  const price = asNumber(item.item_price);
  const product = labelField(item.product_retailer_id) ?? 'unknown product';
  const each =
    price === null
      ? null
      : `at ${joinPresent([String(price), labelField(item.currency)], ' ')} each`;
  return joinPresent(
    [quantity === null ? null : `${String(quantity)} x`, product, each],
    ' ',
  );
}

/**
 * A cart sent from the catalog: `Order (catalog 1948…): 2 x di9ozbzfi4 at
 * 30 USD each; 1 x nqryix03ez at 25 USD each — note`, bounded.
 */
function orderText(message: UnknownRecord): string | null {
  const order = asRecord(message.order);
  if (!order) return null;
  const items = records(order.product_items);
  const shown = items.slice(0, LIST_MAX_ITEMS).map(describeOrderItem);
  const more = items.length - shown.length;
  const catalog = labelField(order.catalog_id);
  const lines =
    shown.length === 0
      ? 'no items'
      : shown.join('; ') + (more > 0 ? `; and ${String(more)} more items` : '');
  const summary = `Order${catalog ? ` (catalog ${catalog})` : ''}: ${lines}`;
  const note = asText(order.text);
  return bounded(
    note ? `${summary} — ${note}` : summary,
    DESCRIPTION_MAX_CHARS,
  );
}

/**
 * The click-to-WhatsApp ad (or post) the customer came from, as a line the
 * model can use: its headline, body and source. The click id (`ctwa_clid`)
 * stays in the raw message: it is for conversion tracking, not for the reply.
 */
function referralText(message: UnknownRecord): string | null {
  const referral = asRecord(message.referral);
  if (!referral) return null;
  const source = joinPresent(
    [labelField(referral.source_type), labelField(referral.source_url)],
    ' ',
  );
  const ad = joinPresent(
    [
      labelField(referral.headline),
      labelField(referral.body),
      source ? `source: ${source}` : null,
    ],
    ' — ',
  );
  return ad ? `[The customer came from an ad: ${ad}]` : null;
}

/** A Map, so that a `type` such as "constructor" never reaches Object.prototype. */
const TEXT_EXTRACTORS: ReadonlyMap<string, TextExtractor> = new Map([
  ['text', plainText],
  ['interactive', interactiveText],
  ['button', buttonText],
  ['location', locationText],
  ['contacts', sharedContactsText],
  ['order', orderText],
  ['image', captionOf('image')],
  ['video', captionOf('video')],
  ['document', captionOf('document')],
]);

/** What the customer said, with the ad they came from when there was one. */
function extractText(kind: string, message: UnknownRecord): string | null {
  const said = TEXT_EXTRACTORS.get(kind)?.(message) ?? null;
  if (said === null) return null;
  return joinPresent([said, referralText(message)], '\n');
}

function extractMediaId(kind: string, message: UnknownRecord): string | null {
  return MEDIA_KINDS.has(kind) ? asId(asRecord(message[kind])?.id) : null;
}

function decideReply(
  kind: string,
  text: string | null,
  isGroup: boolean,
): Reply {
  if (isGroup) return 'none';
  // A caption is answered like text; media without one gets the notice.
  if (MEDIA_KINDS.has(kind)) return text === null ? 'media-notice' : 'llm';
  if (CONVERSATIONAL_KINDS.has(kind) && text !== null) return 'llm';
  return 'none';
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
    reply: decideReply(kind, text, isGroupMessage(message, context)),
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
