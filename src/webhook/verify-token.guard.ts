import {
  CanActivate,
  ExecutionContext,
  ForbiddenException,
  Injectable,
} from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { secretsMatch } from '../common/secrets';
import { WhatsappConfig } from '../config/app-config';

/**
 * Meta's subscription handshake: `hub.mode=subscribe` and a
 * `hub.verify_token` equal to WHATSAPP_WEBHOOK_VERIFY_TOKEN; 403 otherwise
 * (always, while no verify token is configured).
 */
@Injectable()
export class VerifyTokenGuard implements CanActivate {
  constructor(private readonly settings: WhatsappConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const query = context.switchToHttp().getRequest<FastifyRequest>()
      .query as Record<string, unknown>;
    const expected = this.settings.verifyToken;
    const token = query['hub.verify_token'];
    if (
      !expected ||
      query['hub.mode'] !== 'subscribe' ||
      typeof token !== 'string' ||
      !secretsMatch(token, expected)
    ) {
      throw new ForbiddenException('Webhook verification failed');
    }
    return true;
  }
}
