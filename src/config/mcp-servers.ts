/** One MCP server as configured: where it is, what it is called, what to send. */
export interface McpServerConfig {
  /** The Streamable-HTTP endpoint, without the `#name` fragment. */
  url: string;
  /**
   * The prefix of its tools' names: the URL's `#fragment` when given, else
   * `mcp1`, `mcp2`, … by position in MCP_SERVERS.
   */
  name: string;
  /** Extra request headers, `${ENV_NAME}` references already resolved. Never log the values. */
  headers: Record<string, string>;
}

export interface ParsedMcpServers {
  servers: McpServerConfig[];
  /** One line per bad value, naming the variable but never a header's value. */
  problems: string[];
}

/** A server name must leave room for `__` and the tool's own name in 64 characters. */
const SERVER_NAME = /^[a-zA-Z0-9_-]{1,20}$/;
const ENV_REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Parses MCP_SERVERS (comma-separated http(s) URLs, each optionally named by
 * a fragment: `https://crm.example.com/mcp#crm`) and MCP_SERVERS_HEADERS
 * (JSON: `{"<url as written in MCP_SERVERS>": {"Header": "value"}}`, values may
 * hold `${ENV_NAME}`, looked up with `lookup`).
 */
export function parseMcpServers(
  serversText: string,
  headersText: string,
  lookup: (name: string) => string | undefined,
): ParsedMcpServers {
  const problems: string[] = [];
  const written = serversText
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const servers: McpServerConfig[] = [];
  const byText = new Map<string, McpServerConfig>();
  written.forEach((text, index) => {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      problems.push(
        `MCP_SERVERS: entry ${index + 1} is not a URL (expected http:// or https://)`,
      );
      return;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      problems.push(
        `MCP_SERVERS: entry ${index + 1} must be an http:// or https:// URL`,
      );
      return;
    }
    if (url.username || url.password) {
      // fetch() refuses such URLs; and the URL is shown in health and logs.
      problems.push(
        `MCP_SERVERS: entry ${index + 1} holds a user or password; send credentials with MCP_SERVERS_HEADERS`,
      );
      return;
    }
    const name = url.hash ? url.hash.slice(1) : `mcp${index + 1}`;
    if (!SERVER_NAME.test(name)) {
      problems.push(
        `MCP_SERVERS: the name #${name} of entry ${index + 1} must be 1-20 letters, digits, '_' or '-'`,
      );
      return;
    }
    if (servers.some((s) => s.name === name)) {
      problems.push(
        `MCP_SERVERS: two servers are named ${name}; give each its own #name`,
      );
      return;
    }
    url.hash = '';
    const server = { url: url.toString(), name, headers: {} };
    servers.push(server);
    byText.set(text, server);
  });

  const headers = parseHeaders(headersText, written, lookup, problems);
  for (const [text, server] of byText) {
    server.headers = headers.get(text) ?? {};
  }
  return { servers, problems };
}

function parseHeaders(
  text: string,
  urls: string[],
  lookup: (name: string) => string | undefined,
  problems: string[],
): Map<string, Record<string, string>> {
  const result = new Map<string, Record<string, string>>();
  if (text.trim() === '') return result;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    problems.push(
      'MCP_SERVERS_HEADERS: not JSON (expected {"<server URL>": {"Header": "value"}})',
    );
    return result;
  }
  if (!isRecord(parsed)) {
    problems.push(
      'MCP_SERVERS_HEADERS: expected a JSON object keyed by server URL',
    );
    return result;
  }
  for (const [url, headers] of Object.entries(parsed)) {
    if (!urls.includes(url)) {
      problems.push(
        `MCP_SERVERS_HEADERS: ${url} is not one of MCP_SERVERS (write the URL exactly as there)`,
      );
      continue;
    }
    if (!isRecord(headers)) {
      problems.push(
        `MCP_SERVERS_HEADERS: the headers of ${url} must be an object of strings`,
      );
      continue;
    }
    const resolved: Record<string, string> = {};
    for (const [header, value] of Object.entries(headers)) {
      if (typeof value !== 'string') {
        problems.push(
          `MCP_SERVERS_HEADERS: header ${header} of ${url} must be a string`,
        );
        continue;
      }
      resolved[header] = value.replace(ENV_REFERENCE, (_, name: string) => {
        const found = lookup(name);
        if (found === undefined) {
          problems.push(
            `MCP_SERVERS_HEADERS: header ${header} of ${url} refers to \${${name}}, which is not set`,
          );
          return '';
        }
        return found;
      });
    }
    result.set(url, resolved);
  }
  return result;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A variable of the raw environment, as `${NAME}` references read it. */
export function envValue(
  raw: Record<string, unknown>,
  name: string,
): string | undefined {
  const value = raw[name];
  if (typeof value === 'string') return value;
  // Validated variables may have been converted (PORT is a number by now).
  if (typeof value === 'number' || typeof value === 'boolean') {
    return String(value);
  }
  return undefined;
}
