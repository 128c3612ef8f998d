import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsString, Matches } from 'class-validator';
import { normalizePhoneNumber } from './phone-number';
import { PHONE_NUMBER_RULE } from './phone-number.pipe';

/**
 * A body field holding a phone number: validated, then normalised to the
 * `wa_id` digits that are stored and returned.
 */
export function IsPhoneNumber() {
  return applyDecorators(
    Transform(({ value }: { value: unknown }) =>
      typeof value === 'string'
        ? (normalizePhoneNumber(value) ?? `invalid:${value}`)
        : value,
    ),
    IsString(),
    Matches(/^\d{7,15}$/, {
      message: `$property must be ${PHONE_NUMBER_RULE}`,
    }),
  );
}
