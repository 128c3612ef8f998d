import { Module } from '@nestjs/common';
import { ConversationModule } from '../conversation/conversation.module';
import { DatabaseModule } from '../database/database.module';
import { DrizzleInboxQueries } from './drizzle-inbox.queries';
import { InboxQueries } from './inbox.queries';
import { SessionService } from './session.service';

/** The operators' read side: inbox, history, sessions, stats. */
@Module({
  imports: [DatabaseModule, ConversationModule],
  providers: [
    { provide: InboxQueries, useClass: DrizzleInboxQueries },
    SessionService,
  ],
  exports: [InboxQueries, SessionService],
})
export class InboxModule {}
