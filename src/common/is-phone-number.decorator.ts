import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { ValidateBy } from 'class-validator';
import { CUSTOMER_ID_RULE, parseCustomerId } from './customer-id';

/**
 * A body field naming a customer: validated, then turned into the stored key
 * (`wa_id` digits, or the BSUID of a customer without a phone number).
 */
export function IsPhoneNumber() {
  return applyDecorators(
    // An unreadable value becomes null, which the validator refuses.
    Transform(({ value }: { value: unknown }) => parseCustomerId(value)),
    ValidateBy({
      name: 'isCustomerId',
      validator: {
        validate: (value: unknown) => typeof value === 'string',
        defaultMessage: () => `$property must be ${CUSTOMER_ID_RULE}`,
      },
    }),
  );
}
