import { createHash, randomBytes } from 'node:crypto';
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

/** An accepted send of any kind, with the body as received. */
export interface SentPayload {
  phoneNumberId: string;
  /** The `to` phone number as sent; '' when the message went by `recipient`. */
  to: string;
  /** The `recipient` business-scoped user id as sent; null when it went by `to`. */
  recipient: string | null;
  /** The message `type` (`text`, `image`, `template`, `interactive`, …). */
  type: string;
  /** The whole request body. */
  payload: Record<string, unknown>;
  wamid: string;
}

/** A media file the fake holds: registered with addMedia, or uploaded. */
export interface StoredMedia {
  id: string;
  bytes: Buffer;
  mimeType: string;
  /** Hex SHA-256 of the bytes, as `GET /{media-id}` answers it. */
  sha256: string;
  /** The uploaded file name; null for media registered with addMedia. */
  filename: string | null;
  /** The number it was uploaded to; null for media registered with addMedia. */
  phoneNumberId: string | null;
}

/**
 * The routes the fake serves: sends and mark-reads, media upload, the media
 * info (`GET /{media-id}`) and the download of a media URL.
 */
export type GraphRoute =
  'messages' | 'media-upload' | 'media-info' | 'media-download';

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
const MEDIA_UPLOAD_ROUTE = /^\/([^/]+)\/([^/]+)\/media\/?$/;
const MEDIA_INFO_ROUTE = /^\/([^/]+)\/([^/]+)\/?$/;
/** Where the media URLs handed out point (Meta's are on lookaside.fbsbx.com). */
const MEDIA_DOWNLOAD_ROUTE = /^\/media-download\/([^/]+)\/?$/;

const MEDIA_TYPES = ['audio', 'document', 'image', 'video', 'sticker'];
const CAPTION_MAX = 1024;
const INTERACTIVE_TYPES = [
  'button',
  'call_permission_request',
  'catalog_message',
  'cta_url',
  'flow',
  'list',
  'product',
  'product_list',
];
const INTERACTIVE_BODY_MAX = 1024;
const HEADER_TEXT_MAX = 60;
const FOOTER_TEXT_MAX = 60;
const REPLY_BUTTONS_MAX = 3;
const REPLY_ID_MAX = 256;
const REPLY_TITLE_MAX = 20;
const LIST_BUTTON_MAX = 20;
const LIST_SECTIONS_MAX = 10;
const LIST_ROWS_MAX = 10;
const SECTION_TITLE_MAX = 24;
const ROW_ID_MAX = 200;
const ROW_TITLE_MAX = 24;
const ROW_DESCRIPTION_MAX = 72;
const TEMPLATE_COMPONENT_TYPES = ['header', 'body', 'button'];
/**
 * The MIME types the Cloud API takes for upload, with their size limits
 * (the reference's media table, section 7).
 */
const UPLOAD_LIMITS: Record<string, number> = {
  'audio/aac': 16 * 1024 * 1024,
  'audio/amr': 16 * 1024 * 1024,
  'audio/mpeg': 16 * 1024 * 1024,
  'audio/mp4': 16 * 1024 * 1024,
  'audio/ogg': 16 * 1024 * 1024,
  'video/mp4': 16 * 1024 * 1024,
  'video/3gpp': 16 * 1024 * 1024,
  'image/jpeg': 5 * 1024 * 1024,
  'image/png': 5 * 1024 * 1024,
  'image/webp': 500 * 1024,
  'text/plain': 100 * 1024 * 1024,
  'application/pdf': 100 * 1024 * 1024,
  'application/msword': 100 * 1024 * 1024,
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document':
    100 * 1024 * 1024,
  'application/vnd.ms-excel': 100 * 1024 * 1024,
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet':
    100 * 1024 * 1024,
  'application/vnd.ms-powerpoint': 100 * 1024 * 1024,
  'application/vnd.openxmlformats-officedocument.presentationml.presentation':
    100 * 1024 * 1024,
};
const UPLOAD_FIELDS = ['messaging_product', 'file', 'type'];

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

function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

function unknownKeys(path: string, value: Json, known: string[]): string[] {
  return Object.keys(value)
    .filter((key) => !known.includes(key))
    .map((key) => `unknown key ${path}.${key}`);
}

/** A required, non-empty string of at most `max` characters (UTF-16 units, as for text). */
function checkText(
  path: string,
  value: unknown,
  max: number,
  problems: string[],
): void {
  if (typeof value !== 'string' || value.length === 0) {
    problems.push(`${path} must be a non-empty string`);
  } else if (value.length > max) {
    problems.push(
      `${path} is ${value.length} characters, more than the ${max} allowed`,
    );
  }
}

/**
 * A media object (`image`, `document`, …, or an interactive header's):
 * exactly one of `id` and `link` (http or https); `caption` and `filename`
 * only where Meta takes them.
 */
function validateMediaObject(
  path: string,
  media: Json,
  allows: { caption: boolean; filename: boolean },
): string[] {
  const problems: string[] = [];
  const hasId = media.id !== undefined;
  const hasLink = media.link !== undefined;
  if (hasId === hasLink) {
    problems.push(`${path} needs exactly one of id and link`);
  }
  if (hasId && (typeof media.id !== 'string' || media.id.trim() === '')) {
    problems.push(`${path}.id must be a non-empty string`);
  }
  if (hasLink && !isHttpUrl(media.link)) {
    problems.push(
      `${path}.link must be an http(s) URL, got ${JSON.stringify(media.link)}`,
    );
  }
  if (media.caption !== undefined) {
    if (!allows.caption) {
      problems.push(`${path}.caption is not allowed here`);
    } else if (typeof media.caption !== 'string') {
      problems.push(`${path}.caption must be a string`);
    } else if (media.caption.length > CAPTION_MAX) {
      problems.push(
        `${path}.caption is ${media.caption.length} characters, more than the ${CAPTION_MAX} allowed`,
      );
    }
  }
  if (media.filename !== undefined) {
    if (!allows.filename) {
      problems.push(`${path}.filename is only allowed on a document`);
    } else if (
      typeof media.filename !== 'string' ||
      media.filename.length === 0
    ) {
      problems.push(`${path}.filename must be a non-empty string`);
    }
  }
  problems.push(
    ...unknownKeys(path, media, ['id', 'link', 'caption', 'filename']),
  );
  return problems;
}

function validateTemplate(template: Json): string[] {
  const problems: string[] = [];
  if (typeof template.name !== 'string' || template.name.trim() === '') {
    problems.push('template.name must be a non-empty string');
  }
  const language = template.language;
  if (!isObject(language)) {
    problems.push('template.language must be an object with a code');
  } else {
    if (typeof language.code !== 'string' || language.code.trim() === '') {
      problems.push('template.language.code must be a non-empty string');
    }
    if (language.policy !== undefined && language.policy !== 'deterministic') {
      problems.push('template.language.policy must be "deterministic"');
    }
    problems.push(
      ...unknownKeys('template.language', language, ['code', 'policy']),
    );
  }
  const components = template.components;
  if (components !== undefined) {
    if (!Array.isArray(components)) {
      problems.push('template.components must be an array');
    } else {
      components.forEach((component: unknown, i) => {
        const path = `template.components[${i}]`;
        if (!isObject(component)) {
          problems.push(`${path} must be an object`);
          return;
        }
        if (
          typeof component.type !== 'string' ||
          !TEMPLATE_COMPONENT_TYPES.includes(component.type)
        ) {
          problems.push(
            `${path}.type must be one of ${TEMPLATE_COMPONENT_TYPES.join(', ')}`,
          );
        }
        if (
          component.parameters !== undefined &&
          !Array.isArray(component.parameters)
        ) {
          problems.push(`${path}.parameters must be an array`);
        }
        if (
          component.type === 'button' &&
          (component.sub_type === undefined || component.index === undefined)
        ) {
          problems.push(`${path}: a button component needs sub_type and index`);
        }
      });
    }
  }
  problems.push(
    ...unknownKeys('template', template, ['name', 'language', 'components']),
  );
  return problems;
}

function validateInteractive(interactive: Json): string[] {
  const problems: string[] = [];
  const type = interactive.type;
  if (typeof type !== 'string' || !INTERACTIVE_TYPES.includes(type)) {
    problems.push(
      `interactive.type must be one of ${INTERACTIVE_TYPES.join(', ')}, got ${JSON.stringify(type)}`,
    );
  }
  const header = interactive.header;
  if (header !== undefined) {
    if (!isObject(header)) {
      problems.push('interactive.header must be an object');
    } else if (header.type === 'text') {
      checkText(
        'interactive.header.text',
        header.text,
        HEADER_TEXT_MAX,
        problems,
      );
      problems.push(
        ...unknownKeys('interactive.header', header, ['type', 'text']),
      );
    } else if (
      header.type === 'image' ||
      header.type === 'video' ||
      header.type === 'document'
    ) {
      const media = header[header.type];
      if (!isObject(media)) {
        problems.push(
          `interactive.header.${header.type} must be a media object`,
        );
      } else {
        problems.push(
          ...validateMediaObject(`interactive.header.${header.type}`, media, {
            caption: false,
            filename: header.type === 'document',
          }),
        );
      }
      problems.push(
        ...unknownKeys('interactive.header', header, ['type', header.type]),
      );
    } else {
      problems.push(
        'interactive.header.type must be text, image, video or document',
      );
    }
  }
  const body = interactive.body;
  if (body === undefined) {
    if (type === 'button' || type === 'list') {
      problems.push(`interactive.body is required for a ${type} message`);
    }
  } else if (!isObject(body)) {
    problems.push('interactive.body must be an object');
  } else {
    checkText(
      'interactive.body.text',
      body.text,
      INTERACTIVE_BODY_MAX,
      problems,
    );
    problems.push(...unknownKeys('interactive.body', body, ['text']));
  }
  const footer = interactive.footer;
  if (footer !== undefined) {
    if (!isObject(footer)) {
      problems.push('interactive.footer must be an object');
    } else {
      checkText(
        'interactive.footer.text',
        footer.text,
        FOOTER_TEXT_MAX,
        problems,
      );
      problems.push(...unknownKeys('interactive.footer', footer, ['text']));
    }
  }
  const action = interactive.action;
  if (!isObject(action)) {
    problems.push('interactive.action is required');
  } else if (type === 'button') {
    problems.push(...validateReplyButtons(action));
  } else if (type === 'list') {
    problems.push(...validateList(action));
  }
  problems.push(
    ...unknownKeys('interactive', interactive, [
      'type',
      'header',
      'body',
      'footer',
      'action',
    ]),
  );
  return problems;
}

function validateReplyButtons(action: Json): string[] {
  const problems: string[] = [];
  const buttons = action.buttons;
  if (
    !Array.isArray(buttons) ||
    buttons.length === 0 ||
    buttons.length > REPLY_BUTTONS_MAX
  ) {
    problems.push(
      `interactive.action.buttons must hold 1 to ${REPLY_BUTTONS_MAX} buttons`,
    );
  }
  const ids = new Set<string>();
  const titles = new Set<string>();
  (Array.isArray(buttons) ? buttons : []).forEach((button: unknown, i) => {
    const path = `interactive.action.buttons[${i}]`;
    if (!isObject(button)) {
      problems.push(`${path} must be an object`);
      return;
    }
    if (button.type !== 'reply') problems.push(`${path}.type must be "reply"`);
    const reply = button.reply;
    if (!isObject(reply)) {
      problems.push(`${path}.reply must be an object with id and title`);
    } else {
      checkText(`${path}.reply.id`, reply.id, REPLY_ID_MAX, problems);
      checkText(`${path}.reply.title`, reply.title, REPLY_TITLE_MAX, problems);
      if (typeof reply.id === 'string') {
        if (reply.id !== reply.id.trim()) {
          problems.push(`${path}.reply.id has leading or trailing spaces`);
        }
        if (ids.has(reply.id)) {
          problems.push(`${path}.reply.id "${reply.id}" is not unique`);
        }
        ids.add(reply.id);
      }
      if (typeof reply.title === 'string') {
        if (titles.has(reply.title)) {
          problems.push(`${path}.reply.title "${reply.title}" is not unique`);
        }
        titles.add(reply.title);
      }
      problems.push(...unknownKeys(`${path}.reply`, reply, ['id', 'title']));
    }
    problems.push(...unknownKeys(path, button, ['type', 'reply']));
  });
  problems.push(...unknownKeys('interactive.action', action, ['buttons']));
  return problems;
}

function validateList(action: Json): string[] {
  const problems: string[] = [];
  checkText(
    'interactive.action.button',
    action.button,
    LIST_BUTTON_MAX,
    problems,
  );
  const sections = action.sections;
  if (
    !Array.isArray(sections) ||
    sections.length === 0 ||
    sections.length > LIST_SECTIONS_MAX
  ) {
    problems.push(
      `interactive.action.sections must hold 1 to ${LIST_SECTIONS_MAX} sections`,
    );
  }
  const list: unknown[] = Array.isArray(sections) ? sections : [];
  const rowIds = new Set<string>();
  let rowCount = 0;
  list.forEach((section, i) => {
    const path = `interactive.action.sections[${i}]`;
    if (!isObject(section)) {
      problems.push(`${path} must be an object`);
      return;
    }
    if (section.title === undefined) {
      if (list.length > 1) {
        problems.push(
          `${path}.title is required when there are two sections or more`,
        );
      }
    } else {
      checkText(`${path}.title`, section.title, SECTION_TITLE_MAX, problems);
    }
    const rows = section.rows;
    if (!Array.isArray(rows) || rows.length === 0) {
      problems.push(`${path}.rows must be a non-empty array`);
    }
    (Array.isArray(rows) ? rows : []).forEach((row: unknown, j) => {
      rowCount += 1;
      const rowPath = `${path}.rows[${j}]`;
      if (!isObject(row)) {
        problems.push(`${rowPath} must be an object`);
        return;
      }
      checkText(`${rowPath}.id`, row.id, ROW_ID_MAX, problems);
      checkText(`${rowPath}.title`, row.title, ROW_TITLE_MAX, problems);
      if (row.description !== undefined) {
        checkText(
          `${rowPath}.description`,
          row.description,
          ROW_DESCRIPTION_MAX,
          problems,
        );
      }
      if (typeof row.id === 'string') {
        if (rowIds.has(row.id)) {
          problems.push(`${rowPath}.id "${row.id}" is not unique`);
        }
        rowIds.add(row.id);
      }
      problems.push(
        ...unknownKeys(rowPath, row, ['id', 'title', 'description']),
      );
    });
    problems.push(...unknownKeys(path, section, ['title', 'rows']));
  });
  if (rowCount > LIST_ROWS_MAX) {
    problems.push(
      `interactive.action.sections hold ${rowCount} rows, more than the ${LIST_ROWS_MAX} allowed`,
    );
  }
  problems.push(
    ...unknownKeys('interactive.action', action, ['button', 'sections']),
  );
  return problems;
}

/**
 * A fake of the WhatsApp Cloud API on a real HTTP port:
 * `POST /{Version}/{Phone-Number-ID}/messages` (sends of every kind, and
 * mark-reads), `POST /{Version}/{Phone-Number-ID}/media` (multipart upload),
 * `GET /{Version}/{Media-ID}` (a media file's URL) and the download of that
 * URL. It checks every request against Meta's documented shapes (the OpenAPI
 * spec and the reference in shared/reference), records what was sent, and
 * answers with Meta's success and error bodies.
 */
export class FakeGraphApi {
  readonly requests: GraphRequest[] = [];
  readonly violations: string[] = [];

  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly sent: SentTextMessage[] = [];
  private readonly payloads: SentPayload[] = [];
  private readonly media = new Map<string, StoredMedia>();
  private readonly uploads: StoredMedia[] = [];
  /** Download token → the media it serves, and whether it has expired. */
  private readonly mediaUrls = new Map<
    string,
    { mediaId: string; expired: boolean }
  >();
  private readonly routeCounts = new Map<GraphRoute, number>();
  private readonly reportedSizes = new Map<string, number | null>();
  private mediaFailures = new Map<
    Exclude<GraphRoute, 'messages'>,
    ScriptedFailure[]
  >();
  private mediaIdCounter = 0;
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

  /** Accepted sends of every kind (text, media, template, interactive, …), in order. */
  sentPayloads(): SentPayload[] {
    return this.payloads.map((sent) => ({
      ...sent,
      payload: structuredClone(sent.payload),
    }));
  }

  /**
   * Registers a media file, as if a customer had sent it: `GET /{id}` then
   * answers its URL, mime type, SHA-256 and size. `reportedSize` makes that
   * answer give another `file_size` (null: none), to test a client's own cap.
   */
  addMedia(
    id: string,
    bytes: Buffer,
    mimeType: string,
    opts: { reportedSize?: number | null } = {},
  ): void {
    this.media.set(id, {
      id,
      bytes: Buffer.from(bytes),
      mimeType,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      filename: null,
      phoneNumberId: null,
    });
    if (opts.reportedSize === undefined) {
      this.reportedSizes.delete(id);
    } else {
      this.reportedSizes.set(id, opts.reportedSize);
    }
  }

  /** A media file the fake holds (registered or uploaded), by id. */
  mediaFile(id: string): StoredMedia | undefined {
    const file = this.media.get(id);
    return file && { ...file, bytes: Buffer.from(file.bytes) };
  }

  /** Accepted uploads, in order. */
  uploadedMedia(): StoredMedia[] {
    return this.uploads.map((file) => ({
      ...file,
      bytes: Buffer.from(file.bytes),
    }));
  }

  /**
   * Every media URL handed out so far answers 404 from now on, as Meta's do
   * after five minutes; a fresh `GET /{media-id}` gives a working one.
   */
  expireMediaUrls(): void {
    for (const url of this.mediaUrls.values()) url.expired = true;
  }

  /** How many requests reached a route (whatever their answer). */
  requestCount(route: GraphRoute): number {
    return this.routeCounts.get(route) ?? 0;
  }

  /**
   * The next `count` requests to a media route fail this way (for sends and
   * mark-reads, see failNext and failNextRead).
   */
  failNextOn(
    route: Exclude<GraphRoute, 'messages'>,
    count: number,
    failure: GraphFailure,
  ): void {
    if (count <= 0) return;
    const queue = this.mediaFailures.get(route) ?? [];
    queue.push({ remaining: count, failure });
    this.mediaFailures.set(route, queue);
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

  /** Clears records, violations, media, request counts, scripted failures and latency. */
  reset(): void {
    this.requests.length = 0;
    this.violations.length = 0;
    this.sent.length = 0;
    this.payloads.length = 0;
    this.media.clear();
    this.uploads.length = 0;
    this.mediaUrls.clear();
    this.reportedSizes.clear();
    this.routeCounts.clear();
    this.mediaFailures = new Map();
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
    const bytes = await this.readBody(req, res);
    if (bytes === null) return;
    const raw = bytes.toString('utf8');
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
    const record: GraphRequest = {
      method: req.method ?? '',
      path,
      headers: { ...req.headers },
      body,
      at: Date.now(),
    };
    this.requests.push(record);

    if (this.latencyMs > 0) {
      const alive = await this.sleep(this.latencyMs, res);
      if (!alive) return;
    }

    const [pathname = path, query = ''] = path.split('?');
    const download = MEDIA_DOWNLOAD_ROUTE.exec(pathname);
    if (download && req.method === 'GET') {
      this.count('media-download');
      this.handleMediaDownload(req, res, decodeURIComponent(download[1] ?? ''));
      return;
    }
    const upload = MEDIA_UPLOAD_ROUTE.exec(pathname);
    if (upload && req.method === 'POST') {
      this.count('media-upload');
      const summary = await this.handleMediaUpload(
        req,
        res,
        upload[1] ?? '',
        decodeURIComponent(upload[2] ?? ''),
        bytes,
      );
      if (summary) record.body = summary;
      return;
    }
    const info = MEDIA_INFO_ROUTE.exec(pathname);
    if (info && req.method === 'GET') {
      this.count('media-info');
      this.handleMediaInfo(
        req,
        res,
        info[1] ?? '',
        decodeURIComponent(info[2] ?? ''),
        new URLSearchParams(query).get('phone_number_id'),
      );
      return;
    }
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
    this.count('messages');
    const version = match[1] ?? '';
    const phoneNumberId = decodeURIComponent(match[2] ?? '');

    if (!this.authorized(req)) {
      this.rejectToken(res);
      return;
    }

    const problems = this.checkNumberPath(version, phoneNumberId);
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
    this.payloads.push({
      phoneNumberId,
      to,
      recipient,
      type: body.type as string,
      payload: structuredClone(body),
      wamid,
    });
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
    if (typeof type === 'string' && MEDIA_TYPES.includes(type)) {
      const media = body[type];
      if (isObject(media)) {
        problems.push(
          ...validateMediaObject(type, media, {
            caption: ['image', 'video', 'document'].includes(type),
            filename: type === 'document',
          }),
        );
      }
    }
    if (type === 'template' && isObject(body.template)) {
      problems.push(...validateTemplate(body.template));
    }
    if (type === 'interactive' && isObject(body.interactive)) {
      problems.push(...validateInteractive(body.interactive));
    }
    return problems;
  }

  /** `GET /{version}/{media-id}`: the media's URL (on this fake) and facts. */
  private handleMediaInfo(
    req: IncomingMessage,
    res: ServerResponse,
    version: string,
    mediaId: string,
    phoneNumberId: string | null,
  ): void {
    if (!this.authorized(req)) {
      this.rejectToken(res);
      return;
    }
    const problems = this.checkVersion(version);
    if (phoneNumberId !== null && !/^\d+$/.test(phoneNumberId)) {
      problems.push(
        `phone_number_id "${phoneNumberId}" is not a numeric Graph object id`,
      );
    }
    if (problems.length > 0) {
      this.rejectInvalid(res, problems);
      return;
    }
    const failure = this.takeScripted(this.mediaFailures.get('media-info'));
    if (failure) {
      this.fail(res, failure);
      return;
    }
    const file = this.media.get(mediaId);
    const owner = file?.phoneNumberId ?? null;
    if (
      !file ||
      (phoneNumberId !== null && owner !== null && owner !== phoneNumberId)
    ) {
      // What the Graph API answers for an id it does not know.
      this.sendJson(res, 400, {
        error: {
          message: `Unsupported get request. Object with ID '${mediaId}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api`,
          type: 'GraphMethodException',
          code: 100,
          error_subcode: 33,
          fbtrace_id: fbtraceId(),
        },
      });
      return;
    }
    const token = randomBytes(16).toString('hex');
    this.mediaUrls.set(token, { mediaId, expired: false });
    const url = `${this.baseUrl}/media-download/${token}?mid=${encodeURIComponent(mediaId)}&ext=${Math.floor(Date.now() / 1000)}&hash=${randomBytes(12).toString('base64url')}`;
    const size = this.reportedSizes.has(mediaId)
      ? this.reportedSizes.get(mediaId)
      : file.bytes.length;
    this.sendJson(res, 200, {
      messaging_product: 'whatsapp',
      url,
      mime_type: file.mimeType,
      sha256: file.sha256,
      ...(size !== null && size !== undefined && { file_size: String(size) }),
      id: file.id,
    });
  }

  /** `GET <media URL>`: the bytes, with the access token; 404 once expired. */
  private handleMediaDownload(
    req: IncomingMessage,
    res: ServerResponse,
    token: string,
  ): void {
    if (!this.authorized(req)) {
      this.rejectToken(res);
      return;
    }
    const url = this.mediaUrls.get(token);
    const file = url && this.media.get(url.mediaId);
    if (!url || !file) {
      this.violations.push(
        `GET of a media URL this fake never handed out: ${req.url ?? ''}`,
      );
    }
    if (!url || !file || url.expired) {
      this.sendPlain(res, 404, 'Not Found');
      return;
    }
    const failure = this.takeScripted(this.mediaFailures.get('media-download'));
    if (failure) {
      this.fail(res, failure);
      return;
    }
    if (res.destroyed || res.headersSent) return;
    res.writeHead(200, {
      'Content-Type': file.mimeType,
      'Content-Length': file.bytes.length,
    });
    res.end(file.bytes);
  }

  /**
   * `POST /{version}/{phone-number-id}/media`: multipart form data with
   * `messaging_product=whatsapp` and `file` (and optionally `type`, the
   * file's MIME type). Returns a summary of the form for the request log,
   * or null when it could not be read.
   */
  private async handleMediaUpload(
    req: IncomingMessage,
    res: ServerResponse,
    version: string,
    phoneNumberId: string,
    bytes: Buffer,
  ): Promise<Json | null> {
    if (!this.authorized(req)) {
      this.rejectToken(res);
      return null;
    }
    const problems = this.checkNumberPath(version, phoneNumberId);
    const contentType = header(req, 'content-type');
    if (!/^multipart\/form-data\s*;.*boundary=/i.test(contentType)) {
      problems.push(
        `Content-Type must be multipart/form-data with a boundary, got "${contentType || '(none)'}"`,
      );
      this.rejectInvalid(res, problems);
      return null;
    }
    let form: FormData;
    try {
      form = await new Request('http://fake-graph-api/', {
        method: 'POST',
        headers: { 'content-type': contentType },
        body: new Uint8Array(bytes),
      }).formData();
    } catch (error) {
      problems.push(`multipart body could not be parsed: ${String(error)}`);
      this.rejectInvalid(res, problems);
      return null;
    }

    const summary: Json = {};
    for (const name of new Set(form.keys())) {
      const value = form.get(name);
      summary[name] =
        value === null || typeof value === 'string'
          ? value
          : { filename: value.name, type: value.type, size: value.size };
      if (!UPLOAD_FIELDS.includes(name)) {
        problems.push(`unknown form field "${name}" in a media upload`);
      }
      if (form.getAll(name).length > 1) {
        problems.push(`form field "${name}" is given more than once`);
      }
    }
    if (form.get('messaging_product') !== 'whatsapp') {
      problems.push('form field messaging_product must be "whatsapp"');
    }
    const file = form.get('file');
    const type = form.get('type');
    if (file === null || typeof file === 'string') {
      problems.push('form field file must be a file part (with a filename)');
    } else {
      if (file.size === 0) problems.push('the uploaded file is empty');
      if (file.type === '') {
        problems.push('the file part has no Content-Type (its MIME type)');
      }
      if (type !== null && type !== file.type) {
        problems.push(
          `form field type ${JSON.stringify(typeof type === 'string' ? type : '(a file)')} differs from the file's Content-Type "${file.type}"`,
        );
      }
    }
    if (problems.length > 0 || file === null || typeof file === 'string') {
      this.rejectInvalid(res, problems);
      return summary;
    }
    const mimeType = file.type.split(';')[0]?.trim().toLowerCase() ?? '';
    const limit = UPLOAD_LIMITS[mimeType];
    if (limit === undefined || file.size > limit) {
      const problem =
        limit === undefined
          ? `MIME type "${file.type}" is not one the Cloud API takes`
          : `a ${mimeType} file of ${file.size} bytes is over the ${limit}-byte limit`;
      this.violations.push(problem);
      this.sendError(res, 400, 131053, '(#131053) Media upload error', problem);
      return summary;
    }

    const failure = this.takeScripted(this.mediaFailures.get('media-upload'));
    if (failure) {
      this.fail(res, failure);
      return summary;
    }
    this.mediaIdCounter += 1;
    const id = String(4490709327384000 + this.mediaIdCounter);
    const content = Buffer.from(await file.arrayBuffer());
    const stored: StoredMedia = {
      id,
      bytes: content,
      mimeType: file.type,
      sha256: createHash('sha256').update(content).digest('hex'),
      filename: file.name,
      phoneNumberId,
    };
    this.media.set(id, stored);
    this.uploads.push(stored);
    this.sendJson(res, 200, { id });
    return summary;
  }

  // --- helpers

  private count(route: GraphRoute): void {
    this.routeCounts.set(route, (this.routeCounts.get(route) ?? 0) + 1);
  }

  private checkVersion(version: string): string[] {
    if (!/^v\d+\.\d+$/.test(version)) {
      return [`Graph API version "${version}" does not look like v25.0`];
    }
    if (this.version !== undefined && version !== this.version) {
      return [
        `Graph API version "${version}" differs from the configured "${this.version}"`,
      ];
    }
    return [];
  }

  private checkNumberPath(version: string, phoneNumberId: string): string[] {
    const problems = this.checkVersion(version);
    if (!/^\d+$/.test(phoneNumberId)) {
      problems.push(
        `phone number id "${phoneNumberId}" is not a numeric Graph object id`,
      );
    }
    return problems;
  }

  private rejectToken(res: ServerResponse): void {
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
  }

  private authorized(req: IncomingMessage): boolean {
    return header(req, 'authorization') === `Bearer ${this.accessToken}`;
  }

  private takeScripted(
    queue: ScriptedFailure[] | undefined,
  ): GraphFailure | undefined {
    const head = queue?.[0];
    if (!head) return undefined;
    head.remaining -= 1;
    if (head.remaining <= 0) queue?.shift();
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

  private sendPlain(res: ServerResponse, status: number, text: string): void {
    if (res.destroyed || res.headersSent) return;
    res.writeHead(status, {
      'Content-Type': 'text/plain; charset=UTF-8',
      'Content-Length': Buffer.byteLength(text),
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
  ): Promise<Buffer | null> {
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let settled = false;
      const finish = (value: Buffer | null) => {
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
      req.on('end', () => finish(Buffer.concat(chunks)));
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
