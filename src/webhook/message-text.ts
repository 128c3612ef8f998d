/**
 * What a customer's message says, as text the model reads: the body, a
 * button's title, a caption behind a label naming the attachment, a Flow
 * form's answers, an order's items, a shared location or contact, and the ad
 * the customer came from. Bounded, single-purpose, and never throws on
 * untrusted JSON.
 */
import {
  asId,
  asNumber,
  asRecord,
  asText,
  joinPresent,
  records,
  UnknownRecord,
} from './payload-values';
import { truncate } from '../common/truncate';

type TextExtractor = (message: UnknownRecord) => string | null;

/** Longest piece of customer-supplied text kept in a descriptive line (a value, a name). */
const FIELD_MAX_CHARS = 200;
/** Longest description of a form reply or an order. */
const DESCRIPTION_MAX_CHARS = 1_500;
/** Form fields and order lines listed before the rest is counted. */
const LIST_MAX_ITEMS = 20;

/** A short, single-line field for a bracketed label: no brackets, no line breaks. */
function labelField(value: unknown): string | null {
  const text = asText(value);
  return text === null
    ? null
    : truncate(text.replace(/[[\]\s]+/g, ' ').trim(), FIELD_MAX_CHARS) || null;
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
    : truncate(`Form reply: ${answer}`, DESCRIPTION_MAX_CHARS);
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
  return truncate(
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
export function extractText(
  kind: string,
  message: UnknownRecord,
): string | null {
  const said = TEXT_EXTRACTORS.get(kind)?.(message) ?? null;
  if (said === null) return null;
  return joinPresent([said, referralText(message)], '\n');
}
