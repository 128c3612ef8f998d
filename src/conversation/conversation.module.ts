import { BeforeApplicationShutdown, Inject, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { DatabaseModule } from '../database/database.module';
import { RedisConnection } from '../redis/redis-connection';
import { RedisModule } from '../redis/redis.module';
import { BullMqTurnQueue } from '../turns/queue/bullmq/bullmq-turn.queue';
import { LlmModule } from '../llm/llm.module';
import { MetricsModule } from '../metrics/metrics.module';
import { WhatsappModule } from '../whatsapp/whatsapp.module';
import { ConversationRepository } from './conversation.repository';
import { DrizzleConversationRepository } from './drizzle-conversation.repository';
import { DrizzleInboxQueries } from '../inbox/drizzle-inbox.queries';
import { HandoffResumeJob } from './handoff-resume.job';
import { HandoffService } from './handoff.service';
import { InboxQueries } from '../inbox/inbox.queries';
import { OperatorService } from '../outbound/operator.service';
import { ResponsePreviewService } from '../turns/response-preview.service';
import { SessionService } from '../inbox/session.service';
import { InProcessTurnQueue } from '../turns/queue/in-process/in-process-turn.queue';
import { IngestService } from '../inbound/ingest.service';
import { OutboundService } from '../outbound/outbox.service';
import { PendingWorkSweeper } from '../turns/pending-work.sweeper';
import { QueueMetrics } from '../turns/queue/queue.metrics';
import { SessionExpiryJob } from './session-expiry.job';
import { TurnQueue } from '../turns/queue/turn.queue';
import { TurnService } from '../turns/turn.service';

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
