import { Module } from '@nestjs/common';
import { ConversationModule } from '../conversation/conversation.module';
import { DatabaseModule } from '../database/database.module';
import { EventsModule } from '../events/events.module';
import { WhatsappModule } from '../whatsapp/whatsapp.module';
import { DrizzleOutboxStore } from './drizzle-outbox.store';
import { OperatorService } from './operator.service';
import { OutboxService } from './outbox.service';
import { OutboxStore } from './outbox.store';

/** The outbox (claim, send, mark sent or failed) and operators' sends. */
@Module({
  imports: [DatabaseModule, EventsModule, WhatsappModule, ConversationModule],
  providers: [
    { provide: OutboxStore, useClass: DrizzleOutboxStore },
    OutboxService,
    OperatorService,
  ],
  exports: [OutboxStore, OutboxService, OperatorService],
})
export class OutboundModule {}
