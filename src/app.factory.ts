import { randomUUID } from 'node:crypto';
import helmet from '@fastify/helmet';
import multipart from '@fastify/multipart';
import { NestFactory } from '@nestjs/core';
import {
  FastifyAdapter,
  NestFastifyApplication,
} from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppModule } from './app.module';
import { clientErrorHandler } from './common/client-error.handler';
import { parseJsonBody } from './common/json-body.parser';
import { StrictValidationPipe } from './common/strict-validation.pipe';
import { AppConfig } from './config/app-config';
import { loadAppConfig } from './config/app-config.module';
import { buildOpenApiDocument } from './openapi-document';

const REQUEST_ID = /^[\w.-]{1,64}$/;

/** Meta sends webhook bodies of up to 3 MB; above 3 MiB the answer is 413. */
export const BODY_LIMIT_BYTES = 3 * 1024 * 1024;

/**
 * Helmet's hardening headers on every answer. The content-security policy is
 * helmet's default (only this origin's scripts) with what Swagger UI at /docs
 * needs: its page has inline styles (helmet allows them) and data: images,
 * and no inline script. Nothing may frame the app, and requests are not
 * upgraded to https (it is often served over plain http on a private network).
 */
const HELMET_OPTIONS = {
  frameguard: { action: 'deny' as const },
  contentSecurityPolicy: {
    directives: {
      frameAncestors: ["'none'"],
      upgradeInsecureRequests: null,
    },
  },
};

/**
 * Builds the application exactly as `main.ts` runs it (tests start the same
 * thing): Fastify with the raw body kept for signature checks, the body
 * limit, validation, the error envelope, Swagger and shutdown hooks.
 */
export async function createApp(
  config: AppConfig = loadAppConfig(),
): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    // The adapter and the modules get the same validated configuration.
    AppModule.forRoot(config),
    new FastifyAdapter({
      bodyLimit: BODY_LIMIT_BYTES,
      trustProxy: config.server.trustProxy,
      // A caller's X-Request-Id (when it is safe to log) or a fresh one.
      genReqId: (request: {
        headers: Record<string, string | string[] | undefined>;
      }) => {
        const given = request.headers['x-request-id'];
        return typeof given === 'string' && REQUEST_ID.test(given)
          ? given
          : randomUUID();
      },
      // Errors Node's HTTP parser raises (a header too large) and those
      // Fastify raises before routing (a malformed URL) get the envelope too.
      clientErrorHandler,
      frameworkErrors: (
        error: FastifyError,
        _request: FastifyRequest,
        reply: FastifyReply,
      ) => {
        void reply.status(error.statusCode ?? 400).send({
          success: false,
          message:
            error.code === 'FST_ERR_BAD_URL'
              ? 'The URL is malformed'
              : error.message,
          data: null,
        });
      },
    }),
    { rawBody: true, bufferLogs: true, abortOnError: false },
  );
  app.useLogger(app.get(Logger));
  app.useBodyParser(
    'application/json',
    { bodyLimit: BODY_LIMIT_BYTES },
    parseJsonBody,
  );
  await app.register(helmet, HELMET_OPTIONS);
  // Multipart bodies (knowledge uploads): one file, bounded; a larger file
  // is a 413 as soon as it passes the limit, never held whole.
  await app.register(multipart, {
    limits: {
      fileSize: config.knowledge.maxFileBytes,
      files: 1,
      fields: 4,
      fieldSize: 4096,
      parts: 5,
    },
  });
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', (request, reply, done) => {
      void reply.header('x-request-id', request.id);
      // Admin answers hold customer data: no browser or proxy keeps a copy.
      if (request.url === '/api' || request.url.startsWith('/api/')) {
        void reply.header('cache-control', 'no-store');
      }
      done();
    });
  app.flushLogs();
  app.enableShutdownHooks();
  app.useGlobalPipes(
    new StrictValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
    }),
  );
  setUpSwagger(app);
  return app;
}

function setUpSwagger(app: NestFastifyApplication) {
  SwaggerModule.setup('docs', app, buildOpenApiDocument(app), {
    jsonDocumentUrl: 'docs-json',
  });
}
