import type { HttpToolSpec, ObjectSchema } from './tools-file';

/** Arguments the call cannot be made with; the message is for the model. */
export class ToolArgumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ToolArgumentError';
  }
}

export interface HttpToolRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

const PLACEHOLDER = /\{([^{}]*)\}/g;

/**
 * The parameters as the model sees them: bound ones removed (it can neither
 * see nor give them) and nothing beyond the declared properties accepted.
 */
export function modelSchema(spec: HttpToolSpec): ObjectSchema {
  const hidden = new Set(Object.keys(spec.bind));
  const properties = Object.fromEntries(
    Object.entries(spec.parameters.properties ?? {}).filter(
      ([name]) => !hidden.has(name),
    ),
  );
  const required = (spec.parameters.required ?? []).filter(
    (name) => !hidden.has(name),
  );
  return {
    ...spec.parameters,
    type: 'object',
    properties,
    required,
    additionalProperties: false,
  };
}

/**
 * The HTTP request of one call. Arguments (already checked against the
 * model's schema) and bound values are only ever substituted, encoded, into
 * the declared URL's placeholders; the other declared values go to the query
 * (GET, DELETE) or a JSON body. The request cannot leave the declared origin.
 */
export function buildHttpRequest(
  spec: HttpToolSpec,
  args: Record<string, unknown>,
  bound: Record<string, string>,
): HttpToolRequest {
  const values: Record<string, unknown> = { ...args, ...bound };
  const used = new Set<string>();
  const queryAt = spec.url.indexOf('?');
  const pathPart = queryAt < 0 ? spec.url : spec.url.slice(0, queryAt);
  const queryPart = queryAt < 0 ? '' : spec.url.slice(queryAt);
  const fill = (part: string, inPath: boolean) =>
    part.replace(PLACEHOLDER, (_, name: string) => {
      used.add(name);
      const text = scalar(name, values[name]);
      if (inPath && (text === '' || text === '.' || text === '..')) {
        throw new ToolArgumentError(
          `${name} must be a non-empty value other than "." and ".."`,
        );
      }
      // encodeURIComponent leaves no "/", "?", "#" or "%" that could change
      // the path or reach another part of the URL.
      return encodeURIComponent(text);
    });
  const url = new URL(fill(pathPart, true) + fill(queryPart, false));
  const declaredOrigin = new URL(spec.url.replace(PLACEHOLDER, 'x')).origin;
  if (url.origin !== declaredOrigin) {
    throw new ToolArgumentError(
      'the arguments would change where the call goes',
    );
  }

  const rest = Object.entries(values).filter(
    ([name, value]) =>
      !used.has(name) &&
      value !== undefined &&
      (name in spec.bind || name in (spec.parameters.properties ?? {})),
  );
  const headers: Record<string, string> = {
    accept: 'application/json, text/plain;q=0.9, */*;q=0.5',
    ...spec.headers,
  };
  const withBody = !['GET', 'DELETE'].includes(spec.method);
  if (!withBody) {
    for (const [name, value] of rest) {
      url.searchParams.append(
        name,
        typeof value === 'string' ? value : JSON.stringify(value),
      );
    }
    return { method: spec.method, url: url.toString(), headers };
  }
  return {
    method: spec.method,
    url: url.toString(),
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(Object.fromEntries(rest)),
  };
}

function scalar(name: string, value: unknown): string {
  if (value === undefined || value === null) {
    throw new ToolArgumentError(`${name} is required`);
  }
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') {
    return String(value);
  }
  throw new ToolArgumentError(`${name} must be a string, number or boolean`);
}
