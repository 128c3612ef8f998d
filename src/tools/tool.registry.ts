import { Injectable, Logger } from '@nestjs/common';
import { HttpToolSource } from './http/http-tool.source';
import {
  AvailableTool,
  ToolContext,
  ToolResult,
  ToolSource,
} from './tool-source';

/**
 * Every tool the model may call, from every source (the HTTP tools of
 * TOOLS_FILE, then MCP servers), under one name each: the first source to
 * offer a name keeps it.
 */
@Injectable()
export class ToolRegistry {
  private readonly logger = new Logger(ToolRegistry.name);
  private readonly sources: ToolSource[];
  private readonly clashes = new Set<string>();

  constructor(http: HttpToolSource) {
    this.sources = [http];
  }

  list(): AvailableTool[] {
    const seen = new Map<string, AvailableTool>();
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

  async call(
    name: string,
    args: unknown,
    context: ToolContext,
    signal: AbortSignal,
  ): Promise<ToolResult> {
    for (const source of this.sources) {
      if (source.list().some((t) => t.definition.name === name)) {
        return source.call(name, args, context, signal);
      }
    }
    return { ok: false, content: `there is no tool named ${name}` };
  }
}
