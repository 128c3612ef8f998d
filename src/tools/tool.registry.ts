import { Injectable, Logger } from '@nestjs/common';
import { LlmConfig, ToolsConfig } from '../config/app-config';
import { HANDOFF_TOOL } from './builtin/handoff.tool';
import { HttpToolSource } from './http/http-tool.source';
import { McpToolSource } from './mcp/mcp-tool.source';
import {
  AvailableTool,
  ToolContext,
  ToolResult,
  ToolSource,
} from './tool-source';

/** A configured tool as `GET /api/tools` shows it. */
export interface ToolEntry {
  name: string;
  description: string;
  kind: AvailableTool['kind'];
  origin: string;
  parameters: Record<string, unknown>;
  /** HTTP tools: parameter → where ClariOps takes its value from. */
  bound: Record<string, string>;
  /** HTTP tools: the names of the headers sent (values are never shown). */
  headers: string[];
  timeoutMs: number | null;
}

/**
 * Every tool the model may call, under one name each: the app's own (the
 * handoff tool), the HTTP tools of TOOLS_FILE, then MCP servers' tools. The
 * first to offer a name keeps it.
 */
@Injectable()
export class ToolRegistry {
  private readonly logger = new Logger(ToolRegistry.name);
  private readonly sources: ToolSource[];
  private readonly clashes = new Set<string>();

  private readonly builtin: AvailableTool[];

  constructor(
    private readonly http: HttpToolSource,
    mcp: McpToolSource,
    llm: LlmConfig,
    private readonly settings: ToolsConfig,
  ) {
    this.sources = [http, mcp];
    this.builtin = llm.handoffTool
      ? [{ definition: HANDOFF_TOOL, kind: 'builtin', origin: 'ClariOps' }]
      : [];
  }

  /**
   * Every tool offered to the model: the app's own (the handoff tool, which
   * the turn acts on itself), then those of the sources.
   */
  list(): AvailableTool[] {
    const seen = new Map<string, AvailableTool>(
      this.builtin.map((t) => [t.definition.name, t]),
    );
    for (const source of this.sources) {
      for (const tool of source.list()) {
        const name = tool.definition.name;
        const first = seen.get(name);
        if (!first) {
          seen.set(name, tool);
        } else if (!this.clashes.has(name)) {
          this.clashes.add(name);
          this.logger.warn(
            { tool: name, kept: first.origin, skipped: tool.origin },
            'two tools have the same name; the first is offered',
          );
        }
      }
    }
    return [...seen.values()];
  }

  /**
   * What is configured, for operators (`GET /api/tools`): each tool as the
   * model sees it, plus for HTTP tools the bound parameters and the header
   * names (never their values).
   */
  catalog(): ToolEntry[] {
    return this.list().map((tool) => {
      const spec =
        tool.kind === 'http' ? this.http.spec(tool.definition.name) : undefined;
      return {
        name: tool.definition.name,
        description: tool.definition.description,
        kind: tool.kind,
        origin: tool.origin,
        parameters: tool.definition.parameters,
        bound: spec?.bind ?? {},
        headers: Object.keys(spec?.headers ?? {}),
        timeoutMs: spec ? (spec.timeoutMs ?? this.settings.timeoutMs) : null,
      };
    });
  }

  async call(
    name: string,
    args: unknown,
    context: ToolContext,
    signal: AbortSignal,
  ): Promise<ToolResult> {
    // Built-in tools are acted on by the turn, never called here.
    for (const source of this.sources) {
      if (source.list().some((t) => t.definition.name === name)) {
        return source.call(name, args, context, signal);
      }
    }
    return { ok: false, content: `there is no tool named ${name}` };
  }
}
