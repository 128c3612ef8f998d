import {
  WhatsappSendError,
  type WhatsappSendErrorKind,
} from './whatsapp-send.error';

/**
 * Meta error codes worth retrying (throughput, pair rate limit, unknown error,
 * temporary downtime, service unavailable, maintenance, API-call and WABA rate
 * limits). See the error-code table in the WhatsApp Cloud API reference.
 */
export const RETRYABLE_GRAPH_CODES: ReadonlySet<number> = new Set([
  130429, 131056, 131000, 1, 2, 131016, 131057, 4, 80007,
]);

const AUTH_CODES: ReadonlySet<number> = new Set([0, 190]);
const RATE_LIMIT_CODES: ReadonlySet<number> = new Set([
  130429, 131056, 4, 80007,
]);
const WINDOW_CLOSED_CODE = 131047;
// Every other code is permanent, among them 131062: this message cannot be
// sent to a business-scoped user id (a customer without a phone number).
/** Pair rate limit: Meta advises waiting 4^X seconds before retry X. */
/** Meta's pair rate limit: too many messages to one customer. */
export const PAIR_RATE_LIMIT_CODE = 131056;

export interface GraphErrorInput {
  /** HTTP status of the Graph response, or null when none was received. */
  httpStatus: number | null;
  /** The response body as received: parsed JSON, a string, HTML, anything. */
  body: unknown;
  /** Set when the request failed without a response (e.g. `ECONNRESET`). */
  networkError?: string;
}

/**
 * Turns a failed Graph API call into a WhatsappSendError. Meta's `error.code`
 * decides; the HTTP status only matters when the body carries no code.
 */
export function classifyGraphError(input: GraphErrorInput): WhatsappSendError {
  const { httpStatus, networkError } = input;
  const meta = parseMetaError(input.body);
  const details = meta.details === null ? null : redactSecrets(meta.details);
  const common = {
    code: meta.code,
    httpStatus,
    details,
    fbtraceId: meta.fbtraceId,
  };

  if (meta.code !== null) {
    const kind = kindForCode(meta.code);
    return new WhatsappSendError({
      ...common,
      kind,
      retryable: RETRYABLE_GRAPH_CODES.has(meta.code),
      message: formatMessage(
        `WhatsApp Cloud API error ${meta.code}`,
        meta.message ?? 'no message',
        details,
      ),
    });
  }

  if (networkError !== undefined || httpStatus === null) {
    return new WhatsappSendError({
      ...common,
      kind: 'network',
      retryable: true,
      message: formatMessage(
        'WhatsApp Cloud API request failed',
        networkError || 'no response received',
        null,
      ),
    });
  }

  const kind: WhatsappSendErrorKind =
    httpStatus === 429
      ? 'rate-limit'
      : httpStatus >= 500
        ? 'transient'
        : 'permanent';
  return new WhatsappSendError({
    ...common,
    kind,
    retryable: kind !== 'permanent',
    message: formatMessage(
      `WhatsApp Cloud API request failed with HTTP ${httpStatus}`,
      meta.message,
      details,
    ),
  });
}

export interface RetryDelayOptions {
  /** Delay ceiling for the first retry (attempt 0). */
  baseMs: number;
  /** Upper bound for any delay. */
  maxMs: number;
  /** Returns a number in [0, 1); defaults to Math.random. */
  random?: () => number;
}

/**
 * How long to wait before retry number `attempt` (0 for the first retry).
 *
 * Exponential backoff with full jitter: a random delay in
 * [0, min(maxMs, baseMs * 2^attempt)). For the pair rate limit (131056) Meta
 * advises 4^X seconds, so the ceiling grows as baseMs * 4^attempt and the
 * jitter stays in its upper half, never retrying much sooner than advised.
 */
export function retryDelayMs(
  error: WhatsappSendError,
  attempt: number,
  opts: RetryDelayOptions,
): number {
  const { baseMs, maxMs, random = Math.random } = opts;
  if (!Number.isInteger(attempt) || attempt < 0) {
    throw new RangeError(
      `attempt must be a non-negative integer, got ${attempt}`,
    );
  }
  if (!isNonNegativeFinite(baseMs) || !isNonNegativeFinite(maxMs)) {
    throw new RangeError(
      `baseMs and maxMs must be non-negative finite numbers, got ${baseMs} and ${maxMs}`,
    );
  }

  if (error.code === PAIR_RATE_LIMIT_CODE) {
    const ceiling = longestRetryDelayMs(attempt, opts);
    return Math.round(ceiling * (0.5 + 0.5 * random()));
  }
  const ceiling = Math.min(maxMs, baseMs * 2 ** attempt);
  return Math.round(ceiling * random());
}

/** The longest wait retry number `attempt` can have (the pair rate limit's ceiling). */
export function longestRetryDelayMs(
  attempt: number,
  { baseMs, maxMs }: Pick<RetryDelayOptions, 'baseMs' | 'maxMs'>,
): number {
  return Math.min(maxMs, baseMs * 4 ** attempt);
}

/**
 * An upper bound of the time one message can spend being sent: every
 * attempt timing out, with the longest wait between attempts.
 */
export function longestSendMs(settings: {
  sendMaxAttempts: number;
  httpTimeoutMs: number;
  retryBaseMs: number;
  maxRetryDelayMs: number;
}): number {
  let waits = 0;
  for (let attempt = 0; attempt < settings.sendMaxAttempts - 1; attempt++) {
    waits += longestRetryDelayMs(attempt, {
      baseMs: settings.retryBaseMs,
      maxMs: settings.maxRetryDelayMs,
    });
  }
  return settings.sendMaxAttempts * settings.httpTimeoutMs + waits;
}

function kindForCode(code: number): WhatsappSendErrorKind {
  if (AUTH_CODES.has(code)) {
    return 'auth';
  }
  if (RATE_LIMIT_CODES.has(code)) {
    return 'rate-limit';
  }
  if (code === WINDOW_CLOSED_CODE) {
    return 'window-closed';
  }
  return RETRYABLE_GRAPH_CODES.has(code) ? 'transient' : 'permanent';
}

interface MetaError {
  code: number | null;
  message: string | null;
  details: string | null;
  fbtraceId: string | null;
}

const NO_META_ERROR: MetaError = {
  code: null,
  message: null,
  details: null,
  fbtraceId: null,
};

/** Reads `{error:{message,code,error_data:{details},fbtrace_id}}` from any body. */
function parseMetaError(body: unknown): MetaError {
  const parsed = typeof body === 'string' ? parseJson(body) : body;
  if (!isRecord(parsed) || !isRecord(parsed.error)) {
    return NO_META_ERROR;
  }
  const error = parsed.error;
  const errorData = isRecord(error.error_data) ? error.error_data : {};
  const code = toCode(error.code);
  return {
    code,
    message: stripCodePrefix(nonEmptyString(error.message)),
    details: nonEmptyString(errorData.details),
    fbtraceId: nonEmptyString(error.fbtrace_id),
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function toCode(value: unknown): number | null {
  if (typeof value === 'number' && Number.isInteger(value)) {
    return value;
  }
  if (typeof value === 'string' && /^\d+$/.test(value)) {
    return Number(value);
  }
  return null;
}

function nonEmptyString(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : null;
}

/** Meta prefixes some messages with the code: "(#130429) Rate limit hit". */
function stripCodePrefix(message: string | null): string | null {
  if (message === null) {
    return null;
  }
  return message.replace(/^\(#\d+\)\s*/, '') || message;
}

function formatMessage(
  prefix: string,
  message: string | null,
  details: string | null,
): string {
  let text = prefix;
  if (message !== null) {
    text += `: ${redactSecrets(message)}`;
  }
  if (details !== null) {
    text += ` (${details})`;
  }
  return text;
}

/**
 * Defence in depth: nothing here should ever see the token, but if a proxy or
 * library echoes one back, keep it out of logs and stored errors.
 */
function redactSecrets(text: string): string {
  return text
    .replace(/(access_token=)[^&\s"']+/gi, '$1[redacted]')
    .replace(/(Bearer\s+)[^\s"',;]+/gi, '$1[redacted]');
}

function isNonNegativeFinite(value: number): boolean {
  return Number.isFinite(value) && value >= 0;
}
