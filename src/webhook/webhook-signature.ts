import { createHmac, timingSafeEqual } from 'node:crypto';

const HEADER_PATTERN = /^sha256=([0-9a-f]{64})$/i;

/**
 * Checks Meta's `X-Hub-Signature-256: sha256=<hex>`: an HMAC-SHA256 of the
 * raw request bytes keyed with the app secret, compared in constant time.
 * The bytes must be the ones received: Meta signs the \u-escaped JSON it
 * sends, so re-serialising the parsed body would break non-ASCII payloads.
 */
export function isValidSignature(
  rawBody: Buffer | undefined,
  header: string | string[] | undefined,
  appSecret: string,
): boolean {
  if (!rawBody || typeof header !== 'string') return false;
  const match = HEADER_PATTERN.exec(header.trim());
  if (!match) return false;
  const expected = createHmac('sha256', appSecret).update(rawBody).digest();
  const given = Buffer.from(match[1], 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The header value Meta would send for `body` (tests and tools). */
export function signPayload(body: string | Buffer, appSecret: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(body).digest('hex')}`;
}
