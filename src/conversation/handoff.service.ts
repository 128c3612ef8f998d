import { Injectable, Logger } from '@nestjs/common';
import { maskPhoneNumber } from '../common/phone-number';
import { DomainError } from '../common/domain.error';
import { AppConfig } from '../config/app-config';
import { ConversationRepository } from './conversation.repository';
import { Conversation } from './conversation.types';
import { TurnQueue } from './turn.queue';

/**
 * Human handoff: an operator pauses the bot for one customer, and resumes
 * it by hand or after a set time. While paused, the customer's messages are
 * stored and not answered by the LLM.
 */
@Injectable()
export class HandoffService {
  private readonly logger = new Logger(HandoffService.name);

  constructor(
    private readonly repository: ConversationRepository,
    private readonly queue: TurnQueue,
    private readonly config: AppConfig,
  ) {}

  async pause(
    waId: string,
    options: { reason?: string; autoResumeMinutes?: number },
  ): Promise<Conversation> {
    const now = new Date();
    const conversation = await this.repository.openConversation(
      waId,
      now,
      this.config.conversation.sessionTimeoutMs,
    );
    const paused = await this.repository.changeState(
      conversation.id,
      {
        state: 'handoff',
        actor: 'operator',
        reason: options.reason ?? null,
        handoffUntil: options.autoResumeMinutes
          ? new Date(now.getTime() + options.autoResumeMinutes * 60_000)
          : null,
      },
      now,
    );
    this.logger.log(
      {
        conversationId: paused.id,
        customer: maskPhoneNumber(waId),
        until: paused.handoffUntil,
      },
      'bot paused: an operator has the conversation',
    );
    return paused;
  }

  async resume(waId: string, reason?: string): Promise<Conversation> {
    const conversation = await this.repository.findOpenConversation(
      waId,
      new Date(),
      this.config.conversation.sessionTimeoutMs,
    );
    if (!conversation || conversation.state !== 'handoff') {
      throw new DomainError(
        `The bot is not paused for ${waId}`,
        'not-in-handoff',
        409,
      );
    }
    const resumed = await this.repository.changeState(
      conversation.id,
      { state: 'active', actor: 'operator', reason: reason ?? null },
      new Date(),
    );
    // Messages the operator left unanswered are the bot's again.
    await this.queue.schedule(resumed.id);
    this.logger.log(
      { conversationId: resumed.id, customer: maskPhoneNumber(waId) },
      'bot resumed',
    );
    return resumed;
  }
}
