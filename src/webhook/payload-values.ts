/**
 * Readers of untrusted webhook JSON: each checks a value and returns it
 * typed, or null (or nothing); none throws.
 */

export type UnknownRecord = Record<string, unknown>;

export function asRecord(value: unknown): UnknownRecord | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as UnknownRecord)
    : null;
}

/** The object elements of `value` when it is an array; otherwise none. */
export function records(value: unknown): UnknownRecord[] {
  if (!Array.isArray(value)) return [];
  const found: UnknownRecord[] = [];
  for (let i = 0; i < value.length; i += 1) {
    const item = asRecord(value[i]);
    if (item) found.push(item);
  }
  return found;
}

/** A trimmed, non-empty string, or null. */
export function asText(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
}

/** An identifier such as a wa_id: a non-empty string, or a whole number sent as a JSON number. */
export function asId(value: unknown): string | null {
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && value >= 0 ? String(value) : null;
  }
  return asText(value);
}

/** A finite number, sent either as a JSON number or as a numeric string. */
export function asNumber(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  const text = asText(value);
  if (
    text === null ||
    !/^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(text)
  ) {
    return null;
  }
  const parsed = Number(text);
  return Number.isFinite(parsed) ? parsed : null;
}

export function asInteger(value: unknown): number | null {
  const parsed = asNumber(value);
  return parsed !== null && Number.isSafeInteger(parsed) ? parsed : null;
}

/** Meta's error codes are 32-bit integers; anything else is not one. */
export function asErrorCode(value: unknown): number | null {
  const parsed = asInteger(value);
  return parsed !== null && Math.abs(parsed) <= 2_147_483_647 ? parsed : null;
}

export function joinPresent(
  parts: (string | null)[],
  separator: string,
): string {
  return parts.filter((part): part is string => part !== null).join(separator);
}
