import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DomainError } from '../common/domain.error';
import { ConversationConfig } from '../config/app-config';
import { splitMessage } from '../whatsapp/split-message';
import { ConversationStore } from '../conversation/conversation.store';
import { OutboxStore } from './outbox.store';
import { Conversation, Message } from '../conversation/conversation.types';
import { OutboxService } from './outbox.service';

export interface OperatorSendResult {
  conversationId: string;
  messages: Message[];
  /** Meta's responses, one per chunk, in order. */
  responses: unknown[];
}

/**
 * Messages an operator sends by hand. They are split like bot replies,
 * recorded in the customer's conversation (so the LLM sees them as context
 * later) and settle the customer's unanswered messages: a person answered.
 */
@Injectable()
export class OperatorService {
  constructor(
    private readonly conversations: ConversationStore,
    private readonly store: OutboxStore,
    private readonly outbox: OutboxService,
    private readonly settings: ConversationConfig,
  ) {}

  /** Sends to any customer, opening a conversation when there is none. */
  async sendToCustomer(
    waId: string,
    text: string,
  ): Promise<OperatorSendResult> {
    const chunks = this.split(text);
    const conversation = await this.conversations.openConversation(
      waId,
      new Date(),
      this.settings.sessionTimeoutMs,
    );
    return this.send(conversation, chunks);
  }

  /** Replies in the customer's open conversation; 404 when there is none. */
  async reply(waId: string, text: string): Promise<OperatorSendResult> {
    const chunks = this.split(text);
    const conversation = await this.conversations.findOpenConversation(
      waId,
      new Date(),
      this.settings.sessionTimeoutMs,
    );
    if (!conversation) {
      throw new DomainError(
        `No open conversation with ${waId}`,
        'conversation-not-found',
      );
    }
    return this.send(conversation, chunks);
  }

  /** Checked before anything is stored: a refused request changes nothing. */
  private split(text: string): string[] {
    const chunks = splitMessage(text, this.settings.maxMessageLength);
    if (chunks.length === 0) {
      throw new DomainError('message must contain text', 'empty-message');
    }
    return chunks;
  }

  private async send(
    conversation: Conversation,
    chunks: string[],
  ): Promise<OperatorSendResult> {
    const recorded = await this.store.recordOperatorMessages(
      conversation.id,
      `operator:${randomUUID()}`,
      chunks.map((chunk) => ({ author: 'operator', text: chunk })),
      new Date(),
    );
    const report = await this.outbox.sendUnsent(conversation);
    const ids = new Set(recorded.map((m) => m.id));
    const failure = report.failed.find((f) => ids.has(f.message.id));
    if (failure) {
      const sentBefore = report.sent.filter((s) =>
        ids.has(s.message.id),
      ).length;
      throw new DomainError(
        `WhatsApp did not accept the message${sentBefore ? ` (after ${sentBefore} of ${recorded.length} parts)` : ''}: ${failure.error.message}`,
        'whatsapp-send-failed',
      );
    }
    const sent = report.sent.filter((s) => ids.has(s.message.id));
    return {
      conversationId: conversation.id,
      messages: sent.map((s) => s.message),
      responses: sent.map((s) => s.response),
    };
  }
}
