import { validatePhoneNumberLength } from 'libphonenumber-js';
import { normalizePhoneNumber } from './phone-number';

/**
 * A business-scoped user id as Meta gives it for a customer with a username:
 * the ISO 3166 alpha-2 country code, a dot, then letters and digits
 * (`US.13491208655302741918`).
 */
const BSUID = /^[A-Z]{2}\.[A-Za-z0-9]{1,128}$/;

export const CUSTOMER_ID_RULE =
  'an international phone number with its country code (e.g. +16505551234; spaces, dashes and parentheses ignored) or a business-scoped user id (e.g. US.13491208655302741918)';

/** Whether `input` is a BSUID, exactly as Meta writes it. */
export const isBsuid = (input: string): boolean => BSUID.test(input);

/**
 * Reads a customer an operator typed: a phone number becomes its `wa_id`
 * digits, a BSUID is kept as it is (it is the stored key of a customer
 * without a phone number). Returns null for anything else.
 *
 * A number is read as international (E.164), as `wa_id`s are: its country
 * calling code must exist and its length must be possible for that country
 * (libphonenumber's metadata). So `0000000`, a leading `00` or an unassigned
 * code are refused, while a number in a range newer than the metadata still
 * passes. Numbers Meta sends are not checked this way: `normalizePhoneNumber`
 * keeps taking them as given.
 */
export function parseCustomerId(input: unknown): string | null {
  if (typeof input !== 'string') return null;
  const trimmed = input.trim();
  if (isBsuid(trimmed)) return trimmed;
  const digits = normalizePhoneNumber(trimmed);
  if (digits === null) return null;
  return validatePhoneNumberLength(`+${digits}`) === undefined ? digits : null;
}
