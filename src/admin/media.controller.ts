import { Controller, Get, Param, StreamableFile } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiErrorResponse } from '../common/api-envelope.decorator';
import { ParseMediaIdPipe } from '../common/media-id.pipe';
import { OperatorMediaService } from '../inbox/operator-media.service';
import { AdminApi } from './admin-api.decorator';
import { mediaDisposition, safeContentType } from './media-headers';

const BINARY = { schema: { type: 'string', format: 'binary' } };

@ApiTags('media')
@AdminApi()
@Controller('api')
export class MediaController {
  constructor(private readonly media: OperatorMediaService) {}

  @Get('media/:mediaId')
  @ApiParam({
    name: 'mediaId',
    description:
      'A WhatsApp media id: from a customer message (kept by Meta for 7 days) or from an upload (30 days)',
    schema: {
      type: 'string',
      pattern: '^\\d{1,30}$',
      example: '1013859600285441',
    },
  })
  @ApiOperation({
    summary: 'Download a media file',
    description:
      "The file's bytes as Meta holds them, with Meta's content type, as an attachment (`media-<id>.<ext>`). Files up to Meta's 100 MB media limit are served; larger ones are a 502. Not stored here: each call asks Meta. At most 4 downloads run at once per instance (each is held in memory); another is a 429 meanwhile.",
  })
  @ApiResponse({
    status: 200,
    description: 'The file',
    headers: {
      'Content-Disposition': {
        description: 'Always an attachment named after the media id',
        schema: {
          type: 'string',
          example: 'attachment; filename="media-1013859600285441.jpg"',
        },
      },
    },
    content: {
      'image/jpeg': BINARY,
      'audio/ogg': BINARY,
      'application/pdf': BINARY,
      'application/octet-stream': BINARY,
    },
  })
  @ApiErrorResponse(400, 'mediaId must be a WhatsApp media id: 1 to 30 digits')
  @ApiErrorResponse(404, 'WhatsApp has no media 1013859600285441 …')
  @ApiErrorResponse(502, 'WhatsApp did not give media 1013859600285441: …')
  @ApiErrorResponse(
    503,
    'WhatsApp is not configured: set WHATSAPP_PHONE_NUMBER_ID and WHATSAPP_ACCESS_TOKEN',
  )
  async download(
    @Param('mediaId', ParseMediaIdPipe) mediaId: string,
  ): Promise<StreamableFile> {
    const file = await this.media.fetch(mediaId);
    return new StreamableFile(file.bytes, {
      type: safeContentType(file.mimeType),
      disposition: mediaDisposition(mediaId, file.mimeType),
      length: file.bytes.length,
    });
  }
}
