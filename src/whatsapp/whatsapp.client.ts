/** The longest wait between two attempts to send one message. */
export const MAX_SEND_RETRY_DELAY_MS = 60_000;

export interface SendResult {
  wamid: string;
  /** The recipient's wa_id as Meta resolved it. */
  waId: string | null;
  /** Meta's response body, for callers that return it as-is. */
  response: unknown;
}

/** Port: the WhatsApp Cloud API as the rest of the service needs it. */
export abstract class WhatsappClient {
  abstract readonly configured: boolean;
  /**
   * Sends a text message to a customer: `to` their wa_id digits when known,
   * else `recipient` their business-scoped user id. Retryable Graph errors
   * are retried with backoff; rejects with a WhatsappSendError otherwise.
   */
  abstract sendText(waId: string, body: string): Promise<SendResult>;
  /** Marks an inbound message read, optionally showing the typing indicator. One attempt. */
  abstract markRead(wamid: string, typing: boolean): Promise<void>;
}
