/**
 * An error the domain raises on purpose. `status` is the HTTP status the
 * exception filter answers with when it reaches a controller.
 */
export class DomainError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}
