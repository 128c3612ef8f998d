import { randomBytes } from 'node:crypto';
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  EMBEDDING_MODELS,
  fakeEmbedding,
  toBase64Floats,
} from './fake-embeddings';

export interface ChatRequest {
  model: string;
  messages: Array<{ role: string; content: unknown; name?: string }>;
  body: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
}

export type ChatBehaviour =
  | {
      type: 'reply';
      content: string | ((req: ChatRequest) => string);
      usage?: { prompt: number; completion: number };
    }
  | {
      type: 'error';
      status: number;
      message?: string;
      code?: string;
      /** OpenAI's `error.type`; derived from the status when omitted. */
      errorType?: string;
      /** Extra response headers, e.g. `{ 'retry-after-ms': '10' }` to make SDK retries fast. */
      headers?: Record<string, string>;
    }
  | { type: 'delay'; ms: number; then?: ChatBehaviour }
  | { type: 'empty'; content?: '' | null }
  | { type: 'tool-call'; name: string; arguments: string }
  /** One answer calling several tools at once (parallel tool calls). */
  | { type: 'tool-calls'; calls: Array<{ name: string; arguments: string }> };

/** A valid `POST /v1/audio/transcriptions` request, as the fake parsed its multipart body. */
export interface TranscriptionRequest {
  model: string;
  filename: string;
  /** The file part's own content type. */
  mimeType: string;
  bytes: Buffer;
  /** The other form fields (response_format, language, …). */
  fields: Record<string, string>;
}

/** A valid `POST /v1/embeddings` request. */
export interface EmbeddingRequest {
  model: string;
  input: string[];
  encodingFormat: 'float' | 'base64';
}

/** Every request argument POST /v1/embeddings accepts. */
const EMBEDDING_PARAMS = new Set([
  'input',
  'model',
  'dimensions',
  'encoding_format',
  'user',
]);
/** Inputs one request may carry. */
const MAX_EMBEDDING_INPUTS = 2048;

export type TranscriptionBehaviour =
  | { type: 'text'; text: string }
  | { type: 'error'; status: number; message?: string };

/** Models `/audio/transcriptions` knows. */
const TRANSCRIPTION_MODELS = new Set([
  'whisper-1',
  'gpt-4o-transcribe',
  'gpt-4o-mini-transcribe',
  'gpt-4o-transcribe-diarize',
]);
/** The extensions the endpoint decodes; anything else is a 400 (`.oga` and `.opus` included). */
const TRANSCRIPTION_EXTENSIONS = [
  'flac',
  'mp3',
  'mp4',
  'mpeg',
  'mpga',
  'm4a',
  'ogg',
  'wav',
  'webm',
];
const TRANSCRIPTION_FIELDS = new Set([
  'file',
  'model',
  'chunking_strategy',
  'include[]',
  'language',
  'prompt',
  'response_format',
  'stream',
  'temperature',
  'timestamp_granularities[]',
]);

type Json = Record<string, unknown>;
type Resolved = Exclude<ChatBehaviour, { type: 'delay' }>;

const MAX_BODY_BYTES = 10 * 1024 * 1024;
const ROLES = ['system', 'developer', 'user', 'assistant', 'tool', 'function'];
/** Every request argument POST /v1/chat/completions accepts; anything else is a 400. */
const KNOWN_PARAMS = new Set([
  'messages',
  'model',
  'audio',
  'frequency_penalty',
  'function_call',
  'functions',
  'logit_bias',
  'logprobs',
  'max_completion_tokens',
  'max_tokens',
  'metadata',
  'modalities',
  'n',
  'parallel_tool_calls',
  'prediction',
  'presence_penalty',
  'prompt_cache_key',
  'prompt_cache_retention',
  'reasoning_effort',
  'response_format',
  'safety_identifier',
  'seed',
  'service_tier',
  'stop',
  'store',
  'stream',
  'stream_options',
  'temperature',
  'tool_choice',
  'tools',
  'top_logprobs',
  'top_p',
  'user',
  'verbosity',
  'web_search_options',
]);

/** Why the real API would answer 400 (OpenAI's `error.message`, `param`, `code`). */
interface Invalid {
  invalid: string;
  param: string | null;
  code: string | null;
}

function invalid(
  message: string,
  param: string | null = null,
  code: string | null = null,
): Invalid {
  return { invalid: message, param, code };
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function header(req: IncomingMessage, name: string): string {
  const value = req.headers[name];
  return Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part: unknown) =>
        isObject(part) && typeof part.text === 'string' ? part.text : '',
      )
      .join('');
  }
  return '';
}

function tokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function typeOfJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function maskKey(key: string): string {
  if (key.length <= 8) return '*'.repeat(key.length);
  return `${key.slice(0, 3)}${'*'.repeat(key.length - 7)}${key.slice(-4)}`;
}

function defaultErrorType(status: number): string {
  if (status === 429) return 'requests';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

function defaultErrorCode(status: number): string | null {
  if (status === 401) return 'invalid_api_key';
  if (status === 429) return 'rate_limit_exceeded';
  if (status >= 500) return 'server_error';
  return null;
}

function defaultErrorMessage(status: number): string {
  if (status === 401) return 'Incorrect API key provided.';
  if (status === 429) {
    return 'Rate limit reached for requests. Please try again in 20ms.';
  }
  if (status >= 500) {
    return 'The server had an error while processing your request. Sorry about that!';
  }
  return 'Scripted error.';
}

/**
 * A fake of OpenAI's Chat Completions API (`POST /v1/chat/completions`) on a real
 * HTTP port, for the real `openai` SDK: `new OpenAI({ apiKey, baseURL: fake.baseUrl })`.
 * Replies follow a queue of scripted behaviours, then a default (an echo of the
 * last user message).
 */
export class FakeOpenAi {
  /** Valid transcription requests, in arrival order. */
  readonly transcriptions: TranscriptionRequest[] = [];
  private transcriptionQueue: TranscriptionBehaviour[] = [];
  /** Valid embedding requests, in arrival order. */
  readonly embeddingRequests: EmbeddingRequest[] = [];
  /** While set, every embedding request fails with this status. */
  private embeddingFailure: number | null = null;
  /** Valid chat requests (the ones that consumed a behaviour), in arrival order. */
  readonly requests: ChatRequest[] = [];
  /** Every request the real API would have rejected with a 400/404, described. */
  readonly violations: string[] = [];

  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private queue: ChatBehaviour[] = [];
  private fallback: ChatBehaviour | undefined;
  private closed = false;

  private constructor(
    private readonly server: Server,
    readonly baseUrl: string,
    private readonly apiKey: string,
  ) {}

  static async start(opts: { apiKey?: string } = {}): Promise<FakeOpenAi> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    const fake = new FakeOpenAi(
      server,
      `http://127.0.0.1:${port}/v1`,
      opts.apiKey ?? 'test-openai-key',
    );
    server.on('connection', (socket: Socket) => {
      fake.sockets.add(socket);
      socket.once('close', () => fake.sockets.delete(socket));
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      fake.handle(req, res).catch((error: unknown) => {
        fake.violations.push(`fake-openai internal error: ${String(error)}`);
        fake.sendError(res, 500, String(error), 'server_error', null, null);
      });
    });
    return fake;
  }

  /** The behaviour used when the queue is empty. Default: reply `Echo: <last user message>`. */
  setDefault(behaviour: ChatBehaviour): void {
    this.fallback = behaviour;
  }

  /** Behaviours consumed one per valid request, before the default. */
  enqueue(...behaviours: ChatBehaviour[]): void {
    this.queue.push(...behaviours);
  }

  /** Answers for the next transcriptions; then `transcript of <file name>`. */
  enqueueTranscription(...behaviours: TranscriptionBehaviour[]): void {
    this.transcriptionQueue.push(...behaviours);
  }

  /** Makes every `POST /v1/embeddings` answer `status` (e.g. 500, 429) until called with null. */
  failEmbeddings(status: number | null): void {
    this.embeddingFailure = status;
  }

  /** Clears requests, violations, the queues and the default. */
  reset(): void {
    this.embeddingRequests.length = 0;
    this.embeddingFailure = null;
    this.transcriptions.length = 0;
    this.transcriptionQueue = [];
    this.requests.length = 0;
    this.violations.length = 0;
    this.queue = [];
    this.fallback = undefined;
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
    const body = await this.readBody(req, res);
    if (body === null) return;
    const raw = body.toString('utf8');
    const path = (req.url ?? '/').split('?')[0] ?? '/';

    if (
      req.method === 'POST' &&
      path.replace(/\/$/, '') === '/v1/audio/transcriptions'
    ) {
      await this.transcribe(body, req, res);
      return;
    }

    if (req.method === 'POST' && path.replace(/\/$/, '') === '/v1/embeddings') {
      this.embed(raw, req, res);
      return;
    }

    if (
      req.method !== 'POST' ||
      path.replace(/\/$/, '') !== '/v1/chat/completions'
    ) {
      this.violations.push(`unknown route: ${req.method} ${req.url}`);
      this.sendError(
        res,
        404,
        `Invalid URL (${req.method} ${path})`,
        'invalid_request_error',
        null,
        null,
      );
      return;
    }

    const auth = header(req, 'authorization');
    if (auth !== `Bearer ${this.apiKey}`) {
      const given = auth.startsWith('Bearer ') ? auth.slice(7) : '';
      this.sendError(
        res,
        401,
        given
          ? `Incorrect API key provided: ${maskKey(given)}. You can find your API key at https://platform.openai.com/account/api-keys.`
          : "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        'invalid_request_error',
        null,
        'invalid_api_key',
      );
      return;
    }

    const request = this.parse(raw, req);
    if ('invalid' in request) {
      this.violations.push(request.invalid);
      this.sendError(
        res,
        400,
        request.invalid,
        'invalid_request_error',
        request.param,
        request.code,
      );
      return;
    }
    this.requests.push(request);

    let behaviour: ChatBehaviour =
      this.queue.shift() ?? this.defaultBehaviour();
    // Told to call no tool, the model answers in text.
    if (
      request.body.tool_choice === 'none' &&
      (behaviour.type === 'tool-call' || behaviour.type === 'tool-calls')
    ) {
      behaviour = this.defaultBehaviour();
    }
    while (behaviour.type === 'delay') {
      const alive = await this.sleep(behaviour.ms, res);
      if (!alive) return;
      behaviour = behaviour.then ?? this.defaultBehaviour();
    }
    this.answer(res, request, behaviour);
  }

  /**
   * `POST /v1/audio/transcriptions`: a multipart form parsed as the real
   * API parses it; the model must be one it knows and the file name must
   * carry an extension it decodes.
   */
  private async transcribe(
    body: Buffer,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    if (header(req, 'authorization') !== `Bearer ${this.apiKey}`) {
      this.sendError(
        res,
        401,
        'Incorrect API key provided.',
        'invalid_request_error',
        null,
        'invalid_api_key',
      );
      return;
    }
    const reject = (message: string, param: string | null) => {
      this.violations.push(`transcription: ${message}`);
      this.sendError(res, 400, message, 'invalid_request_error', param, null);
    };
    const contentType = header(req, 'content-type');
    if (!contentType.toLowerCase().startsWith('multipart/form-data')) {
      reject(`expected multipart/form-data, got ${contentType}`, null);
      return;
    }
    let form: FormData;
    try {
      form = await new Request('http://fake/', {
        method: 'POST',
        headers: { 'content-type': contentType },
        body: new Uint8Array(body),
      }).formData();
    } catch (error) {
      reject(`could not parse the multipart body: ${String(error)}`, null);
      return;
    }
    const fields: Record<string, string> = {};
    let file: File | null = null;
    for (const [name, value] of form.entries()) {
      if (!TRANSCRIPTION_FIELDS.has(name)) {
        reject(`Unrecognized request argument supplied: ${name}`, name);
        return;
      }
      if (typeof value === 'string') fields[name] = value;
      else if (name === 'file') file = value;
    }
    const model = fields.model ?? '';
    if (!TRANSCRIPTION_MODELS.has(model)) {
      reject(
        `The model \`${model}\` does not exist or you do not have access to it.`,
        'model',
      );
      return;
    }
    if (!file) {
      reject("you must provide a 'file' field", 'file');
      return;
    }
    const ext = /\.([^.]+)$/.exec(file.name)?.[1]?.toLowerCase() ?? '';
    if (!TRANSCRIPTION_EXTENSIONS.includes(ext)) {
      reject(
        `Invalid file format. Supported formats: ${JSON.stringify(TRANSCRIPTION_EXTENSIONS)}`,
        'file',
      );
      return;
    }
    const request: TranscriptionRequest = {
      model,
      filename: file.name,
      mimeType: file.type,
      bytes: Buffer.from(await file.arrayBuffer()),
      fields,
    };
    this.transcriptions.push(request);
    const behaviour: TranscriptionBehaviour =
      this.transcriptionQueue.shift() ?? {
        type: 'text',
        text: `transcript of ${file.name}`,
      };
    if (behaviour.type === 'error') {
      this.sendError(
        res,
        behaviour.status,
        behaviour.message ?? defaultErrorMessage(behaviour.status),
        defaultErrorType(behaviour.status),
        null,
        defaultErrorCode(behaviour.status),
      );
      return;
    }
    this.sendJson(res, 200, { text: behaviour.text });
  }

  /**
   * `POST /v1/embeddings`, checked as the real API checks it (model, input a
   * non-empty string or array of them, at most 2048, no empty strings;
   * `dimensions` only for the text-embedding-3 models), answered with
   * `fakeEmbedding` vectors as floats or base64 (the SDK asks for base64).
   */
  private embed(raw: string, req: IncomingMessage, res: ServerResponse): void {
    if (header(req, 'authorization') !== `Bearer ${this.apiKey}`) {
      this.sendError(
        res,
        401,
        'Incorrect API key provided.',
        'invalid_request_error',
        null,
        'invalid_api_key',
      );
      return;
    }
    const reject = (message: string, param: string | null, status = 400) => {
      this.violations.push(`embeddings: ${message}`);
      this.sendError(
        res,
        status,
        message,
        'invalid_request_error',
        param,
        status === 404 ? 'model_not_found' : null,
      );
    };
    let body: unknown;
    try {
      body = JSON.parse(raw) as unknown;
    } catch {
      reject('We could not parse the JSON body of your request.', null);
      return;
    }
    if (!isObject(body)) {
      reject('Invalid type for request body: expected an object.', null);
      return;
    }
    for (const key of Object.keys(body)) {
      if (!EMBEDDING_PARAMS.has(key)) {
        reject(`Unrecognized request argument supplied: ${key}`, key);
        return;
      }
    }
    const model = body.model;
    if (typeof model !== 'string' || model.length === 0) {
      reject('you must provide a model parameter', 'model');
      return;
    }
    const native = EMBEDDING_MODELS[model];
    if (native === undefined) {
      reject(
        `The model \`${model}\` does not exist or you do not have access to it.`,
        'model',
        404,
      );
      return;
    }
    const input = typeof body.input === 'string' ? [body.input] : body.input;
    if (
      !Array.isArray(input) ||
      input.length === 0 ||
      input.length > MAX_EMBEDDING_INPUTS ||
      !input.every((i): i is string => typeof i === 'string' && i.length > 0)
    ) {
      reject(
        `'$.input' is invalid: expected a non-empty string or an array of 1 to ${MAX_EMBEDDING_INPUTS} non-empty strings.`,
        'input',
      );
      return;
    }
    const format = body.encoding_format ?? 'float';
    if (format !== 'float' && format !== 'base64') {
      reject(
        `Invalid value for 'encoding_format': expected 'float' or 'base64'.`,
        'encoding_format',
      );
      return;
    }
    let dimensions = native;
    if (body.dimensions !== undefined) {
      if (
        !model.startsWith('text-embedding-3') ||
        !Number.isInteger(body.dimensions) ||
        (body.dimensions as number) < 1 ||
        (body.dimensions as number) > native
      ) {
        reject(`Invalid 'dimensions' for ${model}.`, 'dimensions');
        return;
      }
      dimensions = body.dimensions as number;
    }
    this.embeddingRequests.push({ model, input, encodingFormat: format });
    if (this.embeddingFailure !== null) {
      this.sendError(
        res,
        this.embeddingFailure,
        defaultErrorMessage(this.embeddingFailure),
        defaultErrorType(this.embeddingFailure),
        null,
        defaultErrorCode(this.embeddingFailure),
      );
      return;
    }
    const tokenCount = input.reduce((n, text) => n + tokens(text), 0);
    this.sendJson(res, 200, {
      object: 'list',
      data: input.map((text, index) => {
        const vector = fakeEmbedding(text, dimensions);
        return {
          object: 'embedding',
          index,
          embedding: format === 'base64' ? toBase64Floats(vector) : vector,
        };
      }),
      model,
      usage: { prompt_tokens: tokenCount, total_tokens: tokenCount },
    });
  }

  private defaultBehaviour(): ChatBehaviour {
    return (
      this.fallback ?? {
        type: 'reply',
        content: (req) => {
          const lastUser = [...req.messages]
            .reverse()
            .find((m) => m.role === 'user');
          return `Echo: ${textOf(lastUser?.content)}`;
        },
      }
    );
  }

  private parse(raw: string, req: IncomingMessage): ChatRequest | Invalid {
    const contentType = header(req, 'content-type').toLowerCase();
    if (!contentType.startsWith('application/json')) {
      return invalid(
        `Invalid Content-Type header (${contentType || 'none'}), expected application/json.`,
      );
    }
    let body: unknown;
    try {
      body = JSON.parse(raw) as unknown;
    } catch {
      return invalid(
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
      );
    }
    if (!isObject(body)) {
      return invalid(
        `Invalid type for request body: expected an object, but got ${typeOfJson(body)} instead.`,
      );
    }
    for (const key of Object.keys(body)) {
      if (!KNOWN_PARAMS.has(key)) {
        return invalid(`Unrecognized request argument supplied: ${key}`);
      }
    }
    if (typeof body.model !== 'string' || body.model.length === 0) {
      return invalid('you must provide a model parameter');
    }
    const messages = body.messages;
    if (messages === undefined) {
      return invalid(
        "Missing required parameter: 'messages'.",
        'messages',
        'missing_required_parameter',
      );
    }
    if (!Array.isArray(messages)) {
      return invalid(
        `Invalid type for 'messages': expected an array of objects, but got ${typeOfJson(messages)} instead.`,
        'messages',
        'invalid_type',
      );
    }
    if (messages.length === 0) {
      return invalid(
        "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
        'messages',
        'empty_array',
      );
    }
    for (const [i, message] of messages.entries()) {
      const problem = this.checkMessage(message as unknown, i);
      if (problem) return problem;
    }
    const toolProblem =
      checkToolSequence(messages as Json[]) ?? checkTools(body);
    if (toolProblem) return toolProblem;
    return {
      model: body.model,
      messages: messages as ChatRequest['messages'],
      body,
      headers: { ...req.headers },
    };
  }

  private checkMessage(message: unknown, i: number): Invalid | null {
    const at = `messages[${i}]`;
    if (!isObject(message)) {
      return invalid(
        `Invalid type for '${at}': expected an object, but got ${typeOfJson(message)} instead.`,
        at,
        'invalid_type',
      );
    }
    const role = message.role;
    if (typeof role !== 'string') {
      return invalid(
        `Missing required parameter: '${at}.role'.`,
        `${at}.role`,
        'missing_required_parameter',
      );
    }
    if (!ROLES.includes(role)) {
      return invalid(
        `Invalid value: '${role}'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.`,
        `${at}.role`,
        'invalid_value',
      );
    }
    const content = message.content;
    const contentOptional =
      role === 'assistant' &&
      (message.tool_calls !== undefined || message.function_call !== undefined);
    if (content === undefined || content === null) {
      if (contentOptional) return null;
      return invalid(
        `Missing required parameter: '${at}.content'.`,
        `${at}.content`,
        'missing_required_parameter',
      );
    }
    if (typeof content !== 'string' && !Array.isArray(content)) {
      return invalid(
        `Invalid type for '${at}.content': expected one of a string or array of objects, but got ${typeOfJson(content)} instead.`,
        `${at}.content`,
        'invalid_type',
      );
    }
    if (role === 'tool' && typeof message.tool_call_id !== 'string') {
      return invalid(
        `Missing required parameter: '${at}.tool_call_id'.`,
        `${at}.tool_call_id`,
        'missing_required_parameter',
      );
    }
    return null;
  }

  private answer(
    res: ServerResponse,
    request: ChatRequest,
    behaviour: Resolved,
  ): void {
    if (behaviour.type === 'error') {
      this.sendError(
        res,
        behaviour.status,
        behaviour.message ?? defaultErrorMessage(behaviour.status),
        behaviour.errorType ?? defaultErrorType(behaviour.status),
        null,
        behaviour.code ?? defaultErrorCode(behaviour.status),
        behaviour.headers,
      );
      return;
    }

    const promptTokens = request.messages.reduce(
      (sum, m) => sum + tokens(textOf(m.content)) + 3,
      3,
    );
    let message: Json;
    let finishReason: 'stop' | 'tool_calls';
    let completionText: string;
    if (behaviour.type === 'tool-call' || behaviour.type === 'tool-calls') {
      const calls =
        behaviour.type === 'tool-call'
          ? [{ name: behaviour.name, arguments: behaviour.arguments }]
          : behaviour.calls;
      message = {
        role: 'assistant',
        content: null,
        refusal: null,
        annotations: [],
        tool_calls: calls.map((call) => ({
          id: `call_${randomBytes(12).toString('base64url')}`,
          type: 'function',
          function: { name: call.name, arguments: call.arguments },
        })),
      };
      finishReason = 'tool_calls';
      completionText = calls.map((c) => c.name + c.arguments).join('');
    } else {
      const content =
        behaviour.type === 'empty'
          ? (behaviour.content ?? '')
          : typeof behaviour.content === 'function'
            ? behaviour.content(request)
            : behaviour.content;
      message = { role: 'assistant', content, refusal: null, annotations: [] };
      finishReason = 'stop';
      completionText = content ?? '';
    }
    const explicit = behaviour.type === 'reply' ? behaviour.usage : undefined;
    const prompt = explicit?.prompt ?? promptTokens;
    const completion =
      explicit?.completion ?? (completionText ? tokens(completionText) : 0);
    const usage = {
      prompt_tokens: prompt,
      completion_tokens: completion,
      total_tokens: prompt + completion,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: {
        reasoning_tokens: 0,
        audio_tokens: 0,
        accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0,
      },
    };
    const id = `chatcmpl-${randomBytes(15).toString('base64url')}`;
    const created = Math.floor(Date.now() / 1000);
    const n = typeof request.body.n === 'number' ? request.body.n : 1;

    if (request.body.stream === true) {
      this.stream(res, request, { id, created, message, finishReason, usage });
      return;
    }
    this.sendJson(res, 200, {
      id,
      object: 'chat.completion',
      created,
      model: request.model,
      choices: Array.from({ length: Math.max(1, n) }, (_, index) => ({
        index,
        message,
        logprobs: null,
        finish_reason: finishReason,
      })),
      usage,
      service_tier: 'default',
      system_fingerprint: 'fp_fake0001',
    });
  }

  /** Server-sent events, as the API answers `stream: true`. */
  private stream(
    res: ServerResponse,
    request: ChatRequest,
    reply: {
      id: string;
      created: number;
      message: Json;
      finishReason: string;
      usage: Json;
    },
  ): void {
    if (res.destroyed || res.headersSent) return;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'x-request-id': `req_${randomBytes(16).toString('hex')}`,
    });
    const chunk = (choices: unknown[], usage: unknown = null) =>
      `data: ${JSON.stringify({
        id: reply.id,
        object: 'chat.completion.chunk',
        created: reply.created,
        model: request.model,
        service_tier: 'default',
        system_fingerprint: 'fp_fake0001',
        choices,
        usage,
      })}\n\n`;
    const delta = (d: Json, finish: string | null = null) => ({
      index: 0,
      delta: d,
      logprobs: null,
      finish_reason: finish,
    });
    const parts: string[] = [
      chunk([delta({ role: 'assistant', content: '', refusal: null })]),
    ];
    const content = reply.message.content;
    if (typeof content === 'string' && content.length > 0) {
      for (const piece of content.match(/[\s\S]{1,16}/g) ?? []) {
        parts.push(chunk([delta({ content: piece })]));
      }
    }
    const toolCalls = reply.message.tool_calls;
    if (Array.isArray(toolCalls)) {
      toolCalls.forEach((call: unknown, index) => {
        if (isObject(call))
          parts.push(chunk([delta({ tool_calls: [{ index, ...call }] })]));
      });
    }
    parts.push(chunk([delta({}, reply.finishReason)]));
    const options = request.body.stream_options;
    if (isObject(options) && options.include_usage === true) {
      parts.push(chunk([], reply.usage));
    }
    parts.push('data: [DONE]\n\n');
    res.end(parts.join(''));
  }

  private sendError(
    res: ServerResponse,
    status: number,
    message: string,
    type: string,
    param: string | null,
    code: string | null,
    headers: Record<string, string> = {},
  ): void {
    this.sendJson(
      res,
      status,
      { error: { message, type, param, code } },
      headers,
    );
  }

  private sendJson(
    res: ServerResponse,
    status: number,
    payload: unknown,
    headers: Record<string, string> = {},
  ): void {
    if (res.destroyed || res.headersSent) return;
    const text = JSON.stringify(payload);
    res.writeHead(status, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(text),
      'x-request-id': `req_${randomBytes(16).toString('hex')}`,
      'openai-processing-ms': '1',
      ...headers,
    });
    res.end(text);
  }

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
            'Request too large.',
            'invalid_request_error',
            null,
            null,
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

  /** Waits `ms`; resolves false when the client went away (e.g. the SDK timed out) or the fake closed. */
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

/**
 * OpenAI's checks of a conversation with tool calls: every `tool` message
 * answers a call of the assistant message just before it, and every call of
 * an assistant message is answered before the next other message.
 */
function checkToolSequence(messages: Json[]): Invalid | null {
  let open: Set<string> | null = null;
  for (const [i, message] of messages.entries()) {
    if (message.role === 'tool') {
      if (!open || !open.has(String(message.tool_call_id))) {
        return invalid(
          "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
          `messages.[${i}].role`,
        );
      }
      open.delete(String(message.tool_call_id));
      continue;
    }
    if (open && open.size > 0) {
      return invalid(
        `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${[...open].join(', ')}`,
        'messages',
      );
    }
    open = null;
    if (message.role === 'assistant' && Array.isArray(message.tool_calls)) {
      open = new Set(
        (message.tool_calls as Json[]).map((call) => String(call.id)),
      );
    }
  }
  if (open && open.size > 0) {
    return invalid(
      `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${[...open].join(', ')}`,
      'messages',
    );
  }
  return null;
}

/** OpenAI's checks of `tools` and `tool_choice`. */
function checkTools(body: Json): Invalid | null {
  const tools = body.tools;
  if (tools === undefined) {
    if (body.tool_choice !== undefined) {
      return invalid(
        "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
        'tool_choice',
      );
    }
    return null;
  }
  if (!Array.isArray(tools) || tools.length === 0) {
    return invalid(
      "Invalid 'tools': empty array. Expected an array with minimum length 1, but got an empty array instead.",
      'tools',
      'empty_array',
    );
  }
  for (const [i, tool] of (tools as Json[]).entries()) {
    const fn = isObject(tool) ? tool.function : undefined;
    const name = isObject(fn) ? fn.name : undefined;
    if (
      !isObject(tool) ||
      tool.type !== 'function' ||
      typeof name !== 'string' ||
      !/^[a-zA-Z0-9_-]{1,64}$/.test(name)
    ) {
      return invalid(
        `Invalid 'tools[${i}].function.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.`,
        `tools[${i}].function.name`,
        'invalid_value',
      );
    }
    if (
      isObject(fn) &&
      fn.parameters !== undefined &&
      !isObject(fn.parameters)
    ) {
      return invalid(
        `Invalid type for 'tools[${i}].function.parameters': expected an object.`,
        `tools[${i}].function.parameters`,
        'invalid_type',
      );
    }
  }
  const choice = body.tool_choice;
  if (
    choice !== undefined &&
    !['none', 'auto', 'required'].includes(choice as string) &&
    !isObject(choice)
  ) {
    return invalid(
      `Invalid value: '${JSON.stringify(choice)}'. Supported values are: 'none', 'auto', and 'required'.`,
      'tool_choice',
      'invalid_value',
    );
  }
  return null;
}
