import { validatePhoneNumberLength } from 'libphonenumber-js';
import { isBsuid, normalizePhoneNumber } from './phone-number';

export const CUSTOMER_ID_RULE =
  'an international phone number with its country code (e.g. +16505551234; spaces, dashes and parentheses ignored) or a business-scoped user id (e.g. US.13491208655302741918)';

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
