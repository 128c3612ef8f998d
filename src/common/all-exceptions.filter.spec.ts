import {
  BadRequestException,
  ForbiddenException,
  InternalServerErrorException,
  Logger,
  NotFoundException,
  ValidationPipe,
} from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { IsString, MinLength } from 'class-validator';
import { DrizzleQueryError } from 'drizzle-orm';
import { inspect } from 'node:util';
import { errorCodes } from 'fastify';
import { DomainError } from './domain.error';
import { toErrorResponse } from './all-exceptions.filter';

/** A logger that keeps what it was given, so a test can read the log. */
class CapturingLogger {
  readonly errors: unknown[][] = [];
  readonly others: unknown[][] = [];
  error(...args: unknown[]) {
    this.errors.push(args);
  }
  warn(...args: unknown[]) {
    this.others.push(args);
  }
  log(...args: unknown[]) {
    this.others.push(args);
  }
  asLogger(): Logger {
    return this as unknown as Logger;
  }
}

const REQUEST = { method: 'POST', url: '/api/send-message' };
const STACK_FRAME = /\n\s*at\s/;

class NoteDto {
  @IsString()
  @MinLength(1)
  title: string;

  @IsString()
  body: string;
}

/** The exception a global ValidationPipe throws for `value`. */
async function validationError(value: unknown): Promise<BadRequestException> {
  const pipe = new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
  });
  try {
    await pipe.transform(value, { type: 'body', metatype: NoteDto });
  } catch (error) {
    if (error instanceof BadRequestException) return error;
    throw error;
  }
  throw new Error('expected the ValidationPipe to reject the value');
}

describe('toErrorResponse', () => {
  let logger: CapturingLogger;
  beforeEach(() => {
    logger = new CapturingLogger();
  });

  it('answers a validation failure with 400, a summary message and every field message', async () => {
    const error = await validationError({ title: '', extra: 1 });

    const { status, body } = toErrorResponse(error, logger.asLogger(), REQUEST);

    expect(status).toBe(400);
    expect(body.success).toBe(false);
    expect(body.data).toBeNull();
    expect(body.message).toMatch(/^Validation failed/);
    expect(body.errors).toEqual(
      expect.arrayContaining([
        'property extra should not exist',
        'title must be longer than or equal to 1 characters',
        'body must be a string',
      ]),
    );
    expect(body.errors).toHaveLength(3);
    for (const fieldMessage of body.errors!) {
      expect(body.message).toContain(fieldMessage);
    }
    expect(body.errorId).toBeUndefined();
    expect(logger.errors).toEqual([]);
  });

  it('keeps the status and message of a NotFoundException in the envelope', () => {
    const { status, body } = toErrorResponse(
      new NotFoundException('Conversation not found'),
      logger.asLogger(),
      REQUEST,
    );

    expect(status).toBe(404);
    expect(body).toEqual({
      success: false,
      message: 'Conversation not found',
      data: null,
    });
    expect(logger.errors).toEqual([]);
  });

  it('keeps the message of a 4xx HttpException without a custom message', () => {
    const { status, body } = toErrorResponse(
      new ForbiddenException(),
      logger.asLogger(),
      REQUEST,
    );

    expect(status).toBe(403);
    expect(body).toEqual({ success: false, message: 'Forbidden', data: null });
  });

  it('answers a 4xx DomainError with its status and message, and logs nothing', () => {
    const { status, body } = toErrorResponse(
      new DomainError(
        'The bot is not paused for 16505551234',
        'not-in-handoff',
      ),
      logger.asLogger(),
      REQUEST,
    );

    expect(status).toBe(409);
    expect(body).toEqual({
      success: false,
      message: 'The bot is not paused for 16505551234',
      data: null,
    });
    expect(logger.errors).toEqual([]);
  });

  it('answers a 503 DomainError with 503, its message and an error id that is logged', () => {
    const { status, body } = toErrorResponse(
      new DomainError(
        'The LLM is not configured: set OPENAI_API_KEY',
        'llm-not-configured',
      ),
      logger.asLogger(),
      REQUEST,
    );

    expect(status).toBe(503);
    expect(body.success).toBe(false);
    expect(body.data).toBeNull();
    expect(body.errorId).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.message).toContain('The LLM is not configured');
    expect(body.message).toContain(body.errorId);
    expect(logger.errors).toHaveLength(1);
    expect(logger.errors[0][0]).toMatchObject({ errorId: body.errorId });
  });

  it('hides an unknown error behind a 500 with an error id that is also in the log', () => {
    const error = new Error('connection to postgres://admin:hunter2@db failed');

    const { status, body } = toErrorResponse(error, logger.asLogger(), REQUEST);

    expect(status).toBe(500);
    expect(body.success).toBe(false);
    expect(body.data).toBeNull();
    expect(body.errorId).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.message).toContain(body.errorId);
    const sent = JSON.stringify(body);
    expect(sent).not.toContain('hunter2');
    expect(sent).not.toContain(error.message);
    expect(sent).not.toMatch(/\bat\s+\S+\s+\(/);
    expect(sent).not.toContain(error.stack!.split('\n')[1].trim());

    expect(logger.errors).toHaveLength(1);
    const [logged, text] = logger.errors[0] as [
      Record<string, unknown>,
      string,
    ];
    expect(logged).toMatchObject({
      errorId: body.errorId,
      method: 'POST',
      url: '/api/send-message',
      err: error,
    });
    expect(text).toContain(body.errorId);
  });

  it("logs a failed query's SQL and cause without its parameters (message text, phone numbers)", () => {
    const cause = new Error('invalid byte sequence for encoding "UTF8": 0x00');
    const error = new DrizzleQueryError(
      'insert into "messages" ("customer", "text") values ($1, $2)',
      ['16505551234', 'my card number is 4111'],
      cause,
    );

    const { status, body } = toErrorResponse(error, logger.asLogger(), REQUEST);

    expect(status).toBe(500);
    const [logged] = logger.errors[0] as [{ err: Error; errorId: string }];
    expect(logged.errorId).toBe(body.errorId);
    const written = inspect(logged, { depth: 5 });
    expect(written).toContain('insert into "messages"');
    expect(written).toContain('invalid byte sequence');
    expect(written).toMatch(/\n\s+at /);
    expect(written).not.toContain('4111');
    expect(written).not.toContain('16505551234');
    expect(logged.err.stack).not.toContain('4111');
  });

  it('gives every unknown error its own id', () => {
    const first = toErrorResponse(new Error('a'), logger.asLogger(), REQUEST);
    const second = toErrorResponse(new Error('a'), logger.asLogger(), REQUEST);

    expect(first.body.errorId).not.toBe(second.body.errorId);
    expect(
      logger.errors.map(([logged]) => (logged as { errorId: string }).errorId),
    ).toEqual([first.body.errorId, second.body.errorId]);
  });

  it('hides the details of a 5xx HttpException like any unknown error', () => {
    const { status, body } = toErrorResponse(
      new InternalServerErrorException('pool exhausted at db-1'),
      logger.asLogger(),
      REQUEST,
    );

    expect(status).toBe(500);
    expect(body.message).not.toContain('pool exhausted');
    expect(body.message).toContain(body.errorId);
    expect(logger.errors[0][0]).toMatchObject({ errorId: body.errorId });
  });

  it('answers a thrown non-Error value with a 500 and logs it as an Error', () => {
    const { status, body } = toErrorResponse(
      'something odd',
      logger.asLogger(),
      REQUEST,
    );

    expect(status).toBe(500);
    expect(body.message).not.toContain('something odd');
    const logged = logger.errors[0][0] as { err: unknown; errorId: string };
    expect(logged.errorId).toBe(body.errorId);
    expect(logged.err).toBeInstanceOf(Error);
    expect((logged.err as Error).message).toBe('something odd');
  });

  it("answers Fastify's body-too-large error with 413 and a plain message", () => {
    const fastifyError = Object.assign(new Error('Request body is too large'), {
      statusCode: 413,
      code: 'FST_ERR_CTP_BODY_TOO_LARGE',
    });

    const { status, body } = toErrorResponse(
      fastifyError,
      logger.asLogger(),
      REQUEST,
    );

    expect(status).toBe(413);
    expect(body).toEqual({
      success: false,
      message: 'Request body is too large',
      data: null,
    });
    expect(logger.errors).toEqual([]);
  });

  it("answers Fastify's invalid-JSON error with 400 and says so", () => {
    const { status, body } = toErrorResponse(
      {
        statusCode: 400,
        code: 'FST_ERR_CTP_INVALID_JSON_BODY',
        message:
          "Body is not valid JSON but content-type is set to 'application/json'",
      },
      logger.asLogger(),
      REQUEST,
    );

    expect(status).toBe(400);
    expect(body.message).toBe('Request body is not valid JSON');
  });

  // Nest's Fastify adapter hands a 4xx FastifyError to the filter mapped by
  // `mapException` (an HttpException carrying Fastify's own message, the
  // original as `cause`): that is the form the filter sees in the app.
  describe('with errors as the Fastify adapter hands them over', () => {
    const adapter = new FastifyAdapter();
    afterAll(async () => {
      await adapter.close();
    });

    it.each([
      [
        'FST_ERR_CTP_INVALID_JSON_BODY',
        new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY(),
        400,
        'Request body is not valid JSON',
      ],
      [
        'FST_ERR_CTP_EMPTY_JSON_BODY',
        new errorCodes.FST_ERR_CTP_EMPTY_JSON_BODY(),
        400,
        'Request body is empty',
      ],
      [
        'FST_ERR_CTP_BODY_TOO_LARGE',
        new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE(),
        413,
        'Request body is too large',
      ],
    ])(
      'answers %s with its status and plain message',
      (_, fastifyError, expectedStatus, plainMessage) => {
        const { status, body } = toErrorResponse(
          adapter.mapException(fastifyError),
          logger.asLogger(),
          REQUEST,
        );

        expect(status).toBe(expectedStatus);
        expect(body).toEqual({
          success: false,
          message: plainMessage,
          data: null,
        });
      },
    );
  });

  it('does not trust a statusCode on an error that is not from Fastify', () => {
    const { status, body } = toErrorResponse(
      Object.assign(new Error('upstream said 404: secret-path'), {
        statusCode: 404,
      }),
      logger.asLogger(),
      REQUEST,
    );

    expect(status).toBe(500);
    expect(body.message).not.toContain('secret-path');
  });

  it('never puts a stack trace in any response body', async () => {
    const errors: unknown[] = [
      await validationError({}),
      new NotFoundException(),
      new DomainError('busy', 'storage-unavailable'),
      new Error('boom'),
      new TypeError("Cannot read properties of undefined (reading 'x')"),
    ];
    for (const error of errors) {
      const { body } = toErrorResponse(error, logger.asLogger(), REQUEST);
      expect(JSON.stringify(body)).not.toMatch(STACK_FRAME);
      expect(JSON.stringify(body)).not.toMatch(/\\n\s*at /);
    }
  });
});
