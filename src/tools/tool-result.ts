import type { ToolResult } from './tool-source';

/**
 * Cuts a tool's text to at most `maxChars` characters (TOOL_RESULT_MAX_CHARS),
 * saying how much was left out, so that one large answer cannot fill the
 * model's context.
 */
export function capToolText(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const note = (cut: number) => `\n[… ${cut} more characters cut]`;
  // The note's own length depends on the number it states: size it for the worst case.
  const keep = Math.max(0, maxChars - note(text.length).length);
  return text.slice(0, keep) + note(text.length - keep);
}

/** A failed call as the model reads it. */
export function toolFailure(message: string): ToolResult {
  return { ok: false, content: message };
}
