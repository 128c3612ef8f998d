import { BeforeApplicationShutdown, Inject, Module } from '@nestjs/common';
import { DatabaseModule } from '../database/database.module';
import { LlmModule } from '../llm/llm.module';
import { MetricsModule } from '../metrics/metrics.module';
import { WhatsappModule } from '../whatsapp/whatsapp.module';
import { ConversationRepository } from './conversation.repository';
import { DrizzleConversationRepository } from './drizzle-conversation.repository';
import { InProcessTurnQueue } from './in-process-turn.queue';
import { IngestService } from './ingest.service';
import { OutboundService } from './outbound.service';
import { PendingWorkSweeper } from './pending-work.sweeper';
import { SessionExpiryJob } from './session-expiry.job';
import { TurnQueue } from './turn.queue';
import { TurnService } from './turn.service';

@Module({
  imports: [DatabaseModule, LlmModule, WhatsappModule, MetricsModule],
  providers: [
    {
      provide: ConversationRepository,
      useClass: DrizzleConversationRepository,
    },
    { provide: TurnQueue, useClass: InProcessTurnQueue },
    IngestService,
    OutboundService,
    TurnService,
    SessionExpiryJob,
    PendingWorkSweeper,
  ],
  exports: [ConversationRepository, IngestService, OutboundService],
})
export class ConversationModule implements BeforeApplicationShutdown {
  constructor(@Inject(TurnQueue) private readonly queue: TurnQueue) {}

  /** Stops taking turns and lets running ones finish before the database closes. */
  async beforeApplicationShutdown() {
    await this.queue.close();
  }
}
