import { Module } from '@nestjs/common';
import { DomainEvents } from './domain-events';
import { InProcessDomainEvents } from './in-process-domain.events';

/**
 * One event bus per application: every module that imports this one gets
 * the same instance (Nest modules are singletons).
 */
@Module({
  providers: [{ provide: DomainEvents, useClass: InProcessDomainEvents }],
  exports: [DomainEvents],
})
export class EventsModule {}
