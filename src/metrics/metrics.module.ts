import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module';
import { DomainEventMetrics } from './domain-event.metrics';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';

@Module({
  imports: [EventsModule],
  controllers: [MetricsController],
  providers: [MetricsService, DomainEventMetrics],
  exports: [MetricsService],
})
export class MetricsModule {}
