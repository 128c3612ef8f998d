import { DatabaseError } from 'pg';
import { redactSecrets, redactUrl, urlPassword } from './common/secrets';
import { InvalidEnvironmentError } from './config/validate-env';

/** Socket errors of a server that cannot be reached. */
const NETWORK_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

/** What `pg` says when a connection ends before the server answered. */
const PG_CONNECTION_LOST = /^Connection terminated|^timeout expired/;

interface SocketError {
  code?: unknown;
  port?: unknown;
  hostname?: unknown;
}

const errorsOf = (error: unknown): unknown[] =>
  error instanceof AggregateError ? [error, ...error.errors] : [error];

/** Whether a socket error was about the server of `url` (when it says which). */
function aimsAt(error: SocketError, url: URL): boolean {
  if (typeof error.port === 'number') {
    return String(error.port) === (url.port || '5432');
  }
  if (typeof error.hostname === 'string')
    return error.hostname === url.hostname;
  return true;
}

/**
 * Whether `error` is the PostgreSQL server of `databaseUrl` being out of
 * reach (refused, unknown host, cut connection) or refusing us (a wrong
 * password, a missing database): the errors opening the database raises.
 */
export function isDatabaseFailure(
  error: unknown,
  databaseUrl: string,
): boolean {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    return false;
  }
  return errorsOf(error).some((e) => {
    if (e instanceof DatabaseError) return true;
    if (!(e instanceof Error)) return false;
    const code = (e as SocketError).code;
    if (typeof code === 'string' && NETWORK_ERRORS.has(code)) {
      return aimsAt(e as SocketError, url);
    }
    return PG_CONNECTION_LOST.test(e.message);
  });
}

const reasonOf = (error: unknown): string => {
  if (!(error instanceof Error)) return String(error);
  // Node reports a host that resolves to several addresses as an
  // AggregateError without a message of its own.
  if (error.message) return error.message;
  return errorsOf(error)
    .slice(1)
    .map((e) => (e instanceof Error ? e.message : String(e)))
    .join('; ');
};

/**
 * The one message `main.ts` prints when the service cannot start. A database
 * that cannot be opened is named by its variable, DATABASE_URL, with the URL's
 * password masked; no message ever carries the password of DATABASE_URL or
 * REDIS_URL.
 */
export function describeStartFailure(
  error: unknown,
  env: Record<string, string | undefined>,
): string {
  if (error instanceof InvalidEnvironmentError) return error.message;
  const databaseUrl = env.DATABASE_URL;
  // What the error says is not ours to trust: it may quote a URL.
  const scrub = (text: string) =>
    redactSecrets(text, [urlPassword(databaseUrl), urlPassword(env.REDIS_URL)]);
  if (databaseUrl && isDatabaseFailure(error, databaseUrl)) {
    return `ClariOps failed to start: the PostgreSQL database of DATABASE_URL (${redactUrl(databaseUrl)}) could not be opened: ${scrub(reasonOf(error))}`;
  }
  return `ClariOps failed to start: ${scrub(error instanceof Error ? (error.stack ?? error.message) : String(error))}`;
}
