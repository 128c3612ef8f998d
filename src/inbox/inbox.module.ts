import { Module } from '@nestjs/common';
import { ConversationModule } from '../conversation/conversation.module';
import { DatabaseModule } from '../database/database.module';
import { WhatsappModule } from '../whatsapp/whatsapp.module';
import { DrizzleInboxQueries } from './drizzle-inbox.queries';
import { InboxQueries } from './inbox.queries';
import { OperatorMediaService } from './operator-media.service';
import { SessionService } from './session.service';

/** The operators' read side: inbox, history, sessions, stats, media files. */
@Module({
  imports: [DatabaseModule, ConversationModule, WhatsappModule],
  providers: [
    { provide: InboxQueries, useClass: DrizzleInboxQueries },
    SessionService,
    OperatorMediaService,
  ],
  exports: [InboxQueries, SessionService, OperatorMediaService],
})
export class InboxModule {}
