import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches, MaxLength, MinLength } from 'class-validator';

import { IsPhoneNumber } from '../../common/is-phone-number.decorator';

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
    description:
      'Text longer than MAX_MESSAGE_LENGTH is split like bot replies',
  })
  @IsString()
  @MinLength(1)
  @Matches(HAS_TEXT, { message: 'message must contain text' })
  @MaxLength(MAX_OPERATOR_MESSAGE)
  message: string;
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
