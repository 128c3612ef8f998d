import { extensionOf } from '../whatsapp/media-limits';

const TOKEN = '[A-Za-z0-9!#$&^_.+-]+';
const QUOTED = '"[^"\\\\\\r\\n]*"';
/** `type/subtype` with optional `; name=value` parameters (RFC 9110), nothing else. */
const MEDIA_TYPE = new RegExp(
  `^${TOKEN}/${TOKEN}(?:\\s*;\\s*${TOKEN}=(?:${TOKEN}|${QUOTED}))*$`,
);

/**
 * The Content-Type to answer with: Meta's `mime_type` when it is a
 * well-formed media type, else `application/octet-stream` (never a header
 * value we did not check).
 */
export function safeContentType(mimeType: string): string {
  const value = mimeType.trim();
  return value.length <= 200 && MEDIA_TYPE.test(value)
    ? value
    : 'application/octet-stream';
}

/**
 * A download, never shown inline, named from the media id (digits) and an
 * extension from a fixed list: nothing from Meta's answer reaches the header
 * as text.
 */
export function mediaDisposition(mediaId: string, mimeType: string): string {
  const id = /^\d+$/.test(mediaId) ? mediaId : 'file';
  return `attachment; filename="media-${id}.${extensionOf(mimeType)}"`;
}
