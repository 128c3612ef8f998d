import { existsSync, readFileSync } from 'node:fs';
import { parseToolsFile } from '../tools/http/tools-file';
import { plainToInstance } from 'class-transformer';
import { ValidationError, validateSync } from 'class-validator';
import { EnvironmentVariables } from './env.schema';
import { envValue, parseMcpServers } from './mcp-servers';

export class InvalidEnvironmentError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `Invalid environment configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p}`).join('\n'),
    );
    this.name = 'InvalidEnvironmentError';
  }
}

const describe = (error: ValidationError): string => {
  const reasons = Object.values(error.constraints ?? {});
  // Never echo the value: it may be a secret.
  return `${error.property}: ${reasons.join('; ')}`;
};

/**
 * Validates the raw environment once, listing every bad variable in one
 * error so that a misconfigured deployment is fixed in one pass.
 */
export function validateEnv(
  raw: Record<string, unknown>,
): EnvironmentVariables {
  const env = plainToInstance(EnvironmentVariables, raw, {
    enableImplicitConversion: true,
    exposeDefaultValues: true,
  });
  const problems = validateSync(env, { skipMissingProperties: false }).map(
    describe,
  );
  if (env.SYSTEM_PROMPT_FILE && !existsSync(env.SYSTEM_PROMPT_FILE)) {
    problems.push(
      `SYSTEM_PROMPT_FILE: file ${env.SYSTEM_PROMPT_FILE} does not exist`,
    );
  }
  env.toolsFromFile = [];
  if (env.TOOLS_FILE) {
    if (existsSync(env.TOOLS_FILE)) {
      const { tools, problems: found } = parseToolsFile(
        readFileSync(env.TOOLS_FILE, 'utf8'),
        raw as Record<string, string | undefined>,
      );
      env.toolsFromFile = tools;
      problems.push(...found.map((p) => `TOOLS_FILE: ${p}`));
    } else {
      problems.push(`TOOLS_FILE: file ${env.TOOLS_FILE} does not exist`);
    }
  }
  problems.push(
    ...parseMcpServers(env.MCP_SERVERS, env.MCP_SERVERS_HEADERS, (name) =>
      envValue(raw, name),
    ).problems,
  );
  if (problems.length > 0) {
    throw new InvalidEnvironmentError(problems);
  }
  return env;
}
