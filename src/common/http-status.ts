import type { DomainErrorCode } from './domain.error';

/** The one place a domain error's code becomes an HTTP status. */
const STATUS_OF: Record<DomainErrorCode, number> = {
  'conversation-not-found': 404,
  'session-not-found': 404,
  'invalid-cursor': 400,
  'invalid-period': 400,
  'empty-message': 400,
  'not-in-handoff': 409,
  // Meta does not know the media id (or no longer: media ids expire).
  'media-not-found': 404,
  // Too many media files held in memory at once: try again shortly.
  'media-busy': 429,
  // Meta or the LLM refused or failed: a bad gateway, not our fault.
  'whatsapp-send-failed': 502,
  'media-unavailable': 502,
  'llm-failed': 502,
  'llm-not-configured': 503,
  'whatsapp-not-configured': 503,
  // Meta delivers a webhook again after a 5xx.
  'storage-unavailable': 503,
  'knowledge-not-found': 404,
  // A file that is not what it says, not a supported format, or without text.
  'invalid-document': 400,
  'document-too-large': 413,
};

export function httpStatusOf(code: DomainErrorCode): number {
  return STATUS_OF[code];
}
