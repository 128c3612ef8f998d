import { ApiPropertyOptional, ApiProperty } from '@nestjs/swagger';
import {
  IsBase64,
  IsIn,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  MaxLength,
  MinLength,
  ValidationArguments,
  registerDecorator,
} from 'class-validator';
import { MEDIA_ID } from '../../common/media-id.pipe';
import {
  MEDIA_CAPTION_MAX,
  MEDIA_SEND_RULES,
  MEDIA_TYPES,
  baseMimeType,
} from '../../whatsapp/media-limits';
import type { MediaType } from '../../whatsapp/outbound-message';

/** Longest link Meta is given to fetch. */
const LINK_MAX = 2048;
/** A file name shown to the customer: no path, no control characters. */
const FILENAME = /^[^/\\\p{Cc}]+$/u;

/** A media message: a link Meta fetches, a media id, or the bytes to upload first. */
export class SendMediaDto {
  @ApiProperty({ enum: MEDIA_TYPES, example: 'image' })
  @IsIn(MEDIA_TYPES)
  type: MediaType;

  @ApiPropertyOptional({
    format: 'uri',
    maxLength: LINK_MAX,
    example: 'https://example.com/receipts/4711.jpg',
    description:
      'An http(s) URL Meta fetches (and caches for 10 minutes). Exactly one of link, id and data.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(LINK_MAX)
  @IsUrl(
    { protocols: ['http', 'https'], require_protocol: true },
    { message: 'link must be an http(s) URL' },
  )
  link?: string;

  @ApiPropertyOptional({
    pattern: '^\\d{1,30}$',
    example: '1013859600285441',
    description:
      'A media id: from an upload (valid 30 days) or from a customer message. Exactly one of link, id and data.',
  })
  @IsOptional()
  @Matches(MEDIA_ID, { message: 'id must be 1 to 30 digits' })
  id?: string;

  @ApiPropertyOptional({
    format: 'byte',
    example: '/9j/4AAQSkZJRgABAQAAAQABAAD/2Q==',
    description:
      "The file, base64-encoded: uploaded to Meta's POST /{phone-number-id}/media, then sent by its id. The whole request is limited to 3 MiB, so about 2.3 MB of file. Exactly one of link, id and data; needs mimeType.",
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @IsBase64({}, { message: 'data must be base64' })
  data?: string;

  @ApiPropertyOptional({
    example: 'image/jpeg',
    description:
      'The MIME type of data (only with data): image/jpeg or image/png for an image; audio/aac, audio/amr, audio/mpeg, audio/mp4 or audio/ogg for audio; video/mp4 or video/3gpp for video; image/webp for a sticker; text/plain, PDF, Word, Excel or PowerPoint for a document',
  })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  mimeType?: string;

  @ApiPropertyOptional({
    maxLength: MEDIA_CAPTION_MAX,
    example: 'Your receipt',
    description:
      'Image, video and document only; or give it as message. At most 1024 characters.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(MEDIA_CAPTION_MAX)
  @Matches(/\S/, { message: 'caption must contain text' })
  caption?: string;

  @ApiPropertyOptional({
    maxLength: 240,
    example: 'receipt-4711.pdf',
    description:
      'Document only: the file name the customer sees (also the name of an upload)',
  })
  @IsOptional()
  @IsString()
  @MaxLength(240)
  @Matches(FILENAME, {
    message:
      'filename must be a file name (no slash, backslash or control character)',
  })
  filename?: string;
}

/** Bytes a base64 string decodes to (without decoding it). */
function decodedLength(base64: string): number {
  const padding = base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0;
  return Math.floor((base64.length * 3) / 4) - padding;
}

/**
 * What the Cloud API would refuse in a media send, or what is ambiguous,
 * checked before anything is uploaded or sent. `caption` is the request's
 * `message`, which is the caption of a media message.
 */
export function mediaProblems(
  media: SendMediaDto,
  message?: unknown,
): string[] {
  const problems: string[] = [];
  const sources = [media.link, media.id, media.data].filter(
    (s) => s !== undefined,
  );
  if (sources.length !== 1) {
    problems.push('media needs exactly one of link, id and data');
  }
  if (media.data !== undefined && media.mimeType === undefined) {
    problems.push('media.mimeType is required with media.data');
  }
  if (media.data === undefined && media.mimeType !== undefined) {
    problems.push('media.mimeType is only taken with media.data');
  }
  const rule = MEDIA_SEND_RULES[media.type] as
    (typeof MEDIA_SEND_RULES)[MediaType] | undefined;
  if (!rule) return problems; // `type` reports its own problem.

  if (media.data !== undefined && typeof media.mimeType === 'string') {
    const mimeType = baseMimeType(media.mimeType);
    if (!(mimeType in rule.mimeTypes)) {
      problems.push(
        `media.mimeType of ${media.type} must be one of ${Object.keys(rule.mimeTypes).join(', ')}`,
      );
    }
  }
  if (typeof media.data === 'string') {
    const size = decodedLength(media.data);
    if (size > rule.maxBytes) {
      problems.push(
        `media.data is ${size} bytes, over Meta's ${rule.maxBytes}-byte limit for ${media.type}`,
      );
    }
  }
  const hasMessage = message !== undefined && message !== null;
  if (!rule.caption && (media.caption !== undefined || hasMessage)) {
    problems.push(
      `${media.type} takes no caption: leave out message and media.caption`,
    );
  }
  if (rule.caption && media.caption !== undefined && hasMessage) {
    problems.push('give the caption once: as message or as media.caption');
  }
  if (
    rule.caption &&
    typeof message === 'string' &&
    message.length > MEDIA_CAPTION_MAX
  ) {
    problems.push(
      `message is the caption of the ${media.type}: at most ${MEDIA_CAPTION_MAX} characters`,
    );
  }
  if (!rule.filename && media.filename !== undefined) {
    problems.push('media.filename is only taken for a document');
  }
  return problems;
}

/** Runs `mediaProblems` on the `media` property, with the request's message. */
export function IsSendableMedia() {
  const problemsOf = (args: ValidationArguments) =>
    args.value instanceof SendMediaDto
      ? mediaProblems(
          args.value,
          (args.object as { message?: unknown }).message,
        )
      : [];
  return (target: object, property: string) =>
    registerDecorator({
      name: 'isSendableMedia',
      target: target.constructor,
      propertyName: property,
      validator: {
        validate: (_value: unknown, args: ValidationArguments) =>
          problemsOf(args).length === 0,
        defaultMessage: (args?: ValidationArguments) =>
          args ? problemsOf(args).join('; ') : 'media is not sendable',
      },
    });
}
