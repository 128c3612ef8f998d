import { Injectable, Logger } from '@nestjs/common';
import { DomainEvent, DomainEventHandler, DomainEvents } from './domain-events';

/** Delivers each event to every subscriber of this process, in order. */
@Injectable()
export class InProcessDomainEvents extends DomainEvents {
  private readonly logger = new Logger(InProcessDomainEvents.name);
  private readonly handlers = new Set<DomainEventHandler>();

  publish(event: DomainEvent): void {
    for (const handler of this.handlers) {
      try {
        handler(event);
      } catch (error) {
        this.logger.error(
          { err: error, event: event.type },
          'a domain event subscriber failed',
        );
      }
    }
  }

  subscribe(handler: DomainEventHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }
}
