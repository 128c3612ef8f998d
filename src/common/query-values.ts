import { Transform } from 'class-transformer';
import { isISO8601 } from 'class-validator';

/** Decimal digits only: no sign, exponent, hex, fraction or spaces. */
const DECIMAL_INTEGER = /^(0|[1-9]\d{0,8})$/;

/**
 * A query value read as an integer only when written as plain decimal digits
 * (`16`); anything else (`0x10`, `1e2`, `16.0`) stays a string for `IsInt` to
 * refuse, where `Number()` would have read it.
 */
export const ToInteger = () =>
  Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && DECIMAL_INTEGER.test(value)
      ? Number(value)
      : value,
  );

/**
 * A query value read as a Date only when it is a real ISO 8601 date or
 * date-time (`2026-11-01`, `2026-11-01T09:30:00+01:00`) with a four-digit
 * year; anything else (`0`, `2026-02-30`, an expanded year PostgreSQL cannot
 * store) stays a string for `IsDate` to refuse, where `new Date()` would have
 * guessed or rolled it over.
 */
export const ToIsoDate = () =>
  Transform(({ value }: { value: unknown }) => {
    if (
      typeof value !== 'string' ||
      !/^\d{4}/.test(value) ||
      !isISO8601(value, { strict: true, strictSeparator: true })
    ) {
      return value;
    }
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? value : date;
  });
