import { BadRequestException, Injectable, PipeTransform } from '@nestjs/common';
import { CUSTOMER_ID_RULE, parseCustomerId } from './customer-id';

/**
 * Turns a `:phoneNumber` path parameter into the stored customer key (`wa_id`
 * digits, or the BSUID of a customer without a phone number), or answers 400.
 */
@Injectable()
export class ParsePhoneNumberPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    // Fastify has already decoded the path: decoding again would choke on '%'.
    const customer = parseCustomerId(value ?? '');
    if (!customer)
      throw new BadRequestException(`phoneNumber must be ${CUSTOMER_ID_RULE}`);
    return customer;
  }
}
