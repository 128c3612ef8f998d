import { Module } from '@nestjs/common';
import { ConversationModule } from '../conversation/conversation.module';
import { ServedNumberFilter } from '../inbound/served-number.filter';
import { WebhookController } from './webhook.controller';

@Module({
  imports: [ConversationModule],
  controllers: [WebhookController],
  providers: [ServedNumberFilter],
})
export class WebhookModule {}
