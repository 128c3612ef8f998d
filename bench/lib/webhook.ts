import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Shared by the app under test, the fakes and the load generator. */
export const APP_SECRET = 'bench-app-secret-0123456789abcdef';
export const PHONE_NUMBER_ID = '106540352242922';
export const ACCESS_TOKEN = 'bench-access-token';
export const API_VERSION = 'v25.0';

export interface TextMessage {
  waId: string;
  name: string;
  wamid: string;
  /** Unix seconds, as Meta sends it (a string in the payload). */
  timestamp: number;
  text: string;
}

/**
 * One customer text message, shaped exactly like a Cloud API `messages`
 * webhook (ASCII only, so no \u escaping is needed for the signature).
 */
export function textWebhookBody(m: TextMessage): string {
  return (
    `{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":` +
    `{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"${PHONE_NUMBER_ID}"},` +
    `"contacts":[{"profile":{"name":"${m.name}"},"wa_id":"${m.waId}"}],` +
    `"messages":[{"from":"${m.waId}","id":"${m.wamid}","timestamp":"${m.timestamp}","text":{"body":"${m.text}"},"type":"text"}]},` +
    `"field":"messages"}]}]}`
  );
}

/** `X-Hub-Signature-256` as Meta computes it over the exact bytes sent. */
export function signature(body: string | Buffer, secret = APP_SECRET): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** A wamid shaped like Meta's, unique per (tag, n). */
export function wamidFor(tag: string, n: number): string {
  return `wamid.HBgL${tag}${n.toString(36).padStart(7, '0')}AA==`;
}

/** Digits only, 7–15 of them, as wa_ids are. */
export function waIdFor(prefix: string, n: number, width = 8): string {
  return `${prefix}${String(n).padStart(width, '0')}`;
}

/** Checks X-Hub-Signature-256 over the raw body in constant time, as the app does. */
export function validSignature(
  raw: Buffer,
  header: string | string[] | undefined,
  secret: string,
): boolean {
  if (
    typeof header !== 'string' ||
    !header.startsWith('sha256=') ||
    header.length !== 71
  )
    return false;
  const given = Buffer.from(header.slice(7), 'hex');
  const expected = createHmac('sha256', secret).update(raw).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Meta sends webhook bodies of up to 3 MB. */
const BODY_LIMIT = 3 * 1024 * 1024;

/** Answers with a JSON body and its length. */
export function answer(res: ServerResponse, status: number, body: string) {
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/**
 * Reads a webhook body for the reference servers: 413 above the limit, 401
 * for a bad signature, 400 for a body that is not JSON (`onRejected` is told
 * of the last two); a verified payload goes to `onPayload`, which answers.
 */
export function readSignedWebhook(
  req: IncomingMessage,
  res: ServerResponse,
  secret: string,
  onPayload: (payload: unknown) => void,
  onRejected: () => void = () => undefined,
) {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > BODY_LIMIT) {
      answer(res, 413, '{"error":"too large"}');
      req.destroy();
      return;
    }
    chunks.push(chunk);
  });
  req.on('end', () => {
    const raw = Buffer.concat(chunks);
    if (!validSignature(raw, req.headers['x-hub-signature-256'], secret)) {
      onRejected();
      return answer(res, 401, '{"error":"bad signature"}');
    }
    let payload: unknown;
    try {
      payload = JSON.parse(raw.toString('utf8'));
    } catch {
      onRejected();
      return answer(res, 400, '{"error":"not JSON"}');
    }
    onPayload(payload);
  });
}
