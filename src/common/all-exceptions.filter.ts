import { randomUUID } from 'node:crypto';
import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import { DrizzleQueryError } from 'drizzle-orm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from './domain.error';
import { httpStatusOf } from './http-status';

export interface ErrorBody {
  success: false;
  message: string;
  data: null;
  errors?: string[];
  errorId?: string;
}

interface FastifyLikeError {
  statusCode?: number;
  code?: string;
  message?: string;
}

const isFastifyClientError = (error: unknown): error is FastifyLikeError =>
  typeof error === 'object' &&
  error !== null &&
  typeof (error as FastifyLikeError).statusCode === 'number' &&
  (error as FastifyLikeError).statusCode! >= 400 &&
  (error as FastifyLikeError).statusCode! < 500 &&
  typeof (error as FastifyLikeError).code === 'string' &&
  (error as FastifyLikeError).code!.startsWith('FST_');

const FASTIFY_MESSAGES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'Request body is too large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'Unsupported content type',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'Request body is empty',
  FST_ERR_CTP_INVALID_JSON_BODY: 'Request body is not valid JSON',
};

/**
 * Turns every error into the `{ success: false, message }` envelope. Client
 * errors keep their status and message; anything unexpected becomes a 500
 * with an error id that is also in the log, and no stack trace leaves the
 * server.
 */
export function toErrorResponse(
  error: unknown,
  logger: Logger,
  context: { method?: string; url?: string },
): { status: number; body: ErrorBody } {
  // Nest's Fastify adapter wraps Fastify's own 4xx errors; answer with ours.
  const cause = error instanceof HttpException ? error.cause : undefined;
  if (isFastifyClientError(cause)) error = cause;
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const response = error.getResponse();
    let message = error.message;
    let errors: string[] | undefined;
    if (typeof response === 'object' && response !== null) {
      const raw = (response as { message?: unknown }).message;
      if (Array.isArray(raw)) {
        errors = raw.map(String);
        message = `Validation failed: ${errors.join('; ')}`;
      } else if (typeof raw === 'string') {
        message = raw;
      }
    }
    if (status >= 500) {
      return serverError(error, logger, context, status);
    }
    return {
      status,
      body: { success: false, message, data: null, ...(errors && { errors }) },
    };
  }
  if (error instanceof DomainError && httpStatusOf(error.code) < 500) {
    return {
      status: httpStatusOf(error.code),
      body: { success: false, message: error.message, data: null },
    };
  }
  if (isFastifyClientError(error)) {
    return {
      status: error.statusCode!,
      body: {
        success: false,
        message:
          FASTIFY_MESSAGES[error.code!] ?? error.message ?? 'Bad request',
        data: null,
      },
    };
  }
  return serverError(
    error,
    logger,
    context,
    error instanceof DomainError
      ? httpStatusOf(error.code)
      : HttpStatus.INTERNAL_SERVER_ERROR,
  );
}

/**
 * The error as it may be logged. A failed Drizzle query carries its bound
 * parameters (message text, phone numbers) in its message, stack and
 * `params`: the log keeps the SQL, the cause (the driver's error) and the
 * stack frames, never the values.
 */
export function loggableError(error: unknown): Error {
  if (error instanceof DrizzleQueryError) {
    const safe = new Error(`Failed query: ${error.query}`, {
      cause: error.cause,
    });
    safe.name = 'DrizzleQueryError';
    const frames = (error.stack ?? '')
      .split('\n')
      .filter((line) => /^\s+at /.test(line));
    safe.stack = [`${safe.name}: ${safe.message}`, ...frames].join('\n');
    return safe;
  }
  return error instanceof Error ? error : new Error(String(error));
}

function serverError(
  error: unknown,
  logger: Logger,
  context: { method?: string; url?: string },
  status: number,
): { status: number; body: ErrorBody } {
  const errorId = randomUUID();
  logger.error(
    {
      errorId,
      method: context.method,
      url: context.url,
      err: loggableError(error),
    },
    `unhandled error ${errorId}`,
  );
  const message =
    error instanceof DomainError
      ? error.message
      : status === 503
        ? 'Service temporarily unavailable'
        : 'Internal server error';
  return {
    status,
    body: {
      success: false,
      message: `${message} (error id ${errorId})`,
      data: null,
      errorId,
    },
  };
}

@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger(AllExceptionsFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const { status, body } = toErrorResponse(exception, this.logger, {
      method: request?.method,
      url: request?.url,
    });
    void reply.status(status).send(body);
  }
}
