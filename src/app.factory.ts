import { ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  FastifyAdapter,
  NestFastifyApplication,
} from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';

/** Meta sends webhook bodies of up to 3 MB; above 3 MiB the answer is 413. */
export const BODY_LIMIT_BYTES = 3 * 1024 * 1024;

/**
 * Builds the application exactly as `main.ts` runs it (tests start the same
 * thing): Fastify with the raw body kept for signature checks, the body
 * limit, validation, the error envelope, Swagger and shutdown hooks.
 */
export async function createApp(): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule,
    new FastifyAdapter({ bodyLimit: BODY_LIMIT_BYTES, trustProxy: true }),
    { rawBody: true, bufferLogs: true, abortOnError: false },
  );
  app.useLogger(app.get(Logger));
  app.flushLogs();
  app.enableShutdownHooks();
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
    }),
  );
  setUpSwagger(app);
  return app;
}

function setUpSwagger(app: NestFastifyApplication) {
  const config = new DocumentBuilder()
    .setTitle('ClariOps')
    .setDescription(
      'WhatsApp Cloud API webhooks answered by an OpenAI-compatible LLM, and the admin API operators use to watch and steer conversations. Admin routes take `Authorization: Bearer <ADMIN_API_KEY>` and answer `{ success, message, data }`.',
    )
    .setVersion('0.1.0')
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', description: 'ADMIN_API_KEY' },
      'admin-key',
    )
    .build();
  const document = SwaggerModule.createDocument(app, config);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
}
