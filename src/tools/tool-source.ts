import type { ToolDefinition } from '../llm/llm.provider';

/** Who the turn is for: what bound parameters are filled from. */
export interface ToolContext {
  conversationId: string;
  /** The customer's key: wa_id digits, or the BSUID when there is no number. */
  customerId: string;
  /** The customer's phone number (wa_id digits), when known. */
  customerPhone: string | null;
  /** The business phone number id that received the conversation. */
  businessNumber: string | null;
}

/** What a tool call gave back, as the model will read it. */
export interface ToolResult {
  /** False when the call failed: `content` then says why, for the model. */
  ok: boolean;
  content: string;
}

/** A tool as it is offered to the model, and where it comes from. */
export interface AvailableTool {
  definition: ToolDefinition;
  /** `http` (TOOLS_FILE), `mcp` (an MCP server), or `builtin` (handoff, choices). */
  kind: 'http' | 'mcp' | 'builtin';
  /** For MCP tools: the server's URL; for HTTP tools: the method and URL template. */
  origin: string;
}

/**
 * Port: a set of tools the model may call. `call` never rejects for a tool's
 * own failure (an HTTP error, a timeout, bad arguments): it resolves with
 * `ok: false` and a message the model can read. It stops waiting when
 * `signal` aborts.
 */
export abstract class ToolSource {
  abstract list(): AvailableTool[];
  abstract call(
    name: string,
    args: unknown,
    context: ToolContext,
    signal: AbortSignal,
  ): Promise<ToolResult>;
}
