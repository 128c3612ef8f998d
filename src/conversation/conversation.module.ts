import { BeforeApplicationShutdown, Inject, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { DatabaseModule } from '../database/database.module';
import { RedisConnection } from '../redis/redis-connection';
import { RedisModule } from '../redis/redis.module';
import { BullMqTurnQueue } from './bullmq-turn.queue';
import { LlmModule } from '../llm/llm.module';
import { MetricsModule } from '../metrics/metrics.module';
import { WhatsappModule } from '../whatsapp/whatsapp.module';
import { ConversationRepository } from './conversation.repository';
import { DrizzleConversationRepository } from './drizzle-conversation.repository';
import { DrizzleInboxQueries } from './drizzle-inbox.queries';
import { HandoffResumeJob } from './handoff-resume.job';
import { HandoffService } from './handoff.service';
import { InboxQueries } from './inbox.queries';
import { OperatorService } from './operator.service';
import { ResponsePreviewService } from './response-preview.service';
import { SessionService } from './session.service';
import { InProcessTurnQueue } from './in-process-turn.queue';
import { IngestService } from './ingest.service';
import { OutboundService } from './outbound.service';
import { PendingWorkSweeper } from './pending-work.sweeper';
import { QueueMetrics } from './queue.metrics';
import { SessionExpiryJob } from './session-expiry.job';
import { TurnQueue } from './turn.queue';
import { TurnService } from './turn.service';

@Module({
  imports: [
    DatabaseModule,
    LlmModule,
    WhatsappModule,
    MetricsModule,
    RedisModule,
  ],
  providers: [
    {
      provide: ConversationRepository,
      useClass: DrizzleConversationRepository,
    },
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
    { provide: InboxQueries, useClass: DrizzleInboxQueries },
    IngestService,
    OutboundService,
    TurnService,
    OperatorService,
    HandoffService,
    SessionService,
    ResponsePreviewService,
    SessionExpiryJob,
    HandoffResumeJob,
    PendingWorkSweeper,
    QueueMetrics,
  ],
  exports: [
    IngestService,
    InboxQueries,
    OperatorService,
    HandoffService,
    SessionService,
    ResponsePreviewService,
    TurnQueue,
  ],
})
export class ConversationModule implements BeforeApplicationShutdown {
  constructor(@Inject(TurnQueue) private readonly queue: TurnQueue) {}

  /** Stops taking turns and lets running ones finish before the database closes. */
  async beforeApplicationShutdown() {
    await this.queue.close();
  }
}
