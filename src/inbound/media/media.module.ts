import { Module } from '@nestjs/common';
import { LlmModule } from '../../llm/llm.module';
import { WhatsappModule } from '../../whatsapp/whatsapp.module';
import { MediaInterpreter } from './media-interpreter';

/** Understanding inbound media (download, transcription, extraction), for the turn. */
@Module({
  imports: [WhatsappModule, LlmModule],
  providers: [MediaInterpreter],
  exports: [MediaInterpreter],
})
export class MediaModule {}
