import { Injectable, Logger } from '@nestjs/common';
import Ajv, { type ValidateFunction } from 'ajv';
import { ToolsConfig } from '../../config/app-config';
import { redactSecrets } from '../../common/secrets';
import { truncate } from '../../common/truncate';
import {
  AvailableTool,
  ToolContext,
  ToolResult,
  ToolSource,
} from '../tool-source';
import {
  buildHttpRequest,
  modelSchema,
  ToolArgumentError,
} from './http-tool.request';
import type { BindSource, HttpToolSpec } from './tools-file';

interface PreparedTool {
  spec: HttpToolSpec;
  offered: AvailableTool;
  validate: ValidateFunction;
}

/**
 * The HTTP tools of `TOOLS_FILE`. A call is checked against the schema the
 * model was shown, gets its bound values from the conversation, goes only to
 * the declared URL (no redirects followed), and its answer is cut to
 * `TOOL_RESULT_MAX_CHARS`. Every failure is a result the model can read.
 */
@Injectable()
export class HttpToolSource extends ToolSource {
  private readonly logger = new Logger(HttpToolSource.name);
  private readonly tools = new Map<string, PreparedTool>();

  constructor(private readonly settings: ToolsConfig) {
    super();
    const ajv = new Ajv({ allErrors: true, strict: false });
    for (const spec of settings.httpTools) {
      const parameters = modelSchema(spec);
      this.tools.set(spec.name, {
        spec,
        validate: ajv.compile(parameters),
        offered: {
          definition: {
            name: spec.name,
            description: spec.description,
            parameters,
          },
          kind: 'http',
          origin: `${spec.method} ${spec.url}`,
        },
      });
    }
  }

  list(): AvailableTool[] {
    return [...this.tools.values()].map((tool) => tool.offered);
  }

  /** The declared tool, for `GET /api/tools` (header values left out). */
  spec(name: string): HttpToolSpec | undefined {
    return this.tools.get(name)?.spec;
  }

  async call(
    name: string,
    args: unknown,
    context: ToolContext,
    signal: AbortSignal,
  ): Promise<ToolResult> {
    const tool = this.tools.get(name);
    if (!tool) return { ok: false, content: `there is no tool named ${name}` };
    const { spec } = tool;
    const given =
      args && typeof args === 'object' && !Array.isArray(args)
        ? (args as Record<string, unknown>)
        : null;
    if (!given) {
      return { ok: false, content: 'the arguments must be a JSON object' };
    }
    const forbidden = Object.keys(given).filter((key) => key in spec.bind);
    if (forbidden.length > 0) {
      this.logger.warn(
        { tool: name, conversationId: context.conversationId, forbidden },
        'the model tried to give a bound parameter; call refused',
      );
      return {
        ok: false,
        content: `${forbidden.join(', ')} cannot be given: ClariOps fills ${forbidden.length === 1 ? 'it' : 'them'} in for the customer of this conversation`,
      };
    }
    if (!tool.validate(given)) {
      const problems = (tool.validate.errors ?? [])
        .map((e) => `${e.instancePath || '(arguments)'} ${e.message ?? ''}`)
        .join('; ');
      return { ok: false, content: `invalid arguments: ${problems}` };
    }
    let request;
    try {
      request = buildHttpRequest(spec, given, boundValues(spec, context));
    } catch (error) {
      if (error instanceof ToolArgumentError) {
        return { ok: false, content: `invalid arguments: ${error.message}` };
      }
      throw error;
    }

    const timeoutMs = spec.timeoutMs ?? this.settings.timeoutMs;
    const started = Date.now();
    const timeout = AbortSignal.timeout(timeoutMs);
    try {
      const response = await fetch(request.url, {
        method: request.method,
        headers: request.headers,
        body: request.body,
        redirect: 'manual',
        signal: AbortSignal.any([signal, timeout]),
      });
      const capped = await readCapped(response, this.settings.maxResultChars);
      const cut = capped.cut;
      // A service that echoes its credentials gives them to no one.
      const text = redactSecrets(capped.text, spec.secrets);
      const ms = Date.now() - started;
      this.logger.log(
        {
          tool: name,
          conversationId: context.conversationId,
          status: response.status,
          ms,
        },
        'tool called',
      );
      if (response.status >= 300) {
        return {
          ok: false,
          content: `the service answered HTTP ${response.status}${text ? `: ${truncate(text, 500)}` : ''}`,
        };
      }
      return {
        ok: true,
        content: cut
          ? `${text}\n[cut: the answer was longer than ${this.settings.maxResultChars} characters]`
          : text,
      };
    } catch {
      const reason = signal.aborted
        ? 'the turn was stopped'
        : timeout.aborted
          ? `no answer within ${timeoutMs} ms`
          : 'the service could not be reached';
      this.logger.warn(
        {
          tool: name,
          conversationId: context.conversationId,
          ms: Date.now() - started,
          reason,
        },
        'tool call failed',
      );
      return { ok: false, content: `the call failed: ${reason}` };
    }
  }
}

function boundValues(
  spec: HttpToolSpec,
  context: ToolContext,
): Record<string, string> {
  const sources: Record<BindSource, string | null> = {
    'customer.id': context.customerId,
    'customer.phone': context.customerPhone,
    'business.number': context.businessNumber,
  };
  const values: Record<string, string> = {};
  for (const [param, source] of Object.entries(spec.bind)) {
    const value = sources[source];
    if (value === null) {
      throw new ToolArgumentError(
        `this conversation has no ${source === 'customer.phone' ? 'phone number for the customer' : 'business number'}`,
      );
    }
    values[param] = value;
  }
  return values;
}

/**
 * The body as text, reading no more than `maxChars` characters' worth of
 * bytes: a tool answering megabytes is cut, not buffered.
 */
async function readCapped(
  response: Response,
  maxChars: number,
): Promise<{ text: string; cut: boolean }> {
  if (!response.body) return { text: '', cut: false };
  const limit = maxChars * 4;
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let cut = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size >= limit) {
      cut = true;
      await reader.cancel();
      break;
    }
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.length > maxChars)
    return { text: text.slice(0, maxChars), cut: true };
  return { text, cut };
}
