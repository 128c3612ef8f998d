/** What OpenAI accepts as a function name (and most OpenAI-compatible servers). */
export const MODEL_TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const MAX_LENGTH = 64;

/**
 * The name the model sees for an MCP tool: `<server>__<tool>`, where
 * `<server>` is the server's name (`#name` in MCP_SERVERS, else `mcp1`, …),
 * every character of the tool's name outside `[a-zA-Z0-9_-]` becomes `_`,
 * and the whole is cut to 64 characters. When two of one server's tools end
 * up with the same name, the later one ends in `_2`, `_3`, … (`taken` holds
 * the names given so far). Different servers never collide: their prefixes
 * differ.
 */
export function modelToolName(
  server: string,
  tool: string,
  taken: ReadonlySet<string>,
): string {
  const base = `${server}__${tool.replace(/[^a-zA-Z0-9_-]/g, '_')}`.slice(
    0,
    MAX_LENGTH,
  );
  let name = base;
  for (let n = 2; taken.has(name); n += 1) {
    const suffix = `_${n}`;
    name = base.slice(0, MAX_LENGTH - suffix.length) + suffix;
  }
  return name;
}
