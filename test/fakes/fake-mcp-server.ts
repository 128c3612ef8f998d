import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  CallToolRequestSchema,
  ListToolsRequestSchema,
  type CallToolResult,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';

/** A tool of the fake: its MCP description and what a call answers. */
export interface FakeMcpTool {
  name: string;
  description?: string;
  inputSchema?: Tool['inputSchema'];
  handler: (
    args: Record<string, unknown>,
    signal: AbortSignal,
  ) => CallToolResult | Promise<CallToolResult>;
}

export interface FakeMcpCall {
  name: string;
  arguments: Record<string, unknown>;
}

interface Session {
  server: McpServer;
  transport: StreamableHTTPServerTransport;
}

const OBJECT_SCHEMA: Tool['inputSchema'] = { type: 'object', properties: {} };

/**
 * A real MCP server (the SDK's McpServer behind its Streamable-HTTP
 * transport, one session per client, on a node:http server) for tests.
 *
 * Tools are plain JSON Schema definitions kept here, so that a test can add
 * and remove them at runtime: every live session is then sent
 * `notifications/tools/list_changed`. `tools/list` answers in pages of
 * `pageSize`, so clients must follow `nextCursor`.
 *
 * Built-in tools: `echo` (answers its arguments as JSON text), `fail`
 * (`isError: true`), `hang` (answers only when the caller cancels),
 * `huge` (`size` characters of text, 100,000 by default) and `picture`
 * (a text part and an image part).
 */
export class FakeMcpServer {
  /** Every `tools/call`, in order. */
  readonly calls: FakeMcpCall[] = [];
  /** The headers of every HTTP request, in order. */
  readonly requestHeaders: IncomingHttpHeaders[] = [];
  /** How many `hang` calls were cancelled by their caller. */
  cancelledHangs = 0;
  pageSize = 2;

  private readonly tools = new Map<string, FakeMcpTool>();
  private readonly sessions = new Map<string, Session>();
  private http: Server | null = null;
  private port = 0;

  constructor() {
    for (const tool of builtInTools(this)) this.tools.set(tool.name, tool);
  }

  /** Starts listening, on `port` when given (to come back where it was), else on a free port. */
  async start(port = this.port): Promise<string> {
    const http = createServer((req, res) => {
      this.requestHeaders.push(req.headers);
      void this.handle(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(port, '127.0.0.1', () => resolve());
    });
    this.http = http;
    this.port = (http.address() as AddressInfo).port;
    return this.url;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/mcp`;
  }

  /** A port nothing listens on yet, for a server that is down at the client's start. */
  async reservePort(): Promise<string> {
    await this.start(0);
    await this.stop();
    return this.url;
  }

  /** Stops listening and drops every session (as a crashed server would). */
  async stop(): Promise<void> {
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(sessions.map((s) => s.server.close().catch(() => {})));
    const http = this.http;
    this.http = null;
    if (!http) return;
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Adds (or replaces) a tool and tells every connected client. */
  addTool(tool: FakeMcpTool): void {
    this.tools.set(tool.name, tool);
    this.notifyListChanged();
  }

  removeTool(name: string): void {
    this.tools.delete(name);
    this.notifyListChanged();
  }

  private notifyListChanged(): void {
    for (const { server } of this.sessions.values()) {
      if (server.isConnected()) server.sendToolListChanged();
    }
  }

  private async handle(
    req: Parameters<StreamableHTTPServerTransport['handleRequest']>[0],
    res: Parameters<StreamableHTTPServerTransport['handleRequest']>[1],
  ): Promise<void> {
    if (!req.url?.startsWith('/mcp')) {
      res.writeHead(404).end();
      return;
    }
    const sessionId = req.headers['mcp-session-id'];
    if (typeof sessionId === 'string') {
      const session = this.sessions.get(sessionId);
      if (!session) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            jsonrpc: '2.0',
            error: { code: -32001, message: 'Session not found' },
            id: null,
          }),
        );
        return;
      }
      await session.transport.handleRequest(req, res);
      return;
    }
    // No session yet: this must be an initialize request.
    const server = this.createSessionServer();
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        this.sessions.set(id, { server, transport });
      },
      onsessionclosed: (id) => {
        this.sessions.delete(id);
      },
    });
    await server.connect(transport);
    await transport.handleRequest(req, res);
  }

  private createSessionServer(): McpServer {
    const mcp = new McpServer(
      { name: 'fake-mcp', version: '1.0.0' },
      { capabilities: { tools: { listChanged: true } } },
    );
    // The tools are kept here rather than registered on McpServer, so that
    // the list can page and change under every session at once.
    mcp.server.setRequestHandler(ListToolsRequestSchema, (request) => {
      const all = [...this.tools.values()].map((tool) => ({
        name: tool.name,
        description: tool.description,
        inputSchema: tool.inputSchema ?? OBJECT_SCHEMA,
      }));
      const start = Number(request.params?.cursor ?? 0);
      const end = start + this.pageSize;
      return {
        tools: all.slice(start, end),
        ...(end < all.length && { nextCursor: String(end) }),
      };
    });
    mcp.server.setRequestHandler(
      CallToolRequestSchema,
      async (request, extra) => {
        const args = request.params.arguments ?? {};
        this.calls.push({ name: request.params.name, arguments: args });
        const tool = this.tools.get(request.params.name);
        if (!tool) {
          return {
            isError: true,
            content: [
              { type: 'text', text: `unknown tool ${request.params.name}` },
            ],
          };
        }
        return tool.handler(args, extra.signal);
      },
    );
    return mcp;
  }
}

function builtInTools(fake: FakeMcpServer): FakeMcpTool[] {
  return [
    {
      name: 'echo',
      description: 'Answers its arguments',
      inputSchema: {
        type: 'object',
        properties: { text: { type: 'string' } },
        required: ['text'],
      },
      handler: (args) => ({
        content: [{ type: 'text', text: JSON.stringify(args) }],
      }),
    },
    {
      name: 'fail',
      description: 'Always fails',
      handler: () => ({
        isError: true,
        content: [{ type: 'text', text: 'order service unavailable' }],
      }),
    },
    {
      name: 'hang',
      description: 'Never answers until cancelled',
      handler: (_args, signal) =>
        new Promise<CallToolResult>((resolve) => {
          signal.addEventListener('abort', () => {
            fake.cancelledHangs += 1;
            resolve({ content: [{ type: 'text', text: 'cancelled' }] });
          });
        }),
    },
    {
      name: 'huge',
      description: 'A very long text',
      inputSchema: {
        type: 'object',
        properties: { size: { type: 'number' } },
      },
      handler: (args) => ({
        content: [
          {
            type: 'text',
            text: 'x'.repeat(
              typeof args.size === 'number' ? args.size : 100_000,
            ),
          },
        ],
      }),
    },
    {
      name: 'picture',
      description: 'A caption and an image',
      handler: () => ({
        content: [
          { type: 'text', text: 'Here is the map' },
          { type: 'image', data: 'iVBORw0KGgo=', mimeType: 'image/png' },
        ],
      }),
    },
  ];
}
