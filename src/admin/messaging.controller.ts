import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import {
  ApiBody,
  ApiExtraModels,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { ApiEnvelope, ok } from '../common/api-envelope';
import {
  ApiEnvelopeResponse,
  ApiErrorResponse,
} from '../common/api-envelope.decorator';
import type { OperatorMedia } from '../outbound/operator-media';
import { OperatorService } from '../outbound/operator.service';
import { baseMimeType } from '../whatsapp/media-limits';
import { ResponsePreviewService } from '../turns/response-preview.service';
import { AdminApi } from './admin-api.decorator';
import {
  ContextMessageDto,
  GenerateResponseDto,
} from './dto/generate-response.dto';
import {
  GraphSendResponseDto,
  GenerateResponseResultDto,
} from './dto/responses.dto';
import { SendMediaDto } from './dto/send-media.dto';
import { SendMessageDto } from './dto/send-message.dto';

@ApiTags('messaging')
@ApiExtraModels(ContextMessageDto)
@AdminApi()
@Controller('api')
export class MessagingController {
  constructor(
    private readonly operator: OperatorService,
    private readonly preview: ResponsePreviewService,
  ) {}

  @Post('send-message')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Send a WhatsApp text or media message to a customer',
    description:
      "Sends through the Cloud API and records the message in the customer's conversation (opening one if needed); the LLM sees it as context later. Text longer than MAX_MESSAGE_LENGTH is split like bot replies. With `media` the message is an image, audio, video, document or sticker, given by `link`, by media `id`, or as base64 `data` that is uploaded to Meta first (within the 3 MiB request limit and Meta's per-type caps: image 5 MB, audio and video 16 MB, sticker 500 KB); `message` is then its caption, and the later context reads it as `[image] caption`. `data` is Meta's response, with one id per part. Outside the customer's 24-hour window Meta refuses free-form messages (131047): the answer is then 502 with Meta's error.",
  })
  @ApiBody({
    type: SendMessageDto,
    examples: {
      text: {
        summary: 'Text',
        value: {
          phoneNumber: '+1 (650) 555-1234',
          message: 'Hi Sheena, your order has shipped.',
        },
      },
      imageByLink: {
        summary: 'An image by link, with a caption',
        value: {
          phoneNumber: '16505551234',
          message: 'Your receipt',
          media: {
            type: 'image',
            link: 'https://example.com/receipts/4711.jpg',
          },
        },
      },
      documentById: {
        summary: 'A document already uploaded, by media id',
        value: {
          phoneNumber: '16505551234',
          media: {
            type: 'document',
            id: '1013859600285441',
            filename: 'receipt-4711.pdf',
            caption: 'Your receipt',
          },
        },
      },
      upload: {
        summary: 'A file uploaded to Meta first (base64)',
        value: {
          phoneNumber: '16505551234',
          media: {
            type: 'image',
            data: '/9j/4AAQSkZJRgABAQAAAQABAAD/2Q==',
            mimeType: 'image/jpeg',
          },
        },
      },
    },
  })
  @ApiEnvelopeResponse(GraphSendResponseDto, {
    description: 'Accepted by the Cloud API',
  })
  @ApiErrorResponse(
    400,
    'Validation failed: phoneNumber must be a phone number …; media needs exactly one of link, id and data',
  )
  @ApiErrorResponse(502, 'WhatsApp did not accept the message: …')
  @ApiErrorResponse(
    503,
    'WhatsApp is not configured: set WHATSAPP_PHONE_NUMBER_ID and WHATSAPP_ACCESS_TOKEN',
  )
  async sendMessage(
    @Body() body: SendMessageDto,
  ): Promise<ApiEnvelope<GraphSendResponseDto>> {
    const result = body.media
      ? await this.operator.sendMediaToCustomer(
          body.phoneNumber,
          toOperatorMedia(body.media, body.message),
        )
      : await this.operator.sendToCustomer(
          body.phoneNumber,
          body.message ?? '',
        );
    return ok(
      mergeGraphResponses(result.responses, body.phoneNumber),
      'Message sent',
    );
  }

  @Post('generate-response')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Preview what the bot would answer',
    description:
      'Runs the same prompt building and LLM as the pipeline without sending or storing anything. With `conversationId`, that conversation is the context. When the LLM fails the answer is 502 (503 when no key is configured), never the fallback text.',
  })
  @ApiEnvelopeResponse(GenerateResponseResultDto)
  @ApiErrorResponse(
    400,
    'Validation failed: message must be longer than or equal to 1 characters',
  )
  @ApiErrorResponse(404, 'Conversation not found')
  @ApiErrorResponse(502, 'The LLM failed (timeout): …')
  @ApiErrorResponse(503, 'The LLM is not configured: set OPENAI_API_KEY')
  async generateResponse(
    @Body() body: GenerateResponseDto,
  ): Promise<ApiEnvelope<GenerateResponseResultDto>> {
    const result = await this.preview.generate({
      message: body.message,
      conversationId: body.conversationId,
      context: Array.isArray(body.context)
        ? body.context.map((c) => ({
            from:
              c.role === 'user' ? ('customer' as const) : ('business' as const),
            text: c.content,
          }))
        : body.context,
    });
    // The seed's shape: `tokens` is the total; the detail is beside it.
    const { tokens, ...metadata } = result.metadata;
    return ok(
      {
        ...result,
        metadata: { ...metadata, tokens: tokens.total, usage: tokens },
      },
      'Response generated',
    );
  }
}

/** The validated media of a request as the operator service takes it. */
function toOperatorMedia(
  media: SendMediaDto,
  message: string | undefined,
): OperatorMedia {
  const caption = media.caption ?? message;
  return {
    mediaType: media.type,
    source:
      media.data !== undefined
        ? {
            upload: {
              bytes: Buffer.from(media.data, 'base64'),
              mimeType: baseMimeType(media.mimeType ?? ''),
              ...(media.filename !== undefined && {
                filename: media.filename,
              }),
            },
          }
        : media.id !== undefined
          ? { id: media.id }
          : { link: media.link ?? '' },
    ...(caption !== undefined && { caption }),
    ...(media.filename !== undefined && { filename: media.filename }),
  };
}

/** Meta's response to each part, as one response listing every message id. */
function mergeGraphResponses(
  responses: unknown[],
  phoneNumber: string,
): GraphSendResponseDto {
  const first = (responses[0] ?? {}) as Partial<GraphSendResponseDto>;
  return {
    messaging_product: first.messaging_product ?? 'whatsapp',
    contacts: first.contacts ?? [
      { input: `+${phoneNumber}`, wa_id: phoneNumber },
    ],
    messages: responses.flatMap(
      (r) => (r as Partial<GraphSendResponseDto>).messages ?? [],
    ),
  };
}
