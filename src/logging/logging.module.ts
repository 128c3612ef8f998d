import { Module, RequestMethod } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { AppConfig } from '../config/app-config';
import { EventsModule } from '../events/events.module';
import { DomainEventLog } from './domain-event.log';

/** Header paths whose values never reach a log line. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-hub-signature-256"]',
  'req.headers.cookie',
  'req.query["hub.verify_token"]',
  'res.headers["set-cookie"]',
];

/**
 * Structured pino logs: JSON in production, pretty in development, the
 * request id (see app.factory.ts) on every line of a request.
 */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        // nestjs-pino's default route pattern is not matched by Fastify's
        // middleware layer for every path; this one is.
        forRoutes: [{ path: '{*splat}', method: RequestMethod.ALL }],
        pinoHttp: {
          level: config.server.logLevel,
          redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
          // The query string may carry the webhook verify token.
          serializers: {
            req: (req: { id: unknown; method: string; url: string }) => ({
              id: req.id,
              method: req.method,
              url: req.url.split('?')[0],
            }),
          },
          autoLogging: {
            ignore: (req) =>
              req.url === '/metrics' || (req.url ?? '').startsWith('/health'),
          },
          transport:
            config.server.nodeEnv === 'development'
              ? {
                  target: 'pino-pretty',
                  options: {
                    singleLine: true,
                    translateTime: 'SYS:HH:MM:ss.l',
                  },
                }
              : undefined,
        },
      }),
    }),
    EventsModule,
  ],
  providers: [DomainEventLog],
})
export class LoggingModule {}
