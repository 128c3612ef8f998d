import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { DomainEvent, DomainEvents } from '../events/domain-events';

/**
 * A debug-level trail of every domain event as it is published: ids,
 * counts, states and codes, never message text or phone numbers (events
 * carry none). `LOG_LEVEL=debug` shows it; the services' own info lines
 * (with correlation ids and masked customers) stay as they are.
 */
@Injectable()
export class DomainEventLog implements OnModuleDestroy {
  private readonly logger = new Logger('DomainEvents');
  private readonly unsubscribe: () => void;

  constructor(events: DomainEvents) {
    this.unsubscribe = events.subscribe((event) => this.write(event));
  }

  onModuleDestroy() {
    this.unsubscribe();
  }

  private write(event: DomainEvent): void {
    const { type, ...fields } = event;
    this.logger.debug(fields, type);
  }
}
