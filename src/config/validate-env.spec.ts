import { AppConfig } from './app-config';
import { DEFAULT_FALLBACK_MESSAGE } from './env.schema';
import { InvalidEnvironmentError, validateEnv } from './validate-env';

const problemsOf = (raw: Record<string, string>): string[] => {
  try {
    validateEnv(raw);
  } catch (error) {
    if (error instanceof InvalidEnvironmentError) return error.problems;
    throw error;
  }
  throw new Error('expected the environment to be rejected');
};

describe('validateEnv', () => {
  it('applies every documented default to an empty environment', () => {
    const config = new AppConfig(validateEnv({}));
    expect(config.server).toEqual({
      port: 3001,
      trustProxy: false,
      nodeEnv: 'development',
      logLevel: 'info',
      isProduction: false,
    });
    expect(config.llm).toMatchObject({
      apiKey: null,
      baseUrl: null,
      timeoutMs: 20000,
      maxRetries: 2,
      businessName: 'ClariOps',
      fallbackMessage: DEFAULT_FALLBACK_MESSAGE,
    });
    expect(config.whatsapp).toMatchObject({
      apiBaseUrl: 'https://graph.facebook.com',
      apiVersion: 'v25.0',
      appSecret: null,
    });
    expect(config.conversation).toEqual({
      sessionTimeoutMs: 30 * 60_000,
      contextMessages: 10,
      maxMessageLength: 4096,
      replyDebounceMs: 1000,
      turnsPerMinute: 6,
    });
    expect(config.database).toEqual({
      url: null,
      dataDir: './data',
      poolSize: 10,
    });
    expect(config.admin).toEqual({
      apiKey: null,
      throttleLimit: 120,
      throttleTtlMs: 60_000,
    });
    expect(config.llm.handoffTool).toBe(true);
    expect(config.handoff.keywords).toEqual([]);
    expect(config.llmConfigured).toBe(false);
    expect(config.whatsappConfigured).toBe(false);
  });

  it('converts numeric strings, including decimal session timeouts', () => {
    const config = new AppConfig(
      validateEnv({ PORT: '8080', SESSION_TIMEOUT_MINUTES: '0.5' }),
    );
    expect(config.server.port).toBe(8080);
    expect(config.conversation.sessionTimeoutMs).toBe(30_000);
  });

  it('treats empty strings as unset', () => {
    const config = new AppConfig(
      validateEnv({ OPENAI_API_KEY: '', DATABASE_URL: '  ' }),
    );
    expect(config.llm.apiKey).toBeNull();
    expect(config.database.url).toBeNull();
  });

  it('lists every bad variable in one error', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      NODE_ENV: 'staging',
      MAX_MESSAGE_LENGTH: '5000',
      DATABASE_URL: 'mysql://x',
    });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual([
      'DATABASE_URL',
      'MAX_MESSAGE_LENGTH',
      'NODE_ENV',
      'PORT',
    ]);
  });

  it('requires WHATSAPP_APP_SECRET in production', () => {
    const problems = problemsOf({ NODE_ENV: 'production' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^WHATSAPP_APP_SECRET: .*required/);
    expect(() =>
      validateEnv({ NODE_ENV: 'production', WHATSAPP_APP_SECRET: 's3cret' }),
    ).not.toThrow();
  });

  it('never echoes a rejected value, which may be a secret', () => {
    const problems = problemsOf({ ADMIN_API_KEY: 'short-secret' });
    expect(problems.join('\n')).not.toContain('short-secret');
    expect(problems[0]).toMatch(/^ADMIN_API_KEY/);
  });

  it('rejects a SYSTEM_PROMPT_FILE that does not exist', () => {
    expect(problemsOf({ SYSTEM_PROMPT_FILE: '/nope/prompt.txt' })).toEqual([
      'SYSTEM_PROMPT_FILE: file /nope/prompt.txt does not exist',
    ]);
  });

  it('reads the system prompt from SYSTEM_PROMPT_FILE', () => {
    const config = new AppConfig(
      validateEnv({ SYSTEM_PROMPT_FILE: __filename }),
    );
    expect(config.llm.systemPrompt).toContain('reads the system prompt');
  });
});

describe('boolean and list variables', () => {
  it.each([
    ['false', false],
    ['0', false],
    ['TRUE', true],
    ['yes', true],
  ])('reads LLM_HANDOFF_TOOL=%s as %s', (raw, expected) => {
    expect(
      new AppConfig(validateEnv({ LLM_HANDOFF_TOOL: raw })).llm.handoffTool,
    ).toBe(expected);
  });

  it('rejects a LLM_HANDOFF_TOOL that is not a boolean', () => {
    expect(() => validateEnv({ LLM_HANDOFF_TOOL: 'maybe' })).toThrow(
      /LLM_HANDOFF_TOOL/,
    );
  });

  it('splits HANDOFF_KEYWORDS on commas, trimmed and lower-cased', () => {
    const config = new AppConfig(
      validateEnv({ HANDOFF_KEYWORDS: ' Human, talk to a PERSON ,,agent' }),
    );
    expect(config.handoff.keywords).toEqual([
      'human',
      'talk to a person',
      'agent',
    ]);
  });
});

describe('TRUST_PROXY', () => {
  it.each([
    ['true', true],
    ['false', false],
    ['10.0.0.0/8, 127.0.0.1', ['10.0.0.0/8', '127.0.0.1']],
  ] as const)('reads %s', (raw, expected) => {
    expect(
      new AppConfig(validateEnv({ TRUST_PROXY: raw })).server.trustProxy,
    ).toEqual(expected);
  });

  it('rejects anything else', () => {
    expect(() => validateEnv({ TRUST_PROXY: 'everyone' })).toThrow(
      /TRUST_PROXY/,
    );
  });
});
