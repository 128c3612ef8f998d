import { Module } from '@nestjs/common';
import { InboundModule } from '../inbound/inbound.module';
import { WebhookController } from './webhook.controller';

@Module({
  imports: [InboundModule],
  controllers: [WebhookController],
})
export class WebhookModule {}
