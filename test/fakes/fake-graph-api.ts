import { randomBytes } from 'node:crypto';
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface GraphRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON, or the raw text when the body was not valid JSON. */
  body: unknown;
  at: number;
}

export interface SentTextMessage {
  phoneNumberId: string;
  /** The `to` phone number as sent; '' when the message went by `recipient`. */
  to: string;
  /** The `recipient` business-scoped user id as sent; null when it went by `to`. */
  recipient: string | null;
  body: string;
  wamid: string;
  contextMessageId: string | null;
}

export interface ReadReceipt {
  phoneNumberId: string;
  messageId: string;
  typing: boolean;
}

/** `status: 0` destroys the socket instead of answering (a network error). */
export interface GraphFailure {
  status: number;
  code: number;
  message?: string;
  details?: string;
}

interface ScriptedFailure {
  remaining: number;
  failure: GraphFailure;
}

type Json = Record<string, unknown>;

const MAX_BODY_BYTES = 10 * 1024 * 1024;
const TEXT_BODY_MAX = 4096;
const SEND_TYPES = [
  'text',
  'audio',
  'document',
  'image',
  'location',
  'video',
  'sticker',
  'reaction',
  'interactive',
  'template',
  'contacts',
] as const;
const SEND_COMMON_KEYS = [
  'messaging_product',
  'recipient_type',
  'to',
  'recipient',
  'type',
  'context',
  'biz_opaque_callback_data',
];
const MARK_READ_KEYS = [
  'messaging_product',
  'status',
  'message_id',
  'typing_indicator',
];
/** A business-scoped user id (BSUID), e.g. `US.13491208655302741918`. */
const BSUID_PATTERN = /^[A-Z]{2}\.[A-Za-z0-9]+$/;
/** Meta accepts digits with an optional leading +, and `-`, `(`, `)` and spaces. */
const PHONE_PATTERN = /^\+?[\d\s()-]+$/;
const MESSAGES_ROUTE = /^\/([^/]+)\/([^/]+)\/messages\/?$/;

/** Meta's wording for the codes tests are likely to script. */
const DEFAULT_ERRORS: Record<number, { message: string; details: string }> = {
  1: {
    message: 'An unknown error occurred',
    details: 'Invalid request or possible server error.',
  },
  2: {
    message: 'Service temporarily unavailable',
    details: 'Temporary due to downtime or due to being overloaded.',
  },
  4: {
    message: '(#4) Application request limit reached',
    details: 'The app has reached its API call rate limit.',
  },
  100: {
    message: '(#100) Invalid parameter',
    details:
      'The request included one or more unsupported or misspelled parameters.',
  },
  190: {
    message: 'Error validating access token: Session has expired.',
    details: 'Your access token has expired.',
  },
  368: {
    message: 'Temporarily blocked for policies violations',
    details: 'The WhatsApp Business Account is restricted or disabled.',
  },
  130429: {
    message: '(#130429) Rate limit hit',
    details: 'Cloud API message throughput has been reached.',
  },
  131000: {
    message: '(#131000) Something went wrong',
    details: 'Message failed to send due to an unknown error.',
  },
  131008: {
    message: '(#131008) Required parameter is missing',
    details: 'The request is missing a required parameter.',
  },
  131009: {
    message: '(#131009) Parameter value is not valid',
    details: 'One or more parameter values are invalid.',
  },
  131016: {
    message: '(#131016) Service unavailable',
    details: 'A service is temporarily unavailable.',
  },
  131021: {
    message: '(#131021) Recipient cannot be sender',
    details: 'Sender and recipient phone number is the same.',
  },
  131026: {
    message: '(#131026) Message Undeliverable',
    details: 'Unable to deliver message.',
  },
  131030: {
    message: '(#131030) Recipient phone number not in allowed list',
    details: 'Add recipient phone number to recipient list and try again.',
  },
  131031: {
    message: '(#131031) Business Account locked',
    details: 'The WhatsApp Business Account has been locked.',
  },
  131047: {
    message: '(#131047) Re-engagement message',
    details:
      'More than 24 hours have passed since the recipient last replied to the sender number.',
  },
  131048: {
    message: '(#131048) Spam rate limit hit',
    details:
      'Message failed to send because there are restrictions on how many messages can be sent from this phone number.',
  },
  131051: {
    message: '(#131051) Unsupported message type',
    details: 'Unsupported message type.',
  },
  131056: {
    message:
      '(#131056) (Business Account, Consumer Account) pair rate limit hit',
    details:
      'Too many messages sent from the sender phone number to the same recipient phone number in a short period of time.',
  },
  131057: {
    message: '(#131057) Account in maintenance mode',
    details: 'Business Account is in maintenance mode.',
  },
  131062: {
    message: '(#131062) Business-scoped user ID recipient not supported',
    details:
      'This message cannot be sent to a business-scoped user ID; send it to a phone number.',
  },
};

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function header(req: IncomingMessage, name: string): string {
  const value = req.headers[name];
  return Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
}

function fbtraceId(): string {
  return randomBytes(17).toString('base64url').slice(0, 23);
}

function digitsOf(value: string): string {
  return value.replace(/\D/g, '');
}

/**
 * A fake of the WhatsApp Cloud API's `POST /{Version}/{Phone-Number-ID}/messages`
 * on a real HTTP port. It checks every request against Meta's documented shapes
 * (the OpenAPI spec in shared/reference), records what was sent, and answers
 * with Meta's success and error bodies.
 */
export class FakeGraphApi {
  readonly requests: GraphRequest[] = [];
  readonly violations: string[] = [];

  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly sent: SentTextMessage[] = [];
  private readonly reads: ReadReceipt[] = [];
  private readonly permanentFailures = new Map<string, GraphFailure>();
  private nextFailures: ScriptedFailure[] = [];
  private nextReadFailures: ScriptedFailure[] = [];
  private latencyMs = 0;
  private wamidCounter = 0;
  private closed = false;

  private constructor(
    private readonly server: Server,
    readonly baseUrl: string,
    private readonly accessToken: string,
    private readonly version: string | undefined,
  ) {}

  static async start(
    opts: { accessToken?: string; version?: string } = {},
  ): Promise<FakeGraphApi> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    const fake = new FakeGraphApi(
      server,
      `http://127.0.0.1:${port}`,
      opts.accessToken ?? 'test-access-token',
      opts.version,
    );
    server.on('connection', (socket: Socket) => {
      fake.sockets.add(socket);
      socket.once('close', () => fake.sockets.delete(socket));
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      fake.handle(req, res).catch((error: unknown) => {
        fake.violations.push(`fake-graph-api internal error: ${String(error)}`);
        if (!res.headersSent && !res.destroyed) {
          fake.sendError(
            res,
            500,
            1,
            'An unknown error occurred',
            String(error),
          );
        }
      });
    });
    return fake;
  }

  /** Accepted text sends, in order. */
  sentMessages(): SentTextMessage[] {
    return [...this.sent];
  }

  /** Accepted mark-read requests (with or without a typing indicator), in order. */
  readReceipts(): ReadReceipt[] {
    return [...this.reads];
  }

  /** The next `count` send requests (not read receipts) fail this way. */
  failNext(count: number, failure: GraphFailure): void {
    if (count > 0) this.nextFailures.push({ remaining: count, failure });
  }

  /** The next `count` mark-read / typing requests fail this way. */
  failNextRead(count: number, failure: GraphFailure): void {
    if (count > 0) this.nextReadFailures.push({ remaining: count, failure });
  }

  /** Every send to this recipient fails (compared by digits, so `+1 650…` matches `1650…`). */
  failSendsTo(to: string, failure: GraphFailure): void {
    this.permanentFailures.set(digitsOf(to) || to, failure);
  }

  setLatencyMs(ms: number): void {
    this.latencyMs = Math.max(0, ms);
  }

  /** Clears records, violations, scripted failures and latency. */
  reset(): void {
    this.requests.length = 0;
    this.violations.length = 0;
    this.sent.length = 0;
    this.reads.length = 0;
    this.permanentFailures.clear();
    this.nextFailures = [];
    this.nextReadFailures = [];
    this.latencyMs = 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const done = new Promise<void>((resolve) =>
      this.server.close(() => resolve()),
    );
    this.server.closeAllConnections();
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await done;
  }

  // --- request handling

  private async handle(
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const raw = await this.readBody(req, res);
    if (raw === null) return;
    const path = req.url ?? '/';
    let body: unknown = raw;
    let parsed = false;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw) as unknown;
        parsed = true;
      } catch {
        body = raw;
      }
    }
    this.requests.push({
      method: req.method ?? '',
      path,
      headers: { ...req.headers },
      body,
      at: Date.now(),
    });

    if (this.latencyMs > 0) {
      const alive = await this.sleep(this.latencyMs, res);
      if (!alive) return;
    }

    const pathname = path.split('?')[0] ?? path;
    const match = MESSAGES_ROUTE.exec(pathname);
    if (!match || req.method !== 'POST') {
      this.violations.push(`unknown route: ${req.method} ${path}`);
      this.sendJson(res, 404, {
        error: {
          message: `Unknown path components: ${pathname}`,
          type: 'OAuthException',
          code: 2500,
          fbtrace_id: fbtraceId(),
        },
      });
      return;
    }
    const version = match[1] ?? '';
    const phoneNumberId = decodeURIComponent(match[2] ?? '');

    if (!this.authorized(req)) {
      res.setHeader(
        'WWW-Authenticate',
        'OAuth "Facebook Platform" "invalid_token" "Invalid OAuth access token - Cannot parse access token"',
      );
      this.sendError(
        res,
        401,
        190,
        'Error validating access token: The session is invalid or the access token is malformed.',
        'Invalid OAuth access token - Cannot parse access token',
      );
      return;
    }

    const problems: string[] = [];
    if (!/^v\d+\.\d+$/.test(version)) {
      problems.push(`Graph API version "${version}" does not look like v25.0`);
    } else if (this.version !== undefined && version !== this.version) {
      problems.push(
        `Graph API version "${version}" differs from the configured "${this.version}"`,
      );
    }
    if (!/^\d+$/.test(phoneNumberId)) {
      problems.push(
        `phone number id "${phoneNumberId}" is not a numeric Graph object id`,
      );
    }
    const contentType = header(req, 'content-type').toLowerCase();
    if (!/^application\/json\s*(;|$)/.test(contentType)) {
      problems.push(
        `Content-Type must be application/json, got "${contentType || '(none)'}"`,
      );
    }
    if (!parsed) {
      problems.push(
        raw.length === 0
          ? 'empty request body'
          : 'request body is not valid JSON',
      );
    } else if (!isObject(body)) {
      problems.push('request body must be a JSON object');
    }
    if (problems.length > 0 || !isObject(body)) {
      this.rejectInvalid(res, problems);
      return;
    }

    if ('status' in body || 'message_id' in body) {
      this.handleMarkRead(res, phoneNumberId, body);
    } else {
      this.handleSend(res, phoneNumberId, body);
    }
  }

  private handleMarkRead(
    res: ServerResponse,
    phoneNumberId: string,
    body: Json,
  ): void {
    const problems: string[] = [];
    if (body.messaging_product !== 'whatsapp') {
      problems.push(`messaging_product must be "whatsapp"`);
    }
    if (body.status !== 'read') {
      problems.push(
        `status must be "read", got ${JSON.stringify(body.status)}`,
      );
    }
    if (typeof body.message_id !== 'string' || body.message_id.length === 0) {
      problems.push('message_id must be a non-empty string');
    }
    const typing = body.typing_indicator;
    if (typing !== undefined) {
      if (!isObject(typing) || typing.type !== 'text') {
        problems.push('typing_indicator must be {"type":"text"}');
      } else {
        for (const key of Object.keys(typing)) {
          if (key !== 'type')
            problems.push(`unknown key typing_indicator.${key}`);
        }
      }
    }
    for (const key of Object.keys(body)) {
      if (!MARK_READ_KEYS.includes(key)) {
        problems.push(`unknown key "${key}" in a mark-read request`);
      }
    }
    if (problems.length > 0) {
      this.rejectInvalid(res, problems);
      return;
    }

    const failure = this.takeScripted(this.nextReadFailures);
    if (failure) {
      this.fail(res, failure);
      return;
    }
    this.reads.push({
      phoneNumberId,
      messageId: body.message_id as string,
      typing: typing !== undefined,
    });
    this.sendJson(res, 200, { success: true });
  }

  private handleSend(
    res: ServerResponse,
    phoneNumberId: string,
    body: Json,
  ): void {
    const problems = this.validateSend(body);
    if (problems.length > 0) {
      this.rejectInvalid(res, problems);
      return;
    }
    // Exactly one of the two, as validateSend checked.
    const to = typeof body.to === 'string' ? body.to : '';
    const recipient =
      typeof body.recipient === 'string' ? body.recipient : null;
    const address = recipient ?? to;

    const failure =
      this.takeScripted(this.nextFailures) ??
      this.permanentFailures.get(digitsOf(address) || address) ??
      this.permanentFailures.get(address);
    if (failure) {
      this.fail(res, failure);
      return;
    }

    const wamid = this.newWamid(address);
    if (body.type === 'text') {
      const text = body.text as Json;
      const context = body.context as Json | undefined;
      this.sent.push({
        phoneNumberId,
        to,
        recipient,
        body: text.body as string,
        wamid,
        contextMessageId:
          typeof context?.message_id === 'string' ? context.message_id : null,
      });
    }
    this.sendJson(res, 200, {
      messaging_product: 'whatsapp',
      contacts: [
        recipient === null
          ? { input: to, wa_id: digitsOf(to) || to }
          : { input: recipient, user_id: recipient },
      ],
      messages: [{ id: wamid }],
    });
  }

  private validateSend(body: Json): string[] {
    const problems: string[] = [];
    if (body.messaging_product !== 'whatsapp') {
      problems.push('messaging_product must be "whatsapp"');
    }
    const recipientType = body.recipient_type;
    if (
      recipientType !== undefined &&
      recipientType !== 'individual' &&
      recipientType !== 'group'
    ) {
      problems.push(
        `recipient_type must be "individual" or "group", got ${JSON.stringify(recipientType)}`,
      );
    }
    // `to` (a phone number, or a group id) or, for a customer known only by
    // a business-scoped user id, `recipient` (the BSUID): one, never both.
    const { to, recipient } = body;
    if (to !== undefined && recipient !== undefined) {
      problems.push('give either to or recipient, not both');
    } else if (recipient !== undefined) {
      if (typeof recipient !== 'string' || !BSUID_PATTERN.test(recipient)) {
        problems.push(
          `recipient ${JSON.stringify(recipient)} is not a business-scoped user id`,
        );
      } else if (recipientType === 'group') {
        problems.push('a group message is addressed with to, not recipient');
      }
    } else if (typeof to !== 'string' || to.trim().length === 0) {
      problems.push('to (or recipient) must be a non-empty string');
    } else if (
      recipientType !== 'group' &&
      (!PHONE_PATTERN.test(to) || digitsOf(to).length === 0)
    ) {
      problems.push(`to "${to}" is not a phone number`);
    }

    const type = body.type;
    if (typeof type !== 'string') {
      problems.push('type is required');
    } else if (!(SEND_TYPES as readonly string[]).includes(type)) {
      problems.push(`unsupported message type "${type}"`);
    } else if (!isObject(body[type])) {
      problems.push(`type is "${type}" but the "${type}" object is missing`);
    }
    for (const key of Object.keys(body)) {
      if (!SEND_COMMON_KEYS.includes(key) && key !== type) {
        problems.push(`unknown key "${key}" in a ${String(type)} message`);
      }
    }

    const context = body.context;
    if (context !== undefined) {
      if (!isObject(context)) {
        problems.push('context must be an object');
      } else {
        if (
          typeof context.message_id !== 'string' ||
          context.message_id.length === 0
        ) {
          problems.push('context.message_id must be a non-empty string');
        }
        for (const key of Object.keys(context)) {
          if (key !== 'message_id') problems.push(`unknown key context.${key}`);
        }
      }
    }
    const opaque = body.biz_opaque_callback_data;
    if (
      opaque !== undefined &&
      (typeof opaque !== 'string' || opaque.length > 512)
    ) {
      problems.push(
        'biz_opaque_callback_data must be a string of at most 512 characters',
      );
    }

    if (type === 'text' && isObject(body.text)) {
      const text = body.text;
      if (typeof text.body !== 'string' || text.body.length === 0) {
        problems.push('text.body must be a non-empty string');
      } else {
        // UTF-16 code units: at least as strict as any count Meta may use.
        const length = text.body.length;
        if (length > TEXT_BODY_MAX) {
          problems.push(
            `text.body is ${length} characters, more than the ${TEXT_BODY_MAX} allowed`,
          );
        }
      }
      if (
        text.preview_url !== undefined &&
        typeof text.preview_url !== 'boolean'
      ) {
        problems.push('text.preview_url must be a boolean');
      }
      for (const key of Object.keys(text)) {
        if (key !== 'body' && key !== 'preview_url') {
          problems.push(`unknown key text.${key}`);
        }
      }
    }
    return problems;
  }

  // --- helpers

  private authorized(req: IncomingMessage): boolean {
    return header(req, 'authorization') === `Bearer ${this.accessToken}`;
  }

  private takeScripted(queue: ScriptedFailure[]): GraphFailure | undefined {
    const head = queue[0];
    if (!head) return undefined;
    head.remaining -= 1;
    if (head.remaining <= 0) queue.shift();
    return head.failure;
  }

  private fail(res: ServerResponse, failure: GraphFailure): void {
    if (failure.status === 0) {
      res.socket?.destroy();
      res.destroy();
      return;
    }
    const known = DEFAULT_ERRORS[failure.code];
    this.sendError(
      res,
      failure.status,
      failure.code,
      failure.message ?? known?.message ?? `(#${failure.code}) Error`,
      failure.details ?? known?.details ?? 'Scripted failure',
    );
  }

  private rejectInvalid(res: ServerResponse, problems: string[]): void {
    this.violations.push(...problems);
    this.sendError(
      res,
      400,
      100,
      '(#100) Invalid parameter',
      problems.join('; '),
    );
  }

  private sendError(
    res: ServerResponse,
    status: number,
    code: number,
    message: string,
    details: string,
  ): void {
    this.sendJson(res, status, {
      error: {
        message,
        type: 'OAuthException',
        code,
        error_data: { messaging_product: 'whatsapp', details },
        fbtrace_id: fbtraceId(),
      },
    });
  }

  private sendJson(
    res: ServerResponse,
    status: number,
    payload: unknown,
  ): void {
    if (res.destroyed || res.headersSent) return;
    const text = JSON.stringify(payload);
    res.writeHead(status, {
      'Content-Type': 'application/json; charset=UTF-8',
      'Content-Length': Buffer.byteLength(text),
      'x-fb-trace-id': fbtraceId(),
      'x-fb-request-id': randomBytes(8).toString('hex'),
    });
    res.end(text);
  }

  private newWamid(to: string): string {
    this.wamidCounter += 1;
    const seed = `${digitsOf(to)}\u0015\u0002\u0000\u0011${this.wamidCounter.toString(16)}${randomBytes(9).toString('hex').toUpperCase()}`;
    return `wamid.HBgL${Buffer.from(seed).toString('base64')}`;
  }

  /** Reads the body; answers 413 and returns null when it is too large or the client went away. */
  private readBody(
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<string | null> {
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let settled = false;
      const finish = (value: string | null) => {
        if (settled) return;
        settled = true;
        resolve(value);
      };
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) {
          this.violations.push(
            `request body larger than ${MAX_BODY_BYTES} bytes`,
          );
          this.sendError(
            res,
            413,
            100,
            '(#100) Request too large',
            'Body too large',
          );
          req.destroy();
          finish(null);
          return;
        }
        chunks.push(chunk);
      });
      req.on('end', () => finish(Buffer.concat(chunks).toString('utf8')));
      req.on('error', () => finish(null));
      req.on('close', () => finish(null));
    });
  }

  /** Waits `ms`; resolves false when the client disconnected or the fake closed meanwhile. */
  private sleep(ms: number, res: ServerResponse): Promise<boolean> {
    return new Promise((resolve) => {
      const onClose = () => {
        clearTimeout(timer);
        this.timers.delete(timer);
        resolve(false);
      };
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        res.off('close', onClose);
        resolve(!res.destroyed && !this.closed);
      }, ms);
      this.timers.add(timer);
      res.once('close', onClose);
    });
  }
}
