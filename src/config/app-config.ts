import { readFileSync } from 'node:fs';
import { EnvironmentVariables } from './env.schema';
import type { HttpToolSpec } from '../tools/http/tools-file';
import { envValue, McpServerConfig, parseMcpServers } from './mcp-servers';

/** A slice of the validated configuration, injectable on its own (its class is the token). */
export abstract class ServerConfig {
  abstract readonly port: number;
  /** Fastify's trustProxy: which X-Forwarded-For hops to believe. */
  abstract readonly trustProxy: boolean | string[];
  abstract readonly nodeEnv: 'development' | 'production' | 'test';
  abstract readonly logLevel: string;
  abstract readonly isProduction: boolean;
}

/** A slice of the validated configuration, injectable on its own (its class is the token). */
export abstract class LlmConfig {
  abstract readonly apiKey: string | null;
  abstract readonly model: string;
  abstract readonly baseUrl: string | null;
  abstract readonly timeoutMs: number;
  abstract readonly maxRetries: number;
  abstract readonly systemPrompt: string | null;
  abstract readonly businessName: string;
  abstract readonly fallbackMessage: string;
  abstract readonly mediaReplyMessage: string;
  abstract readonly handoffTool: boolean;
}

/** A slice of the validated configuration, injectable on its own (its class is the token). */
export abstract class MediaConfig {
  /** Images and stickers go to the model as image inputs. */
  abstract readonly vision: boolean;
  /** Null: voice notes are not transcribed. */
  abstract readonly transcriptionModel: string | null;
  /** Null: OPENAI_BASE_URL (or OpenAI). */
  abstract readonly transcriptionBaseUrl: string | null;
  abstract readonly documentMaxChars: number;
}

/** A slice of the validated configuration, injectable on its own (its class is the token). */
export abstract class KnowledgeConfig {
  /** Null: no embeddings; retrieval is full-text search only. */
  abstract readonly embeddingModel: string | null;
  /** Chunks a turn gives the model. */
  abstract readonly topK: number;
  /** PostgreSQL text search configuration (its stemmer and stop words). */
  abstract readonly language: string;
  abstract readonly maxFileBytes: number;
  abstract readonly maxChars: number;
}

/** A slice of the validated configuration, injectable on its own (its class is the token). */
export abstract class HandoffConfig {
  abstract readonly keywords: string[];
  abstract readonly message: string;
}

/** A slice of the validated configuration, injectable on its own (its class is the token). */
export abstract class ToolsConfig {
  /** The HTTP tools of TOOLS_FILE. */
  abstract readonly httpTools: HttpToolSpec[];
  /** Rounds of tool calls per turn. */
  abstract readonly maxRounds: number;
  /** How long one tool call (MCP or HTTP) may take. */
  abstract readonly timeoutMs: number;
  /** The most characters of a tool's result the model is given. */
  abstract readonly maxResultChars: number;
}

/** A slice of the validated configuration, injectable on its own (its class is the token). */
export abstract class AdminConfig {
  abstract readonly apiKey: string | null;
  abstract readonly throttleLimit: number;
  abstract readonly throttleTtlMs: number;
}

/** A slice of the validated configuration, injectable on its own (its class is the token). */
export abstract class WhatsappConfig {
  abstract readonly phoneNumberId: string | null;
  abstract readonly businessAccountId: string | null;
  abstract readonly accessToken: string | null;
  abstract readonly verifyToken: string | null;
  abstract readonly appSecret: string | null;
  abstract readonly apiBaseUrl: string;
  abstract readonly apiVersion: string;
  abstract readonly sendMaxAttempts: number;
  abstract readonly retryBaseMs: number;
  abstract readonly httpTimeoutMs: number;
  abstract readonly messagesPerSecond: number;
}

/** A slice of the validated configuration, injectable on its own (its class is the token). */
export abstract class ConversationConfig {
  abstract readonly sessionTimeoutMs: number;
  abstract readonly contextMessages: number;
  abstract readonly maxMessageLength: number;
  abstract readonly replyDebounceMs: number;
  abstract readonly turnsPerMinute: number;
}

/** A slice of the validated configuration, injectable on its own (its class is the token). */
export abstract class McpConfig {
  abstract readonly servers: McpServerConfig[];
  /** First wait before connecting again to a server that failed; doubles up to `retryMaxMs`. */
  abstract readonly retryBaseMs: number;
  abstract readonly retryMaxMs: number;
}

/** A slice of the validated configuration, injectable on its own (its class is the token). */
export abstract class DatabaseConfig {
  abstract readonly url: string | null;
  abstract readonly dataDir: string;
  abstract readonly poolSize: number;
}

/**
 * The validated configuration, injected as a typed object. Modules take the
 * slice they need (`config.llm`, `config.whatsapp`, ...).
 */
export class AppConfig {
  readonly server: ServerConfig;
  readonly llm: LlmConfig;
  readonly media: MediaConfig;
  readonly knowledge: KnowledgeConfig;
  readonly whatsapp: WhatsappConfig;
  readonly conversation: ConversationConfig;
  readonly database: DatabaseConfig;
  readonly handoff: HandoffConfig;
  readonly admin: AdminConfig;
  readonly tools: ToolsConfig;
  readonly mcp: McpConfig;
  readonly redisUrl: string | null;
  readonly redisKeyPrefix: string;
  readonly turnConcurrency: number;

  constructor(env: EnvironmentVariables) {
    this.server = {
      port: env.PORT,
      trustProxy: parseTrustProxy(env.TRUST_PROXY),
      nodeEnv: env.NODE_ENV,
      logLevel: env.LOG_LEVEL,
      isProduction: env.NODE_ENV === 'production',
    };
    this.llm = {
      apiKey: env.OPENAI_API_KEY ?? null,
      model: env.OPENAI_MODEL,
      baseUrl: env.OPENAI_BASE_URL ?? null,
      timeoutMs: env.LLM_TIMEOUT_MS,
      maxRetries: env.LLM_MAX_RETRIES,
      systemPrompt:
        env.SYSTEM_PROMPT ??
        (env.SYSTEM_PROMPT_FILE
          ? readFileSync(env.SYSTEM_PROMPT_FILE, 'utf8').trim() || null
          : null),
      businessName: env.BUSINESS_NAME,
      fallbackMessage: env.FALLBACK_MESSAGE,
      mediaReplyMessage: env.MEDIA_REPLY_MESSAGE,
      handoffTool: env.LLM_HANDOFF_TOOL,
    };
    this.media = {
      vision: env.LLM_VISION,
      transcriptionModel: env.OPENAI_TRANSCRIPTION_MODEL.trim() || null,
      transcriptionBaseUrl: env.OPENAI_TRANSCRIPTION_BASE_URL ?? null,
      documentMaxChars: env.DOCUMENT_MAX_CHARS,
    };
    this.knowledge = {
      embeddingModel: env.OPENAI_EMBEDDING_MODEL.trim() || null,
      topK: env.KNOWLEDGE_TOP_K,
      language: env.KNOWLEDGE_LANGUAGE,
      maxFileBytes: env.KNOWLEDGE_MAX_FILE_BYTES,
      maxChars: env.KNOWLEDGE_MAX_CHARS,
    };
    this.whatsapp = {
      phoneNumberId: env.WHATSAPP_PHONE_NUMBER_ID ?? null,
      businessAccountId: env.WHATSAPP_BUSINESS_ACCOUNT_ID ?? null,
      accessToken: env.WHATSAPP_ACCESS_TOKEN ?? null,
      verifyToken: env.WHATSAPP_WEBHOOK_VERIFY_TOKEN ?? null,
      appSecret: env.WHATSAPP_APP_SECRET ?? null,
      apiBaseUrl: env.WHATSAPP_API_BASE_URL.replace(/\/+$/, ''),
      apiVersion: env.WHATSAPP_API_VERSION,
      sendMaxAttempts: env.WHATSAPP_SEND_MAX_ATTEMPTS,
      retryBaseMs: env.WHATSAPP_RETRY_BASE_MS,
      httpTimeoutMs: env.WHATSAPP_HTTP_TIMEOUT_MS,
      messagesPerSecond: env.WHATSAPP_MESSAGES_PER_SECOND,
    };
    this.conversation = {
      sessionTimeoutMs: Math.round(env.SESSION_TIMEOUT_MINUTES * 60_000),
      contextMessages: env.CONTEXT_MESSAGES,
      maxMessageLength: env.MAX_MESSAGE_LENGTH,
      replyDebounceMs: env.REPLY_DEBOUNCE_MS,
      turnsPerMinute: env.CUSTOMER_TURNS_PER_MINUTE,
    };
    this.database = {
      url: env.DATABASE_URL ?? null,
      dataDir: env.DATA_DIR,
      poolSize: env.DATABASE_POOL_SIZE,
    };
    this.handoff = {
      keywords: env.HANDOFF_KEYWORDS.split(',')
        .map((k) => k.trim().toLowerCase())
        .filter(Boolean),
      message: env.HANDOFF_MESSAGE,
    };
    this.admin = {
      apiKey: env.ADMIN_API_KEY ?? null,
      throttleLimit: env.ADMIN_THROTTLE_LIMIT,
      throttleTtlMs: env.ADMIN_THROTTLE_TTL_SECONDS * 1000,
    };
    this.tools = {
      httpTools: env.toolsFromFile,
      maxRounds: env.TOOL_MAX_ROUNDS,
      timeoutMs: env.TOOL_TIMEOUT_MS,
      maxResultChars: env.TOOL_RESULT_MAX_CHARS,
    };
    this.mcp = {
      // `${ENV_NAME}` in header values: the validated object still carries
      // every raw variable (plainToInstance copies them), and validateEnv has
      // already rejected a reference to one that is not set.
      servers: parseMcpServers(
        env.MCP_SERVERS,
        env.MCP_SERVERS_HEADERS,
        (name) => envValue(env as unknown as Record<string, unknown>, name),
      ).servers,
      retryBaseMs: 1000,
      retryMaxMs: 60_000,
    };
    this.redisUrl = env.REDIS_URL ?? null;
    this.redisKeyPrefix = env.REDIS_KEY_PREFIX;
    this.turnConcurrency = env.TURN_CONCURRENCY;
  }

  get whatsappConfigured(): boolean {
    return Boolean(this.whatsapp.phoneNumberId && this.whatsapp.accessToken);
  }

  get llmConfigured(): boolean {
    return this.llm.apiKey !== null;
  }
}

function parseTrustProxy(value: string): boolean | string[] {
  if (value === 'true') return true;
  if (value === 'false') return false;
  return value.split(',').map((v) => v.trim());
}
