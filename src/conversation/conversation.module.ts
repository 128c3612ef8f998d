import { Module } from '@nestjs/common';
import { DatabaseModule } from '../database/database.module';
import { EventsModule } from '../events/events.module';
import { ConversationStore } from './conversation.store';
import { DrizzleConversationStore } from './drizzle-conversation.store';
import { HandoffResumeJob } from './handoff-resume.job';
import { HandoffService } from './handoff.service';
import { SessionExpiryJob } from './session-expiry.job';

/** The conversation lifecycle: open, find, hand off and resume, expire. */
@Module({
  imports: [DatabaseModule, EventsModule],
  providers: [
    { provide: ConversationStore, useClass: DrizzleConversationStore },
    HandoffService,
    SessionExpiryJob,
    HandoffResumeJob,
  ],
  exports: [ConversationStore, HandoffService],
})
export class ConversationModule {}
