import {
  Injectable,
  Logger,
  OnModuleDestroy,
  OnModuleInit,
} from '@nestjs/common';
import { McpConfig, ToolsConfig } from '../../config/app-config';
import { capToolText, toolFailure } from '../tool-result';
import {
  AvailableTool,
  ToolContext,
  ToolResult,
  ToolSource,
} from '../tool-source';
import { mcpResultToToolResult } from './mcp-result';
import {
  McpCallError,
  McpServerConnection,
  McpServerStatus,
} from './mcp-server-connection';
import { modelToolName } from './mcp-tool-name';

interface Route {
  connection: McpServerConnection;
  /** The tool's name on its server. */
  tool: string;
}

/**
 * The tools of the MCP servers in MCP_SERVERS (Streamable HTTP), named
 * `<server>__<tool>` for the model (see modelToolName). Servers connect in
 * the background when the module starts; one that cannot be reached is left
 * out of `list()`, reported by `status()`, and tried again with backoff.
 */
@Injectable()
export class McpToolSource
  extends ToolSource
  implements OnModuleInit, OnModuleDestroy
{
  private readonly logger = new Logger(McpToolSource.name);
  private readonly connections: McpServerConnection[];
  private tools: AvailableTool[] = [];
  private routes = new Map<string, Route>();

  constructor(
    mcp: McpConfig,
    private readonly toolsConfig: ToolsConfig,
  ) {
    super();
    this.connections = mcp.servers.map(
      (server) =>
        new McpServerConnection(
          server,
          {
            timeoutMs: toolsConfig.timeoutMs,
            retryBaseMs: mcp.retryBaseMs,
            retryMaxMs: mcp.retryMaxMs,
          },
          this.logger,
          () => this.rebuild(),
        ),
    );
  }

  onModuleInit(): void {
    // Never awaited: a slow or absent server must not hold up the start.
    for (const connection of this.connections) connection.start();
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all(this.connections.map((c) => c.close()));
  }

  list(): AvailableTool[] {
    return [...this.tools];
  }

  /** Each configured server's state, in MCP_SERVERS order. */
  status(): McpServerStatus[] {
    return this.connections.map((c) => c.status());
  }

  async call(
    name: string,
    args: unknown,
    _context: ToolContext,
    signal: AbortSignal,
  ): Promise<ToolResult> {
    const route = this.routes.get(name);
    if (!route) return toolFailure(`There is no tool named ${name}.`);
    const input = args ?? {};
    if (typeof input !== 'object' || Array.isArray(input)) {
      return toolFailure('The arguments must be a JSON object.');
    }
    if (signal.aborted) return toolFailure('The call was cancelled.');
    try {
      const result = await route.connection.call(
        route.tool,
        input as Record<string, unknown>,
        signal,
        this.toolsConfig.timeoutMs,
      );
      return mcpResultToToolResult(result, this.toolsConfig.maxResultChars);
    } catch (error) {
      const message =
        error instanceof McpCallError
          ? error.message
          : `MCP tool ${name} failed unexpectedly.`;
      if (!(error instanceof McpCallError)) {
        this.logger.warn(`MCP tool ${name} failed: ${String(error)}`);
      }
      return toolFailure(capToolText(message, this.toolsConfig.maxResultChars));
    }
  }

  /** Recomputes the model's names after any server's tools changed. */
  private rebuild(): void {
    const tools: AvailableTool[] = [];
    const routes = new Map<string, Route>();
    for (const connection of this.connections) {
      for (const tool of connection.currentTools()) {
        const name = modelToolName(
          connection.config.name,
          tool.name,
          new Set(routes.keys()),
        );
        routes.set(name, { connection, tool: tool.name });
        tools.push({
          definition: {
            name,
            description: tool.description ?? tool.title ?? '',
            parameters: tool.inputSchema as Record<string, unknown>,
          },
          kind: 'mcp',
          origin: connection.displayUrl,
        });
      }
    }
    this.tools = tools;
    this.routes = routes;
  }
}
