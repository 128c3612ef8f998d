import { BeforeApplicationShutdown, Inject, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { ConversationModule } from '../conversation/conversation.module';
import { DatabaseModule } from '../database/database.module';
import { EventsModule } from '../events/events.module';
import { LlmModule } from '../llm/llm.module';
import { MetricsModule } from '../metrics/metrics.module';
import { OutboundModule } from '../outbound/outbound.module';
import { RedisConnection } from '../redis/redis-connection';
import { RedisModule } from '../redis/redis.module';
import { WhatsappModule } from '../whatsapp/whatsapp.module';
import { MediaModule } from '../inbound/media/media.module';
import { MediaStep } from './composer/media-step';
import { ReplyComposer } from './composer/reply-composer';
import { ToolLoop } from './composer/tool-loop';
import { KnowledgeStep } from './composer/knowledge-step';
import { KnowledgeModule } from '../knowledge/knowledge.module';
import { DrizzleToolJournal } from './drizzle-tool.journal';
import { ToolJournal } from './tool-journal';
import { ToolsModule } from '../tools/tools.module';
import { DrizzleTurnStore } from './drizzle-turn.store';
import { PendingWorkSweeper } from './pending-work.sweeper';
import { BullMqTurnQueue } from './queue/bullmq/bullmq-turn.queue';
import { InProcessTurnQueue } from './queue/in-process/in-process-turn.queue';
import { QueueMetrics } from './queue/queue.metrics';
import { TurnQueue } from './queue/turn.queue';
import { ResponsePreviewService } from './response-preview.service';
import { ResumedConversationScheduler } from './resumed-conversation.scheduler';
import { TurnService } from './turn.service';
import { TurnStore } from './turn.store';

/** Turns: the queue and its drivers, the sweeper, the gates and the composer. */
@Module({
  imports: [
    DatabaseModule,
    EventsModule,
    LlmModule,
    WhatsappModule,
    MetricsModule,
    RedisModule,
    OutboundModule,
    ConversationModule,
    MediaModule,
    ToolsModule,
    KnowledgeModule,
  ],
  providers: [
    { provide: TurnStore, useClass: DrizzleTurnStore },
    { provide: ToolJournal, useClass: DrizzleToolJournal },
    ToolLoop,
    KnowledgeStep,
    {
      provide: TurnQueue,
      inject: [TurnService, AppConfig, RedisConnection],
      useFactory: (
        turns: TurnService,
        config: AppConfig,
        redis: RedisConnection,
      ) =>
        redis.enabled
          ? new BullMqTurnQueue(
              turns,
              redis,
              config.conversation.replyDebounceMs,
              config.turnConcurrency,
            )
          : new InProcessTurnQueue(turns, config),
    },
    TurnService,
    ReplyComposer,
    MediaStep,
    ResponsePreviewService,
    PendingWorkSweeper,
    QueueMetrics,
    ResumedConversationScheduler,
  ],
  exports: [TurnQueue, ResponsePreviewService],
})
export class TurnsModule implements BeforeApplicationShutdown {
  constructor(@Inject(TurnQueue) private readonly queue: TurnQueue) {}

  /** Stops taking turns and lets running ones finish before the database closes. */
  async beforeApplicationShutdown() {
    await this.queue.close();
  }
}
