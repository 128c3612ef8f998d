import type { Logger } from '@nestjs/common';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  ErrorCode,
  McpError,
  type CallToolResult,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { McpServerConfig } from '../../config/mcp-servers';

export type McpServerState = 'connecting' | 'up' | 'down';

/** One server as health reports it. */
export interface McpServerStatus {
  name: string;
  /** The URL without credentials or query string. */
  url: string;
  status: McpServerState;
  /** How many tools it offers now (0 unless up). */
  tools: number;
  /** Why it is down; null otherwise. */
  error: string | null;
  /** When it entered this state (ISO 8601). */
  since: string;
}

export interface McpConnectionSettings {
  /** Per request (initialize, tools/list); calls take their own. */
  timeoutMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
}

/** Why a call did not give a result, for the model. */
export class McpCallError extends Error {
  constructor(
    message: string,
    readonly reason:
      'not-connected' | 'timeout' | 'cancelled' | 'unreachable' | 'protocol',
  ) {
    super(message);
    this.name = 'McpCallError';
  }
}

const CLIENT_INFO = { name: 'clariops', version: '0.1.0' };
/** The transport gives up re-opening its event stream with this message: the server is gone. */
const STREAM_GIVEN_UP = /^Maximum reconnection attempts/;

/**
 * The connection to one MCP server: connects in the background, keeps its
 * tool list (following `nextCursor`, refreshed on `tools/list_changed`),
 * and connects again with exponential backoff and jitter whenever the server
 * cannot be reached or is lost. Logs each change of state once.
 */
export class McpServerConnection {
  private client: Client | null = null;
  private tools: Tool[] = [];
  private state: McpServerState = 'connecting';
  private error: string | null = null;
  private since = new Date();
  private failures = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private refreshes = 0;
  readonly displayUrl: string;

  constructor(
    readonly config: McpServerConfig,
    private readonly settings: McpConnectionSettings,
    private readonly logger: Pick<Logger, 'log' | 'warn' | 'debug'>,
    /** Called whenever the usable tool list changes (up, down, list_changed). */
    private readonly onToolsChanged: () => void,
  ) {
    this.displayUrl = redactUrl(config.url);
  }

  /** Starts connecting; never waits, never throws. */
  start(): void {
    void this.connect();
  }

  /** The server's tools while it is up; none otherwise. */
  currentTools(): readonly Tool[] {
    return this.state === 'up' ? this.tools : [];
  }

  status(): McpServerStatus {
    return {
      name: this.config.name,
      url: this.displayUrl,
      status: this.state,
      tools: this.currentTools().length,
      error: this.error,
      since: this.since.toISOString(),
    };
  }

  /**
   * Calls one tool by its MCP name. Rejects with an McpCallError when no
   * result came (the caller turns it into `ok: false`); a connection
   * failure also starts connecting again.
   */
  async call(
    tool: string,
    args: Record<string, unknown>,
    signal: AbortSignal,
    timeoutMs: number,
  ): Promise<CallToolResult> {
    const client = this.client;
    if (!client || this.state !== 'up') {
      throw new McpCallError(
        `MCP server ${this.config.name} is not connected.`,
        'not-connected',
      );
    }
    try {
      return (await client.callTool(
        { name: tool, arguments: args },
        undefined,
        {
          signal,
          timeout: timeoutMs,
        },
      )) as CallToolResult;
    } catch (error) {
      if (signal.aborted) {
        throw new McpCallError('The call was cancelled.', 'cancelled');
      }
      if (
        error instanceof McpError &&
        error.code === Number(ErrorCode.RequestTimeout)
      ) {
        throw new McpCallError(
          `MCP server ${this.config.name} did not answer within ${timeoutMs} ms.`,
          'timeout',
        );
      }
      if (isConnectionError(error)) {
        this.lose(client, error);
        throw new McpCallError(
          `MCP server ${this.config.name} could not be reached.`,
          'unreachable',
        );
      }
      throw new McpCallError(
        `MCP server ${this.config.name} refused the call: ${messageOf(error).replace(/\.?$/, '.')}`,
        'protocol',
      );
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const client = this.client;
    this.client = null;
    await client?.close().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    this.retryTimer = null;
    if (this.closed) return;
    const client = new Client(CLIENT_INFO, {
      listChanged: {
        tools: {
          // The SDK's own refresh reads the first page only: refresh here.
          autoRefresh: false,
          debounceMs: 50,
          onChanged: () => void this.refresh(client),
        },
      },
    });
    client.onerror = (error) => {
      if (STREAM_GIVEN_UP.test(error.message)) this.lose(client, error);
    };
    client.onclose = () => this.lose(client, new Error('connection closed'));
    const transport = new StreamableHTTPClientTransport(
      new URL(this.config.url),
      {
        requestInit: { headers: this.config.headers },
        reconnectionOptions: {
          initialReconnectionDelay: this.settings.retryBaseMs,
          maxReconnectionDelay: this.settings.retryMaxMs,
          reconnectionDelayGrowFactor: 2,
          maxRetries: 2,
        },
      },
    );
    try {
      await client.connect(transport, { timeout: this.settings.timeoutMs });
      this.client = client;
      const tools = await this.listAll(client);
      if (this.closed || this.client !== client) {
        await client.close().catch(() => undefined);
        return;
      }
      this.tools = tools;
      this.failures = 0;
      this.setState('up', null);
      this.onToolsChanged();
    } catch (error) {
      if (this.client === client) this.client = null;
      await client.close().catch(() => undefined);
      this.fail(error);
    }
  }

  private async refresh(client: Client): Promise<void> {
    const refresh = ++this.refreshes;
    try {
      const tools = await this.listAll(client);
      if (refresh !== this.refreshes || this.client !== client) return;
      this.tools = tools;
      this.logger.log(
        `MCP server ${this.config.name} changed its tools: now ${tools.length}`,
      );
      this.onToolsChanged();
    } catch (error) {
      if (isConnectionError(error)) this.lose(client, error);
      else
        this.logger.warn(
          `MCP server ${this.config.name}: could not refresh its tools: ${messageOf(error)}`,
        );
    }
  }

  private async listAll(client: Client): Promise<Tool[]> {
    const tools: Tool[] = [];
    const seen = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = await client.listTools(
        cursor === undefined ? {} : { cursor },
        {
          timeout: this.settings.timeoutMs,
        },
      );
      tools.push(...page.tools);
      cursor = page.nextCursor;
      // A server that hands back a cursor it already gave would loop forever.
      if (cursor !== undefined && seen.has(cursor)) break;
      if (cursor !== undefined) seen.add(cursor);
    } while (cursor !== undefined);
    return tools;
  }

  /** The live connection failed: drop it and connect again later. */
  private lose(client: Client, error: unknown): void {
    if (this.client !== client || this.closed) return;
    this.client = null;
    void client.close().catch(() => undefined);
    this.fail(error);
    this.onToolsChanged();
  }

  private fail(error: unknown): void {
    if (this.closed) return;
    // A lost connection can be reported twice (its stream and a request): retry once.
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.setState('down', messageOf(error));
    const delay = Math.min(
      this.settings.retryMaxMs,
      this.settings.retryBaseMs * 2 ** Math.min(this.failures, 20),
    );
    this.failures += 1;
    // Jitter: between half and all of the delay, so servers that fail together are not retried together.
    const jittered = Math.round(delay * (0.5 + Math.random() / 2));
    this.logger.debug(
      `MCP server ${this.config.name}: next attempt in ${jittered} ms`,
    );
    this.retryTimer = setTimeout(() => void this.connect(), jittered);
    this.retryTimer.unref();
  }

  private setState(state: McpServerState, error: string | null): void {
    if (state === this.state && error === this.error) return;
    const previous = this.state;
    this.state = state;
    this.error = error;
    this.since = new Date();
    if (state === previous) return; // same state, another reason: not worth a line
    if (state === 'up') {
      this.logger.log(
        `MCP server ${this.config.name} (${this.displayUrl}) is up with ${this.tools.length} tools`,
      );
    } else if (state === 'down') {
      this.logger.warn(
        `MCP server ${this.config.name} (${this.displayUrl}) is unreachable, its tools are left out until it answers again: ${error}`,
      );
    }
  }
}

/** Failures of the connection itself, as opposed to an error the server answered with. */
function isConnectionError(error: unknown): boolean {
  if (error instanceof StreamableHTTPError) return true;
  if (error instanceof McpError) {
    return error.code === Number(ErrorCode.ConnectionClosed);
  }
  // fetch() rejects with a TypeError when the server cannot be reached.
  return error instanceof TypeError;
}

function messageOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const cause =
    error instanceof Error && error.cause instanceof Error
      ? `: ${error.cause.message}`
      : '';
  return (message + cause).slice(0, 300);
}

/** The URL without user, password or query string (they may carry secrets). */
export function redactUrl(url: string): string {
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  parsed.search = '';
  return parsed.toString();
}
