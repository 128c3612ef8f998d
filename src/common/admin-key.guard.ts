import {
  CanActivate,
  ExecutionContext,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AdminConfig } from '../config/app-config';
import { secretsMatch } from './secrets';

/**
 * `Authorization: Bearer <ADMIN_API_KEY>` on every admin route. While
 * ADMIN_API_KEY is unset the admin API refuses every call.
 */
@Injectable()
export class AdminKeyGuard implements CanActivate {
  constructor(private readonly settings: AdminConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const expected = this.settings.apiKey;
    if (!expected) {
      throw new UnauthorizedException(
        'The admin API is disabled: set ADMIN_API_KEY to enable it',
      );
    }
    const header = context.switchToHttp().getRequest<FastifyRequest>()
      .headers.authorization;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!match || !secretsMatch(match[1], expected)) {
      throw new UnauthorizedException('Missing or invalid admin API key');
    }
    return true;
  }
}
