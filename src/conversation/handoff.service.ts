import { Injectable, Logger } from '@nestjs/common';
import { maskPhoneNumber } from '../common/phone-number';
import { DomainError } from '../common/domain.error';
import { AppConfig } from '../config/app-config';
import { ConversationRepository } from './conversation.repository';
import { Conversation } from './conversation.types';
import { TurnQueue } from '../turns/queue/turn.queue';

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

  /**
   * Gives the bot back every conversation whose auto-resume time has passed,
   * and schedules a turn for each, so that what the customer wrote meanwhile
   * is answered. Each conversation is resumed once, even with several
   * instances running this at once (one atomic update claims them).
   */
  async resumeDue(now = new Date()): Promise<string[]> {
    const resumed = await this.repository.resumeDueHandoffs(now);
    for (const conversationId of resumed) {
      this.logger.log(
        { conversationId, reason: 'handoff time ended' },
        'bot resumed: the handoff time ended',
      );
    }
    // A turn that could not be scheduled is left to the pending-work sweep,
    // which now sees the conversation's unanswered messages.
    const scheduled = await Promise.allSettled(
      resumed.map((id) => this.queue.schedule(id)),
    );
    scheduled.forEach((result, n) => {
      if (result.status === 'rejected') {
        this.logger.error(
          { err: result.reason as unknown, conversationId: resumed[n] },
          'could not schedule a turn after a handoff ended; the pending-work sweep will',
        );
      }
    });
    return resumed;
  }
}
