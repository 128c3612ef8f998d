import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../../src/app.factory';
import { DatabaseConnection } from '../../src/database/database-connection';
import { FakeGraphApi } from '../fakes/fake-graph-api';
import { FakeOpenAi } from '../fakes/fake-openai';

export const APP_SECRET = 'test-app-secret';
export const VERIFY_TOKEN = 'test-verify-token';
export const ADMIN_KEY = 'test-admin-key-0123456789';
export const PHONE_NUMBER_ID = '106540352242922';

export interface TestApp {
  app: NestFastifyApplication;
  url: string;
  db: DatabaseConnection;
  close(): Promise<void>;
}

/** The environment of an app wired to the fakes; tests override single values. */
export function fakeEnv(
  graph: FakeGraphApi,
  openai: FakeOpenAi,
): Record<string, string> {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATA_DIR: 'memory://',
    OPENAI_API_KEY: 'test-openai-key',
    OPENAI_BASE_URL: openai.baseUrl,
    OPENAI_MODEL: 'test-model',
    LLM_TIMEOUT_MS: '2000',
    LLM_MAX_RETRIES: '0',
    WHATSAPP_PHONE_NUMBER_ID: PHONE_NUMBER_ID,
    WHATSAPP_ACCESS_TOKEN: 'test-access-token',
    WHATSAPP_APP_SECRET: APP_SECRET,
    WHATSAPP_WEBHOOK_VERIFY_TOKEN: VERIFY_TOKEN,
    WHATSAPP_API_BASE_URL: graph.baseUrl,
    WHATSAPP_API_VERSION: 'v25.0',
    WHATSAPP_RETRY_BASE_MS: '20',
    REPLY_DEBOUNCE_MS: '50',
    ADMIN_API_KEY: ADMIN_KEY,
  };
}

/**
 * Starts the real application on a free port with `env` as its whole
 * configuration (variables not named are unset), as `main.ts` would.
 */
export async function startTestApp(
  env: Record<string, string>,
): Promise<TestApp> {
  const saved = { ...process.env };
  for (const key of Object.keys(process.env)) {
    if (
      /^(OPENAI_|WHATSAPP_|LLM_|SYSTEM_PROMPT|BUSINESS_NAME|FALLBACK_MESSAGE|MEDIA_REPLY|SESSION_|CONTEXT_|MAX_MESSAGE|REPLY_|CUSTOMER_|ADMIN_|DATA_DIR|DATABASE_|REDIS_URL|PORT|LOG_LEVEL|KNOWLEDGE_)/.test(
        key,
      )
    ) {
      delete process.env[key];
    }
  }
  Object.assign(process.env, env);
  let app: NestFastifyApplication | undefined;
  try {
    app = await createApp();
    await app.listen({ port: 0, host: '127.0.0.1' });
  } catch (error) {
    // An app that started but could not listen still holds its database
    // thread: close it rather than leave it to outlive the spec.
    await app?.close().catch(() => undefined);
    throw error;
  } finally {
    process.env = saved;
  }
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    db: app.get(DatabaseConnection),
    close: () => app.close(),
  };
}
