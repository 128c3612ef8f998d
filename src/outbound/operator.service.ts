import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DomainError } from '../common/domain.error';
import { ConversationConfig } from '../config/app-config';
import { splitMessage } from '../whatsapp/split-message';
import { ConversationStore } from '../conversation/conversation.store';
import { OutboxStore } from './outbox.store';
import {
  Conversation,
  Message,
  OutboundDraft,
} from '../conversation/conversation.types';
import { extensionOf } from '../whatsapp/media-limits';
import type { MediaMessage } from '../whatsapp/outbound-message';
import { WhatsappClient } from '../whatsapp/whatsapp.client';
import { WhatsappSendError } from '../whatsapp/whatsapp-send.error';
import { mediaContextText, MediaUpload, OperatorMedia } from './operator-media';
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
    private readonly whatsapp: WhatsappClient,
  ) {}

  /** Sends to any customer, opening a conversation when there is none. */
  async sendToCustomer(
    waId: string,
    text: string,
  ): Promise<OperatorSendResult> {
    const chunks = this.split(text);
    this.requireWhatsapp();
    const conversation = await this.conversations.openConversation(
      waId,
      new Date(),
      this.settings.sessionTimeoutMs,
    );
    return this.send(conversation, textDrafts(chunks));
  }

  /**
   * Sends a media message to any customer, opening a conversation when there
   * is none. A file to upload goes to Meta first: when Meta refuses it,
   * nothing is recorded. The message is recorded with its media type as its
   * kind and reads in later turns as `[image] caption`.
   */
  async sendMediaToCustomer(
    waId: string,
    media: OperatorMedia,
  ): Promise<OperatorSendResult> {
    this.requireWhatsapp();
    const source =
      'upload' in media.source
        ? { id: await this.upload(media.source.upload, media.mediaType) }
        : media.source;
    const content: MediaMessage = {
      type: 'media',
      mediaType: media.mediaType,
      source,
      ...(media.caption !== undefined && { caption: media.caption }),
      ...(media.filename !== undefined && { filename: media.filename }),
    };
    const conversation = await this.conversations.openConversation(
      waId,
      new Date(),
      this.settings.sessionTimeoutMs,
    );
    return this.send(conversation, [
      { author: 'operator', text: mediaContextText(content), content },
    ]);
  }

  /** Replies in the customer's open conversation; 404 when there is none. */
  async reply(waId: string, text: string): Promise<OperatorSendResult> {
    const chunks = this.split(text);
    this.requireWhatsapp();
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
    return this.send(conversation, textDrafts(chunks));
  }

  private async upload(
    file: MediaUpload,
    mediaType: OperatorMedia['mediaType'],
  ): Promise<string> {
    try {
      return await this.whatsapp.uploadMedia({
        bytes: file.bytes,
        mimeType: file.mimeType,
        filename: file.filename ?? `${mediaType}.${extensionOf(file.mimeType)}`,
      });
    } catch (error) {
      if (!(error instanceof WhatsappSendError)) throw error;
      throw new DomainError(
        `WhatsApp did not accept the upload: ${error.message}`,
        'whatsapp-send-failed',
      );
    }
  }

  /** Checked before anything is stored: without credentials nothing could go out. */
  private requireWhatsapp(): void {
    if (!this.whatsapp.configured) {
      throw new DomainError(
        'WhatsApp is not configured: set WHATSAPP_PHONE_NUMBER_ID and WHATSAPP_ACCESS_TOKEN',
        'whatsapp-not-configured',
      );
    }
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
    drafts: OutboundDraft[],
  ): Promise<OperatorSendResult> {
    const recorded = await this.store.recordOperatorMessages(
      conversation.id,
      `operator:${randomUUID()}`,
      drafts,
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

function textDrafts(chunks: string[]): OutboundDraft[] {
  return chunks.map((chunk) => ({ author: 'operator', text: chunk }));
}
