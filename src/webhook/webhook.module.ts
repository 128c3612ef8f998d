import { Module } from '@nestjs/common';
import { ConversationModule } from '../conversation/conversation.module';
import { WebhookController } from './webhook.controller';

@Module({
  imports: [ConversationModule],
  controllers: [WebhookController],
})
export class WebhookModule {}
