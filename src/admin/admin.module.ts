import { Module } from '@nestjs/common';
import { ConversationModule } from '../conversation/conversation.module';

/** The operators' API under /api (controllers arrive with the admin issue). */
@Module({
  imports: [ConversationModule],
})
export class AdminModule {}
