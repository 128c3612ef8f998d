/**
 * Port: keeps outbound sends within Meta's limits: the business number's
 * throughput (WHATSAPP_MESSAGES_PER_SECOND) and, after Meta answered 131056,
 * a pause before the next message to that customer. Shared across instances
 * through Redis when it is configured.
 */
export abstract class SendRateLimiter {
  /** Resolves when one message to `waId` may be sent. */
  abstract acquire(waId: string): Promise<void>;
  /** Meta reported the pair rate limit for `waId`: hold its messages for `ms`. */
  abstract holdRecipient(waId: string, ms: number): Promise<void>;
}

export const sleep = (ms: number) =>
  new Promise<void>((resolve) => setTimeout(resolve, ms));
