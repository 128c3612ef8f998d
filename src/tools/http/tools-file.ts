import Ajv, { type ErrorObject } from 'ajv';

/** Where a bound parameter's value comes from: the conversation, never the model. */
export const BIND_SOURCES = [
  'customer.id',
  'customer.phone',
  'business.number',
] as const;
export type BindSource = (typeof BIND_SOURCES)[number];

export const HTTP_TOOL_METHODS = [
  'GET',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
] as const;
export type HttpToolMethod = (typeof HTTP_TOOL_METHODS)[number];

/** A JSON Schema of type object, as declared for a tool's parameters. */
export interface ObjectSchema {
  type: 'object';
  properties?: Record<string, unknown>;
  required?: string[];
  [keyword: string]: unknown;
}

/** One HTTP tool of `TOOLS_FILE`, checked and with its header secrets resolved. */
export interface HttpToolSpec {
  name: string;
  description: string;
  /** The parameters as declared, bound ones included. */
  parameters: ObjectSchema;
  method: HttpToolMethod;
  /** The URL template: `{param}` in the path or the query. */
  url: string;
  /** Header values with `${ENV_NAME}` already replaced: secrets, never logged. */
  headers: Record<string, string>;
  /** The header names whose value came from the environment (shown masked). */
  secretHeaders: string[];
  /** The environment values put into headers: redacted from whatever the tool answers. */
  secrets: string[];
  bind: Record<string, BindSource>;
  /** Null: the default `TOOL_TIMEOUT_MS`. */
  timeoutMs: number | null;
}

/** A name the Chat Completions API accepts for a function. */
export const TOOL_NAME_PATTERN = '^[a-zA-Z0-9_-]{1,64}$';
const PLACEHOLDER = /\{([^{}]*)\}/g;
const ENV_REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** The shape of `TOOLS_FILE`, checked before anything else is. */
const FILE_SCHEMA = {
  type: 'object',
  required: ['tools'],
  additionalProperties: false,
  properties: {
    tools: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'description', 'method', 'url'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', pattern: TOOL_NAME_PATTERN },
          description: { type: 'string', minLength: 1, maxLength: 1024 },
          parameters: {
            type: 'object',
            required: ['type'],
            properties: {
              type: { const: 'object' },
              properties: { type: 'object' },
              required: { type: 'array', items: { type: 'string' } },
            },
          },
          method: { enum: [...HTTP_TOOL_METHODS] },
          url: { type: 'string', pattern: '^https?://' },
          headers: {
            type: 'object',
            additionalProperties: { type: 'string' },
          },
          bind: {
            type: 'object',
            additionalProperties: { enum: [...BIND_SOURCES] },
          },
          timeoutMs: { type: 'integer', minimum: 100, maximum: 120000 },
        },
      },
    },
  },
} as const;

interface RawTool {
  name: string;
  description: string;
  parameters?: ObjectSchema;
  method: HttpToolMethod;
  url: string;
  headers?: Record<string, string>;
  bind?: Record<string, BindSource>;
  timeoutMs?: number;
}

/** Names the app's own tools take; a declared tool cannot shadow them. */
export const RESERVED_TOOL_NAMES = ['request_human', 'offer_choices'];

/**
 * Reads the text of `TOOLS_FILE`: the tools and, when something is wrong,
 * every problem at once (`tools[1].url: …`), so a deployment is fixed in
 * one pass. `env` resolves `${NAME}` in header values; a problem never
 * quotes a header's value.
 */
export function parseToolsFile(
  text: string,
  env: Record<string, string | undefined>,
): { tools: HttpToolSpec[]; problems: string[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return {
      tools: [],
      problems: [`not valid JSON (${(error as Error).message})`],
    };
  }
  normalise(raw);
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validateFile = ajv.compile(FILE_SCHEMA);
  if (!validateFile(raw)) {
    return { tools: [], problems: (validateFile.errors ?? []).map(describe) };
  }
  const problems: string[] = [];
  const tools: HttpToolSpec[] = [];
  const seen = new Set<string>();
  (
    raw as { tools: Array<RawTool & { parameters: ObjectSchema }> }
  ).tools.forEach((tool, index) => {
    const at = `tools[${index}]`;
    const mine: string[] = [];
    if (seen.has(tool.name) || RESERVED_TOOL_NAMES.includes(tool.name)) {
      mine.push(`${at}.name: "${tool.name}" is already taken`);
    }
    seen.add(tool.name);
    try {
      ajv.compile(tool.parameters);
    } catch (error) {
      mine.push(
        `${at}.parameters: not a valid JSON Schema (${(error as Error).message})`,
      );
    }
    const declared = new Set(Object.keys(tool.parameters.properties ?? {}));
    const bind = tool.bind ?? {};
    mine.push(...checkUrl(at, tool.url, declared, bind));
    const headers: Record<string, string> = {};
    const secretHeaders: string[] = [];
    const secrets: string[] = [];
    for (const [name, value] of Object.entries(tool.headers ?? {})) {
      let fromEnv = false;
      headers[name] = value.replace(ENV_REFERENCE, (_, variable: string) => {
        fromEnv = true;
        const resolved = env[variable];
        if (resolved === undefined || resolved === '') {
          mine.push(`${at}.headers.${name}: \${${variable}} is not set`);
          return '';
        }
        secrets.push(resolved);
        return resolved;
      });
      if (fromEnv) secretHeaders.push(name);
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
        mine.push(`${at}.headers: "${name}" is not a valid header name`);
      }
    }
    problems.push(...mine);
    if (mine.length === 0) {
      tools.push({
        name: tool.name,
        description: tool.description,
        parameters: tool.parameters,
        method: tool.method,
        url: tool.url,
        headers,
        secretHeaders,
        secrets,
        bind,
        timeoutMs: tool.timeoutMs ?? null,
      });
    }
  });
  return { tools, problems };
}

/**
 * Forgiving forms, made exact before the checks: a method in any case
 * (`get`), and no `parameters` for a tool that takes none.
 */
function normalise(raw: unknown): void {
  const tools = (raw as { tools?: unknown } | null)?.tools;
  if (!Array.isArray(tools)) return;
  for (const tool of tools as Array<Record<string, unknown>>) {
    if (!tool || typeof tool !== 'object') continue;
    if (typeof tool.method === 'string') {
      tool.method = tool.method.toUpperCase();
    }
    if (tool.parameters === undefined) {
      tool.parameters = { type: 'object', properties: {} };
    }
  }
}

/**
 * The URL template's problems: placeholders only in the path and the query
 * (never the scheme, host or port, so no argument can change where the call
 * goes), each naming a declared or bound parameter.
 */
function checkUrl(
  at: string,
  template: string,
  declared: Set<string>,
  bind: Record<string, BindSource>,
): string[] {
  const problems: string[] = [];
  const origin = /^https?:\/\/[^/?#]*/.exec(template)?.[0] ?? '';
  if (/[{}]/.test(origin)) {
    problems.push(
      `${at}.url: a {parameter} may only stand in the path or query`,
    );
  }
  if (template.includes('#')) {
    problems.push(`${at}.url: must not have a fragment`);
  }
  try {
    new URL(template.replace(PLACEHOLDER, 'x'));
  } catch {
    problems.push(`${at}.url: not a valid URL`);
  }
  for (const [, name] of template.matchAll(PLACEHOLDER)) {
    if (!declared.has(name) && !(name in bind)) {
      problems.push(
        `${at}.url: {${name}} is neither a parameter nor a bound value`,
      );
    }
  }
  return problems;
}

function describe(error: ErrorObject): string {
  const path = error.instancePath
    .split('/')
    .slice(1)
    .map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`))
    .join('')
    .replace(/^\./, '');
  const detail =
    error.keyword === 'additionalProperties'
      ? `unknown field "${String(error.params.additionalProperty)}"`
      : error.keyword === 'enum'
        ? `must be one of ${(error.params.allowedValues as string[]).join(', ')}`
        : (error.message ?? 'is not valid');
  return `${path || '(file)'}: ${detail}`;
}
