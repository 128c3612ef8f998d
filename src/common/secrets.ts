import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Compares two secrets in time that does not depend on where they differ. */
export function secretsMatch(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * A connection URL safe for logs: its password replaced by `****`. Anything
 * that does not parse as a URL is left out entirely, since where a password
 * might be in it is unknown.
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '(a value that is not a URL)';
  }
  if (parsed.password) parsed.password = '****';
  return parsed.toString();
}

/** `text` with every occurrence of each secret (raw or URL-encoded) replaced by `****`. */
export function redactSecrets(
  text: string,
  secrets: (string | null | undefined)[],
): string {
  let result = text;
  for (const secret of secrets) {
    if (!secret) continue;
    for (const form of new Set([secret, encodeURIComponent(secret)])) {
      result = result.split(form).join('****');
    }
  }
  return result;
}

/** The password of a connection URL (decoded), or null. */
export function urlPassword(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const password = new URL(url).password;
    return password ? decodeURIComponent(password) : null;
  } catch {
    return null;
  }
}
