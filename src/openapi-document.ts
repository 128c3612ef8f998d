import { writeFileSync } from 'node:fs';
import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';

/** One operation of the document (the type is not exported by @nestjs/swagger). */
type OperationObject = OpenAPIObject['paths'][string]['get'] & object;

const HTTP_METHODS = [
  'get',
  'put',
  'post',
  'delete',
  'patch',
  'options',
  'head',
];

/**
 * The OpenAPI 3 document served at /docs-json. Operations without the admin
 * bearer scheme are public and say so with an explicit `security: []`.
 */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('ClariOps')
    .setDescription(
      'WhatsApp Cloud API webhooks answered by an OpenAI-compatible LLM, and the admin API operators use to watch and steer conversations. Admin routes take `Authorization: Bearer <ADMIN_API_KEY>` and answer `{ success, message, data }`.',
    )
    .setVersion('0.1.0')
    .setLicense('MIT', 'https://opensource.org/license/mit')
    .addServer('/', 'This ClariOps instance')
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'API key',
        description: 'ADMIN_API_KEY',
      },
      'admin-key',
    )
    .build();
  const document = SwaggerModule.createDocument(app, config);
  for (const operations of Object.values(document.paths)) {
    for (const method of HTTP_METHODS) {
      const operation = (operations as Record<string, OperationObject>)[method];
      if (operation) completeOperation(method, operation);
    }
  }
  return document;
}

/**
 * What every operation has whether or not its controller says so: public
 * ones an explicit `security: []`; the success status Nest answers with by
 * default (@nestjs/swagger leaves it out once an error is documented); and
 * the 431 of a request whose headers are too large, which any route can
 * answer (see client-error.handler.ts).
 */
function completeOperation(method: string, operation: OperationObject) {
  operation.security ??= [];
  const codes = Object.keys(operation.responses);
  if (!codes.some((code) => code.startsWith('2'))) {
    operation.responses[method === 'post' ? '201' : '200'] = {
      description: 'Success',
    };
  }
  operation.responses['431'] ??= {
    description: 'Request headers are too large',
    content: {
      'application/json': {
        schema: {
          type: 'object',
          properties: {
            success: { type: 'boolean', example: false },
            message: {
              type: 'string',
              example: 'Request headers are too large',
            },
            data: { type: 'object', nullable: true, example: null },
          },
        },
      },
    },
  };
}

/**
 * `node dist/openapi-document.js <file>`: writes the document of the app
 * built as it runs (in-memory database, nothing listening), for `redocly
 * lint` (see `npm run lint:openapi`).
 */
async function writeDocument(path: string) {
  // The document depends on the code only: `npm run lint:openapi` runs this
  // with an embedded, in-memory app, whatever .env says (an empty URL counts
  // as unset).
  const { createApp } = await import('./app.factory.js');
  const app = await createApp();
  await app.init();
  writeFileSync(path, JSON.stringify(buildOpenApiDocument(app), null, 2));
  await app.close();
}

if (require.main === module) {
  writeDocument(process.argv[2] ?? 'openapi.json').catch((error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exit(1);
  });
}
