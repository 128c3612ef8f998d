import { Injectable, Logger } from '@nestjs/common';
import { maskPhoneNumber } from '../common/phone-number';
import { DomainEvents } from '../events/domain-events';
import { WhatsappClient } from '../whatsapp/whatsapp.client';
import { WhatsappSendError } from '../whatsapp/whatsapp-send.error';
import { OutboxStore } from './outbox.store';
import {
  Conversation,
  Message,
  StoredError,
} from '../conversation/conversation.types';

export interface DeliveryReport {
  sent: Array<{ message: Message; response: unknown }>;
  failed: Array<{ message: Message; error: WhatsappSendError }>;
}

const toStoredError = (error: WhatsappSendError): StoredError => ({
  code: error.code ?? error.kind,
  title: error.kind,
  message: error.message,
  details: error.details,
});

/**
 * Hands a conversation's recorded-but-unsent messages to WhatsApp, in order.
 * Each message is marked `sending` first and gets its wamid after; a
 * permanent failure fails it and the rest of that reply, with the error
 * stored, so no retry storm follows.
 */
@Injectable()
export class OutboxService {
  private readonly logger = new Logger(OutboxService.name);

  constructor(
    private readonly store: OutboxStore,
    private readonly whatsapp: WhatsappClient,
    private readonly events: DomainEvents,
  ) {}

  /** Sends whatever the conversation has recorded and no one is sending. */
  async sendUnsent(conversation: Conversation): Promise<DeliveryReport> {
    const unsent = await this.store.getUnsent(conversation.id);
    return this.send(
      conversation,
      unsent.filter((m) => m.status === 'pending'),
    );
  }

  /**
   * Sends these messages in order. A `pending` one is claimed first and
   * skipped if someone else claimed it meanwhile; a `sending` one is this
   * caller's own claim (a reply recorded already claimed) and goes out.
   * `log` (e.g. the turn's correlation ids) goes into every line logged.
   */
  async send(
    conversation: Conversation,
    messages: Message[],
    log: object = {},
  ): Promise<DeliveryReport> {
    const report: DeliveryReport = { sent: [], failed: [] };
    let failedTurn: { key: string | null; error: WhatsappSendError } | null =
      null;
    for (const message of messages) {
      if (failedTurn && failedTurn.key === message.turnKey) {
        await this.fail(message, failedTurn.error, report);
        continue;
      }
      // Whoever claims a message sends it; a concurrent sender skips it.
      if (
        message.status === 'pending' &&
        !(await this.store.claimForSending(message.id, new Date()))
      )
        continue;
      try {
        const result = await this.whatsapp.send(
          conversation.customerWaId,
          message.content ?? { type: 'text', body: message.text ?? '' },
        );
        await this.store.markSent(message.id, result.wamid, new Date());
        this.events.publish({
          type: 'message.sent',
          conversationId: conversation.id,
          messageId: message.id,
          author: message.author,
          wamid: result.wamid,
          code: null,
        });
        report.sent.push({
          message: { ...message, wamid: result.wamid, status: 'sent' },
          response: result.response,
        });
      } catch (error) {
        if (!(error instanceof WhatsappSendError)) throw error;
        this.logger.error(
          {
            ...log,
            code: error.code,
            kind: error.kind,
            messageId: message.id,
            to: maskPhoneNumber(conversation.customerWaId),
          },
          `message not sent: ${error.message}`,
        );
        failedTurn = { key: message.turnKey, error };
        await this.fail(message, error, report);
      }
    }
    return report;
  }

  private async fail(
    message: Message,
    error: WhatsappSendError,
    report: DeliveryReport,
  ) {
    await this.store.markFailed(message.id, toStoredError(error), new Date());
    this.events.publish({
      type: 'message.failed',
      conversationId: message.conversationId,
      messageId: message.id,
      author: message.author,
      wamid: null,
      code: String(error.code ?? error.kind),
    });
    report.failed.push({ message, error });
  }
}
