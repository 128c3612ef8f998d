import {
  BadRequestException,
  Body,
  Controller,
  Get,
  Header,
  HttpCode,
  Post,
  Query,
  Req,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBody,
  ApiHeader,
  ApiOperation,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { ApiEnvelope, ok } from '../common/api-envelope';
import {
  ApiEnvelopeResponse,
  ApiErrorResponse,
} from '../common/api-envelope.decorator';
import { IngestService } from '../inbound/ingest.service';
import { ServedNumberFilter } from '../inbound/served-number.filter';
import { SignatureGuard } from './signature.guard';
import { toIngestBatch } from './to-ingest-batch';
import { VerifyTokenGuard } from './verify-token.guard';
import { parseWebhookPayload } from './webhook-payload.parser';

@ApiTags('webhook')
@Controller('webhook')
export class WebhookController {
  constructor(
    private readonly ingest: IngestService,
    private readonly servedNumbers: ServedNumberFilter,
  ) {}

  @Get()
  @UseGuards(VerifyTokenGuard)
  @Header('Content-Type', 'text/plain; charset=utf-8')
  @ApiOperation({
    summary: "Meta's verification handshake",
    description:
      'Answers the raw `hub.challenge` when `hub.mode=subscribe` and `hub.verify_token` equals WHATSAPP_WEBHOOK_VERIFY_TOKEN; 403 otherwise.',
  })
  @ApiQuery({ name: 'hub.mode', example: 'subscribe' })
  @ApiQuery({ name: 'hub.verify_token' })
  @ApiQuery({ name: 'hub.challenge', example: '1158201444' })
  @ApiErrorResponse(403, 'Webhook verification failed')
  verify(@Query('hub.challenge') challenge: unknown): string {
    return typeof challenge === 'string' ? challenge : '';
  }

  @Post()
  @HttpCode(200)
  @UseGuards(SignatureGuard)
  @ApiOperation({
    summary: 'Webhook events from the WhatsApp Cloud API',
    description:
      'Verifies X-Hub-Signature-256 over the raw body, stores every message, status and error in one transaction, then answers 200. Re-deliveries store nothing new. Messages to a business number other than WHATSAPP_PHONE_NUMBER_ID are stored and not answered. 503 when storage is unavailable, so that Meta delivers again.',
  })
  @ApiHeader({
    name: 'X-Hub-Signature-256',
    description: 'sha256=<hex HMAC of the raw body with the app secret>',
  })
  @ApiBody({
    schema: {
      type: 'object',
      example: { object: 'whatsapp_business_account', entry: [] },
    },
  })
  @ApiEnvelopeResponse(null, { description: 'Stored' })
  @ApiErrorResponse(400, 'Request body is not valid JSON')
  @ApiErrorResponse(401, 'Missing or invalid X-Hub-Signature-256')
  @ApiErrorResponse(413, 'Request body is too large')
  @ApiErrorResponse(503, 'Events could not be stored; please retry')
  async receive(
    @Body() body: unknown,
    @Req() request: FastifyRequest,
  ): Promise<ApiEnvelope<null>> {
    if (!/^application\/json\b/i.test(request.headers['content-type'] ?? '')) {
      throw new BadRequestException(
        'Webhook bodies must be JSON (Content-Type: application/json)',
      );
    }
    await this.ingest.ingest(
      toIngestBatch(parseWebhookPayload(body), this.servedNumbers.answers),
      String(request.id),
    );
    return ok(null, 'EVENT_RECEIVED');
  }
}
