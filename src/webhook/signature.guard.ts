import {
  CanActivate,
  ExecutionContext,
  Injectable,
  Logger,
  UnauthorizedException,
} from '@nestjs/common';
import type { RawBodyRequest } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { WhatsappConfig } from '../config/app-config';
import { isValidSignature } from './webhook-signature';

/**
 * Only Meta may post webhooks: `X-Hub-Signature-256` must match the raw
 * body. Without WHATSAPP_APP_SECRET (allowed outside production) every
 * webhook is accepted, and a warning says so at start.
 */
@Injectable()
export class SignatureGuard implements CanActivate {
  private readonly logger = new Logger(SignatureGuard.name);
  private readonly appSecret: string | null;

  constructor(config: WhatsappConfig) {
    this.appSecret = config.appSecret;
    if (!this.appSecret) {
      this.logger.warn(
        'WHATSAPP_APP_SECRET is not set: webhook signatures are NOT verified (never run like this in production)',
      );
    }
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.appSecret) return true;
    const request = context
      .switchToHttp()
      .getRequest<RawBodyRequest<FastifyRequest>>();
    const header = request.headers['x-hub-signature-256'];
    if (!isValidSignature(request.rawBody, header, this.appSecret)) {
      this.logger.warn(
        { signature: header ? 'invalid' : 'missing', ip: request.ip },
        'rejected a webhook with a bad signature',
      );
      throw new UnauthorizedException('Missing or invalid X-Hub-Signature-256');
    }
    return true;
  }
}
