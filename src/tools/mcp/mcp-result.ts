import type {
  CallToolResult,
  ContentBlock,
} from '@modelcontextprotocol/sdk/types.js';
import { capToolText } from '../tool-result';
import type { ToolResult } from '../tool-source';

/**
 * An MCP `tools/call` result as the model reads it: the text parts joined by
 * blank lines, other parts described in one line (their bytes are not
 * given to the model), structured content as JSON when there is no text, and
 * `isError` as `ok: false`. Cut to `maxChars`.
 */
export function mcpResultToToolResult(
  result: CallToolResult,
  maxChars: number,
): ToolResult {
  const parts = (result.content ?? []).map(describeContent);
  if (parts.length === 0 && result.structuredContent !== undefined) {
    parts.push(JSON.stringify(result.structuredContent));
  }
  const text = parts.join('\n\n');
  const ok = result.isError !== true;
  return {
    ok,
    content: capToolText(
      text || (ok ? '(the tool returned nothing)' : 'The tool failed.'),
      maxChars,
    ),
  };
}

function describeContent(part: ContentBlock): string {
  switch (part.type) {
    case 'text':
      return part.text;
    case 'image':
      return `[image (${part.mimeType}), not shown]`;
    case 'audio':
      return `[audio (${part.mimeType}), not shown]`;
    case 'resource_link':
      return `[resource link: ${part.name} ${part.uri}]`;
    case 'resource':
      return 'text' in part.resource && typeof part.resource.text === 'string'
        ? part.resource.text
        : `[resource ${part.resource.uri}${part.resource.mimeType ? ` (${part.resource.mimeType})` : ''}, not shown]`;
    default:
      return `[${(part as { type: string }).type} content, not shown]`;
  }
}
