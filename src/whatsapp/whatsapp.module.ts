import { HttpModule } from '@nestjs/axios';
import { Module } from '@nestjs/common';
import { CloudApiWhatsappClient } from './cloud-api-whatsapp.client';
import { WhatsappClient } from './whatsapp.client';

@Module({
  imports: [HttpModule],
  providers: [{ provide: WhatsappClient, useClass: CloudApiWhatsappClient }],
  exports: [WhatsappClient],
})
export class WhatsappModule {}
