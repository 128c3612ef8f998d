import { Injectable, Logger } from '@nestjs/common';
import { maskPhoneNumber } from '../common/phone-number';
import { DomainError } from '../common/domain.error';
import { ConversationConfig } from '../config/app-config';
import { DomainEvents } from '../events/domain-events';
import { ConversationStore } from './conversation.store';
import { Conversation, StateChange } from './conversation.types';

/**
 * Human handoff: an operator pauses the bot for one customer, and resumes
 * it by hand or after a set time. While paused, the customer's messages are
 * stored and not answered by the LLM.
 */
@Injectable()
export class HandoffService {
  private readonly logger = new Logger(HandoffService.name);

  constructor(
    private readonly store: ConversationStore,
    private readonly events: DomainEvents,
    private readonly settings: ConversationConfig,
  ) {}

  async pause(
    waId: string,
    options: { reason?: string; autoResumeMinutes?: number },
  ): Promise<Conversation> {
    const now = new Date();
    const conversation = await this.store.openConversation(
      waId,
      now,
      this.settings.sessionTimeoutMs,
    );
    const paused = await this.change(
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
    const conversation = await this.store.findOpenConversation(
      waId,
      new Date(),
      this.settings.sessionTimeoutMs,
    );
    if (!conversation || conversation.state !== 'handoff') {
      throw new DomainError(
        `The bot is not paused for ${waId}`,
        'not-in-handoff',
      );
    }
    // Messages the operator left unanswered are the bot's again: the turn
    // queue schedules a turn on the state change.
    const resumed = await this.change(
      conversation.id,
      { state: 'active', actor: 'operator', reason: reason ?? null },
      new Date(),
    );
    this.logger.log(
      { conversationId: resumed.id, customer: maskPhoneNumber(waId) },
      'bot resumed',
    );
    return resumed;
  }

  /**
   * Gives the bot back every conversation whose auto-resume time has passed;
   * the state change schedules a turn for each, so that what the customer
   * wrote meanwhile is answered. Each conversation is resumed once, even with several
   * instances running this at once (one atomic update claims them).
   */
  async resumeDue(now = new Date()): Promise<string[]> {
    const resumed = await this.store.resumeDueHandoffs(now);
    for (const conversationId of resumed) {
      this.logger.log(
        { conversationId, reason: 'handoff time ended' },
        'bot resumed: the handoff time ended',
      );
      this.events.publish({
        type: 'conversation.state-changed',
        conversationId,
        state: 'active',
        actor: 'system',
        reason: 'handoff time ended',
      });
    }
    return resumed;
  }

  private async change(
    conversationId: string,
    change: StateChange,
    now: Date,
  ): Promise<Conversation> {
    const changed = await this.store.changeState(conversationId, change, now);
    this.events.publish({
      type: 'conversation.state-changed',
      conversationId,
      state: change.state,
      actor: change.actor,
      reason: change.reason,
    });
    return changed;
  }
}
