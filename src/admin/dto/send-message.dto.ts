import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  MinLength,
  ValidateIf,
  ValidateNested,
} from 'class-validator';

import { IsPhoneNumber } from '../../common/is-phone-number.decorator';
import { IsSendableMedia, SendMediaDto } from './send-media.dto';

const HAS_TEXT = /\S/;

/** Longest operator message accepted; it is split into WhatsApp-sized parts. */
export const MAX_OPERATOR_MESSAGE = 20_000;

export class SendMessageDto {
  @ApiProperty({
    example: '+1 (650) 555-1234',
    description:
      'The customer: an international phone number with its country code (optional +, spaces/dashes/parentheses ignored), or the business-scoped user id (BSUID, e.g. US.13491208655302741918) of a customer without one',
  })
  @IsPhoneNumber()
  phoneNumber: string;

  @ApiProperty({
    example: 'Hi Sheena, your order has shipped.',
    maxLength: MAX_OPERATOR_MESSAGE,
    required: false,
    description:
      'The text; required unless media is given. Text longer than MAX_MESSAGE_LENGTH is split like bot replies. With media it is the caption (image, video and document; at most 1024 characters) and may be left out.',
  })
  @ValidateIf(
    (o: SendMessageDto) =>
      o.media === undefined || o.media === null || o.message !== undefined,
  )
  @IsString()
  @MinLength(1)
  @Matches(HAS_TEXT, { message: 'message must contain text' })
  @MaxLength(MAX_OPERATOR_MESSAGE)
  message?: string;

  @ApiPropertyOptional({
    type: SendMediaDto,
    description:
      'Send a media message instead of text: by link, by media id, or with the file (base64) to upload first',
  })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => SendMediaDto)
  @IsSendableMedia()
  media?: SendMediaDto;
}

export class ReplyDto {
  @ApiProperty({
    example: 'Hi, this is Ana from support. Let me check that for you.',
  })
  @IsString()
  @MinLength(1)
  @Matches(HAS_TEXT, { message: 'message must contain text' })
  @MaxLength(MAX_OPERATOR_MESSAGE)
  message: string;
}
