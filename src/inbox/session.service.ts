import { Injectable } from '@nestjs/common';
import { DomainError } from '../common/domain.error';
import { ConversationConfig } from '../config/app-config';
import { ConversationStore } from '../conversation/conversation.store';
import { toPromptEntry } from '../turns/composer/prompt-entry';
import {
  ConversationState,
  MessageAuthor,
} from '../conversation/conversation.types';

export interface SessionView {
  conversationId: string;
  phoneNumber: string;
  customerName: string | null;
  state: ConversationState;
  context: {
    previousMessages: Array<{
      role: 'user' | 'assistant';
      author: MessageAuthor;
      text: string;
      timestamp: Date;
    }>;
  };
  startedAt: Date;
  lastActivity: Date;
  active: boolean;
}

/** A customer's open conversation as the LLM currently sees it. */
@Injectable()
export class SessionService {
  constructor(
    private readonly repository: ConversationStore,
    private readonly settings: ConversationConfig,
  ) {}

  async getSession(waId: string): Promise<SessionView> {
    const conversation = await this.repository.findOpenConversation(
      waId,
      new Date(),
      this.settings.sessionTimeoutMs,
    );
    if (!conversation) {
      throw new DomainError(
        `No active session for ${waId}`,
        'session-not-found',
      );
    }
    const recent = await this.repository.getRecentMessages(
      conversation.id,
      this.settings.contextMessages,
    );
    return {
      conversationId: conversation.id,
      phoneNumber: conversation.customerWaId,
      customerName: conversation.customerName,
      state: conversation.state,
      context: {
        previousMessages: recent.map((m) => ({
          role: m.direction === 'inbound' ? 'user' : 'assistant',
          author: m.author,
          // Understood media reads as the model reads it ("[voice note] …").
          text: m.mediaText !== null ? toPromptEntry(m).text : (m.text ?? ''),
          timestamp: m.sentAt,
        })),
      },
      startedAt: conversation.startedAt,
      lastActivity: conversation.lastActivityAt,
      active: true,
    };
  }
}
