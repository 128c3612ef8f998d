import { BadRequestException, Injectable, PipeTransform } from '@nestjs/common';
import { normalizePhoneNumber } from './phone-number';

export const PHONE_NUMBER_RULE =
  'a phone number: 7 to 15 digits with an optional leading +, spaces, dashes and parentheses ignored';

/** Turns a path parameter into `wa_id` digits, or answers 400. */
@Injectable()
export class ParsePhoneNumberPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    // Fastify has already decoded the path: decoding again would choke on '%'.
    const digits = normalizePhoneNumber(value ?? '');
    if (!digits)
      throw new BadRequestException(`phoneNumber must be ${PHONE_NUMBER_RULE}`);
    return digits;
  }
}
