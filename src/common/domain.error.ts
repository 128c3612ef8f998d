/** What went wrong, as the domain names it; `http-status.ts` maps each to an answer. */
export type DomainErrorCode =
  | 'conversation-not-found'
  | 'session-not-found'
  | 'invalid-cursor'
  | 'invalid-period'
  | 'empty-message'
  | 'not-in-handoff'
  | 'whatsapp-send-failed'
  | 'media-not-found'
  | 'media-busy'
  | 'media-unavailable'
  | 'llm-failed'
  | 'llm-not-configured'
  | 'whatsapp-not-configured'
  | 'storage-unavailable'
  | 'knowledge-not-found'
  | 'invalid-document'
  | 'document-too-large';

/** An error the domain raises on purpose, with a code that says which. */
export class DomainError extends Error {
  constructor(
    message: string,
    readonly code: DomainErrorCode,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}
