/**
 * How a failed Graph API send should be handled:
 * - `auth`: the access token is invalid or expired (codes 0, 190); fix config.
 * - `rate-limit`: a throughput or API-call limit was hit; retry later.
 * - `window-closed`: the 24-hour customer service window is closed (131047);
 *   only a template can reach the user.
 * - `transient`: a temporary Meta-side failure; retry.
 * - `permanent`: the request itself is wrong or cannot be delivered; do not retry.
 * - `network`: no HTTP response was received; retry.
 */
export type WhatsappSendErrorKind =
  | 'auth'
  | 'rate-limit'
  | 'window-closed'
  | 'transient'
  | 'permanent'
  | 'network';

export interface WhatsappSendErrorInit {
  message: string;
  code: number | null;
  httpStatus: number | null;
  retryable: boolean;
  details: string | null;
  fbtraceId: string | null;
  kind: WhatsappSendErrorKind;
}

/**
 * A message the WhatsApp Cloud API did not accept. It deliberately carries no
 * request data (headers, URL query, body), so logging it cannot leak the
 * access token or the message text.
 */
export class WhatsappSendError extends Error {
  override readonly name = 'WhatsappSendError';
  /** Meta's `error.code`, or null when the response carried none. */
  readonly code: number | null;
  /** HTTP status of the Graph response, or null when none was received. */
  readonly httpStatus: number | null;
  readonly retryable: boolean;
  /** Meta's `error.error_data.details`. */
  readonly details: string | null;
  /** Meta's `error.fbtrace_id`, for support requests. */
  readonly fbtraceId: string | null;
  readonly kind: WhatsappSendErrorKind;

  constructor(init: WhatsappSendErrorInit) {
    super(init.message);
    this.code = init.code;
    this.httpStatus = init.httpStatus;
    this.retryable = init.retryable;
    this.details = init.details;
    this.fbtraceId = init.fbtraceId;
    this.kind = init.kind;
  }
}
