import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { DomainEvents } from '../events/domain-events';
import { TurnQueue } from './queue/turn.queue';

/**
 * A conversation given back to the bot (by an operator, or when its handoff
 * time ends) gets a turn, so that what the customer wrote meanwhile is
 * answered. One that could not be scheduled is left to the pending-work
 * sweep, which now sees its unanswered messages.
 */
@Injectable()
export class ResumedConversationScheduler implements OnModuleDestroy {
  private readonly logger = new Logger(ResumedConversationScheduler.name);
  private readonly unsubscribe: () => void;

  constructor(events: DomainEvents, queue: TurnQueue) {
    this.unsubscribe = events.subscribe((event) => {
      if (event.type !== 'conversation.state-changed') return;
      if (event.state !== 'active') return;
      queue.schedule(event.conversationId).catch((error: unknown) => {
        this.logger.error(
          { err: error, conversationId: event.conversationId },
          'could not schedule a turn after the bot was resumed; the pending-work sweep will',
        );
      });
    });
  }

  onModuleDestroy() {
    this.unsubscribe();
  }
}
