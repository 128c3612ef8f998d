import { signPayload } from '../../src/webhook/webhook-signature';
import { APP_SECRET, PHONE_NUMBER_ID } from './test-app';

let counter = 0;

/** A wamid shaped like Meta's, unique per call. */
export function newWamid(): string {
  counter += 1;
  return `wamid.HBgL${Date.now().toString(36)}${counter.toString(36).padStart(6, '0')}AA==`;
}

export interface InboundSpec {
  from: string;
  name?: string;
  wamid?: string;
  timestamp?: number;
  type?: string;
  /** The type-specific object; for text, a string is enough. */
  text?: string;
  body?: Record<string, unknown>;
}

/** One `messages` change as Meta sends it. */
export function messageChange(specs: InboundSpec[]) {
  return {
    field: 'messages',
    value: {
      messaging_product: 'whatsapp',
      metadata: {
        display_phone_number: '15550783881',
        phone_number_id: PHONE_NUMBER_ID,
      },
      contacts: specs.map((s) => ({
        profile: { name: s.name ?? 'Test Customer' },
        wa_id: s.from,
      })),
      messages: specs.map((s) => {
        const type = s.type ?? 'text';
        return {
          from: s.from,
          id: s.wamid ?? newWamid(),
          timestamp: String(s.timestamp ?? Math.floor(Date.now() / 1000)),
          type,
          [type]: s.body ?? { body: s.text ?? '' },
        };
      }),
    },
  };
}

export function statusChange(statuses: Array<Record<string, unknown>>) {
  return {
    field: 'messages',
    value: {
      messaging_product: 'whatsapp',
      metadata: {
        display_phone_number: '15550783881',
        phone_number_id: PHONE_NUMBER_ID,
      },
      statuses,
    },
  };
}

export function envelope(...changes: unknown[]) {
  return {
    object: 'whatsapp_business_account',
    entry: [{ id: '102290129340398', changes }],
  };
}

export function textWebhook(
  from: string,
  text: string,
  extra: Partial<InboundSpec> = {},
) {
  return envelope(messageChange([{ from, text, ...extra }]));
}

/**
 * Posts a webhook the way Meta does: JSON with non-ASCII characters escaped
 * as \uXXXX, signed over exactly those bytes.
 */
export async function postWebhook(
  url: string,
  payload: unknown,
  options: { secret?: string; signature?: string | null } = {},
): Promise<Response> {
  const body = metaJson(payload);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
  };
  const signature =
    options.signature === undefined
      ? signPayload(body, options.secret ?? APP_SECRET)
      : options.signature;
  if (signature !== null) headers['x-hub-signature-256'] = signature;
  return fetch(`${url}/webhook`, { method: 'POST', headers, body });
}

/** JSON.stringify with every non-ASCII character escaped, as Meta sends it. */
export function metaJson(payload: unknown): string {
  return JSON.stringify(payload).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
