/** Separators people type inside phone numbers; they carry no meaning. */
const SEPARATORS = /[\s\-.()]/g;
/** An optional leading `+` and 7–15 digits: the E.164 digit range. */
const PHONE_NUMBER = /^\+?(\d{7,15})$/;
/**
 * A business-scoped user id as Meta gives it for a customer with a username:
 * the ISO 3166 alpha-2 country code, a dot, then letters and digits
 * (`US.13491208655302741918`).
 */
const BSUID = /^[A-Z]{2}\.[A-Za-z0-9]{1,128}$/;
const MASK = '****';
const MASKED_PREFIX = '******';
const VISIBLE_DIGITS = 4;
const MIN_DIGITS = 7;

/**
 * Normalises a user-typed or Meta-supplied phone number to the `wa_id` form:
 * digits only, no `+`. Spaces, dashes, dots and parentheses are ignored; a
 * single leading `+` is allowed. Returns null for anything else (letters, a
 * `+` after the first digit, two pluses) or when fewer than 7 or more than 15
 * digits remain. A leading `00` is kept as given, not read as an
 * international prefix.
 */
export function normalizePhoneNumber(input: string): string | null {
  if (typeof input !== 'string') {
    return null;
  }
  const match = PHONE_NUMBER.exec(input.replace(SEPARATORS, ''));
  return match ? match[1] : null;
}

/**
 * The `to` value for the Cloud API: `+<digits>`. Meta prepends the business
 * number's country code to a number sent without `+`, so the `+` is always
 * added. Throws a RangeError when `waId` is not a valid phone number.
 */
export function toWhatsappRecipient(waId: string): string {
  const digits = normalizePhoneNumber(waId);
  if (digits === null) {
    throw new RangeError(
      `Not a valid WhatsApp phone number: ${maskPhoneNumber(waId)}`,
    );
  }
  return `+${digits}`;
}

/**
 * A phone number safe for logs: the last 4 digits behind a fixed-width mask
 * (`******1234`), so neither the number nor its length is revealed. Input with
 * fewer than 7 digits, or none, becomes `****`.
 */
export function maskPhoneNumber(waId: string | null | undefined): string {
  const digits = typeof waId === 'string' ? waId.replace(/\D/g, '') : '';
  if (digits.length < MIN_DIGITS) {
    return MASK;
  }
  return `${MASKED_PREFIX}${digits.slice(-VISIBLE_DIGITS)}`;
}

/** Whether `input` is a BSUID, exactly as Meta writes it. */
export const isBsuid = (input: string): boolean => BSUID.test(input);
