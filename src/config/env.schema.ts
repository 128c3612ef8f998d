import 'reflect-metadata';
import { Transform } from 'class-transformer';
import type { HttpToolSpec } from '../tools/http/tools-file';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsPositive,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  MinLength,
  ValidateIf,
} from 'class-validator';

export const NODE_ENVS = ['development', 'production', 'test'] as const;
export const LOG_LEVELS = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
] as const;

/** PostgreSQL's built-in text search configurations with a stemmer (`simple`: none). */
export const KNOWLEDGE_LANGUAGES = [
  'simple',
  'arabic',
  'armenian',
  'basque',
  'catalan',
  'danish',
  'dutch',
  'english',
  'finnish',
  'french',
  'german',
  'greek',
  'hindi',
  'hungarian',
  'indonesian',
  'irish',
  'italian',
  'lithuanian',
  'nepali',
  'norwegian',
  'portuguese',
  'romanian',
  'russian',
  'serbian',
  'spanish',
  'swedish',
  'tamil',
  'turkish',
  'yiddish',
] as const;

export const DEFAULT_FALLBACK_MESSAGE =
  "Sorry, I can't answer right now. Please try again in a few minutes.";

export const DEFAULT_MEDIA_REPLY_MESSAGE =
  'Thanks! I can only read text messages for now. Could you tell me in words what you need?';

export const DEFAULT_HANDOFF_MESSAGE =
  "I'm passing you to a member of our team. They will reply here as soon as they can.";

/** 'true'/'false' (any case), '1'/'0', 'yes'/'no'; anything else is left for the validator to reject. */
const parseBoolean = (value: unknown): unknown => {
  if (value === undefined) return undefined;
  if (typeof value === 'boolean') return value;
  if (typeof value !== 'string') return value;
  const text = value.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(text)) return true;
  if (['false', '0', 'no', 'off'].includes(text)) return false;
  return value;
};

/** Empty strings in .env files mean "not set". */
const emptyToUndefined = ({ value }: { value: unknown }) =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

/**
 * Every environment variable the service reads, with its default. Validated
 * once at boot (see validate-env.ts); the rest of the code receives the typed
 * slices of AppConfig and never reads process.env.
 */
export class EnvironmentVariables {
  // --- server
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT: number = 3001;

  @IsIn(NODE_ENVS)
  NODE_ENV: (typeof NODE_ENVS)[number] = 'development';

  /**
   * Behind a load balancer: `true` (trust every hop) or a comma-separated
   * list of the proxies' addresses/CIDRs. Decides the client address
   * the admin throttle counts by; unset, X-Forwarded-For is ignored.
   */
  @Matches(/^(true|false|[0-9a-fA-F.:/]+(\s*,\s*[0-9a-fA-F.:/]+)*)$/, {
    message:
      'TRUST_PROXY must be true, false, or a comma-separated list of proxy addresses/CIDRs',
  })
  TRUST_PROXY: string = 'false';

  @IsIn(LOG_LEVELS)
  LOG_LEVEL: (typeof LOG_LEVELS)[number] = 'info';

  // --- LLM
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  OPENAI_API_KEY?: string;

  @IsString()
  @MinLength(1)
  OPENAI_MODEL: string = 'gpt-4.1-mini';

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsUrl({ require_tld: false, require_protocol: true })
  OPENAI_BASE_URL?: string;

  @IsInt()
  @Min(100)
  LLM_TIMEOUT_MS: number = 20000;

  @IsInt()
  @Min(0)
  @Max(10)
  LLM_MAX_RETRIES: number = 2;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  SYSTEM_PROMPT?: string;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  SYSTEM_PROMPT_FILE?: string;

  @IsString()
  @MinLength(1)
  BUSINESS_NAME: string = 'ClariOps';

  @IsString()
  @MinLength(1)
  FALLBACK_MESSAGE: string = DEFAULT_FALLBACK_MESSAGE;

  @IsString()
  @MinLength(1)
  MEDIA_REPLY_MESSAGE: string = DEFAULT_MEDIA_REPLY_MESSAGE;

  /** Show images and stickers to the model (image inputs); off: the media notice. */
  @Transform(({ obj, key }: { obj: Record<string, unknown>; key: string }) =>
    parseBoolean(obj[key]),
  )
  @IsBoolean({ message: 'LLM_VISION must be true or false' })
  LLM_VISION: boolean = false;

  /** Model of `POST /audio/transcriptions` for voice notes; empty disables transcription. */
  @IsString()
  OPENAI_TRANSCRIPTION_MODEL: string = 'gpt-4o-mini-transcribe';

  /** Where transcription runs, when not at OPENAI_BASE_URL. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsUrl({ require_tld: false, require_protocol: true })
  OPENAI_TRANSCRIPTION_BASE_URL?: string;

  /** The most characters of a document's text the model is given. */
  @IsInt()
  @Min(100)
  @Max(1_000_000)
  DOCUMENT_MAX_CHARS: number = 20000;

  // --- knowledge base
  /** Model of `POST /embeddings` for the knowledge base; empty disables embeddings (full-text search only). */
  @IsString()
  OPENAI_EMBEDDING_MODEL: string = 'text-embedding-3-small';

  /** How many knowledge chunks a turn gives the model. */
  @IsInt()
  @Min(1)
  @Max(20)
  KNOWLEDGE_TOP_K: number = 4;

  /** The PostgreSQL text search configuration whose stemming the knowledge search uses (besides exact words). */
  @IsIn(KNOWLEDGE_LANGUAGES)
  KNOWLEDGE_LANGUAGE: (typeof KNOWLEDGE_LANGUAGES)[number] = 'english';

  /** The largest file `POST /api/knowledge` takes, in bytes. */
  @IsInt()
  @Min(1024)
  @Max(100 * 1024 * 1024)
  KNOWLEDGE_MAX_FILE_BYTES: number = 10 * 1024 * 1024;

  /** The longest text (in characters) a knowledge document may have once extracted. */
  @IsInt()
  @Min(100)
  @Max(5_000_000)
  KNOWLEDGE_MAX_CHARS: number = 500_000;

  /** Offer the LLM a `request_human` tool; turn off for models without tool calling. */
  @Transform(({ obj, key }: { obj: Record<string, unknown>; key: string }) =>
    parseBoolean(obj[key]),
  )
  @IsBoolean({ message: 'LLM_HANDOFF_TOOL must be true or false' })
  LLM_HANDOFF_TOOL: boolean = true;

  /** Comma-separated words or phrases that hand a conversation to a person without asking the LLM. */
  @IsString()
  HANDOFF_KEYWORDS: string = '';

  @IsString()
  @MinLength(1)
  HANDOFF_MESSAGE: string = DEFAULT_HANDOFF_MESSAGE;

  // --- HTTP tools and the tool loop
  /** JSON file declaring the HTTP tools the LLM may call (see the README's "Tools"). */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  TOOLS_FILE?: string;

  /** Rounds of tool calls one turn may make before the model must answer. */
  @IsInt()
  @Min(0)
  @Max(10)
  TOOL_MAX_ROUNDS: number = 3;

  /** How long one tool call may take (a tool of TOOLS_FILE may set its own `timeoutMs`). */
  @IsInt()
  @Min(100)
  @Max(120000)
  TOOL_TIMEOUT_MS: number = 10000;

  /** The most characters of one tool's answer given to the model. */
  @IsInt()
  @Min(100)
  @Max(100000)
  TOOL_RESULT_MAX_CHARS: number = 8000;

  /** Derived from TOOLS_FILE by validateEnv; not an environment variable. */
  toolsFromFile: HttpToolSpec[] = [];

  /**
   * Comma-separated Streamable-HTTP URLs of MCP servers whose tools the model
   * may call; `#name` at the end of a URL names its tools' prefix. Checked in
   * validate-env.ts (mcp-servers.ts).
   */
  @IsString()
  MCP_SERVERS: string = '';

  /**
   * JSON `{"<URL as in MCP_SERVERS>": {"Header": "value"}}`; values may hold
   * `${ENV_NAME}`. Checked in validate-env.ts (mcp-servers.ts).
   */
  @IsString()
  MCP_SERVERS_HEADERS: string = '';

  // --- WhatsApp Cloud API
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^\d+$/, { message: 'WHATSAPP_PHONE_NUMBER_ID must be digits' })
  WHATSAPP_PHONE_NUMBER_ID?: string;

  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^\d+$/, {
    message: 'WHATSAPP_BUSINESS_ACCOUNT_ID must be digits',
  })
  WHATSAPP_BUSINESS_ACCOUNT_ID?: string;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  WHATSAPP_ACCESS_TOKEN?: string;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  WHATSAPP_WEBHOOK_VERIFY_TOKEN?: string;

  @Transform(emptyToUndefined)
  @ValidateIf(
    (env: EnvironmentVariables) =>
      env.NODE_ENV === 'production' || env.WHATSAPP_APP_SECRET !== undefined,
  )
  @IsString({
    message:
      'WHATSAPP_APP_SECRET is required when NODE_ENV=production (it verifies X-Hub-Signature-256)',
  })
  WHATSAPP_APP_SECRET?: string;

  @IsUrl({ require_tld: false, require_protocol: true })
  WHATSAPP_API_BASE_URL: string = 'https://graph.facebook.com';

  @Matches(/^v\d+\.\d+$/, {
    message: 'WHATSAPP_API_VERSION must look like v25.0',
  })
  WHATSAPP_API_VERSION: string = 'v25.0';

  @IsInt()
  @Min(1)
  @Max(10)
  WHATSAPP_SEND_MAX_ATTEMPTS: number = 5;

  @IsInt()
  @Min(1)
  WHATSAPP_RETRY_BASE_MS: number = 1000;

  @IsInt()
  @Min(100)
  WHATSAPP_HTTP_TIMEOUT_MS: number = 15000;

  // --- sessions and replies
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @IsPositive()
  SESSION_TIMEOUT_MINUTES: number = 30;

  @IsInt()
  @Min(0)
  @Max(200)
  CONTEXT_MESSAGES: number = 10;

  @IsInt()
  @Min(20)
  @Max(4096)
  MAX_MESSAGE_LENGTH: number = 4096;

  @IsInt()
  @Min(0)
  @Max(60000)
  REPLY_DEBOUNCE_MS: number = 1000;

  @IsInt()
  @Min(1)
  CUSTOMER_TURNS_PER_MINUTE: number = 6;

  // --- admin API
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'ADMIN_API_KEY must be at least 16 characters' })
  ADMIN_API_KEY?: string;

  @IsInt()
  @Min(1)
  ADMIN_THROTTLE_LIMIT: number = 120;

  @IsInt()
  @Min(1)
  ADMIN_THROTTLE_TTL_SECONDS: number = 60;

  // --- storage and queue
  @IsString()
  @MinLength(1)
  DATA_DIR: string = './data';

  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\//, {
    message: 'DATABASE_URL must start with postgres:// or postgresql://',
  })
  DATABASE_URL?: string;

  @IsInt()
  @Min(2)
  @Max(200)
  DATABASE_POOL_SIZE: number = 10;

  /**
   * Turns one instance runs at the same time. A turn mostly waits on the LLM
   * (seconds), so this bounds replies per second to about this number
   * divided by the LLM's latency.
   */
  @IsInt()
  @Min(1)
  @Max(200)
  TURN_CONCURRENCY: number = 32;

  /** Outbound messages per second for the business phone number (Meta's default is 80). */
  @IsInt()
  @Min(1)
  @Max(1000)
  WHATSAPP_MESSAGES_PER_SECOND: number = 80;

  @Matches(/^[A-Za-z0-9:_-]{1,40}$/, {
    message:
      'REDIS_KEY_PREFIX must be 1-40 letters, digits, colons, dashes or underscores',
  })
  REDIS_KEY_PREFIX: string = 'clariops';

  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^rediss?:\/\//, {
    message: 'REDIS_URL must start with redis:// or rediss://',
  })
  REDIS_URL?: string;
}
