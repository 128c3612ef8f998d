import { Module } from '@nestjs/common';
import { LlmProvider } from './llm.provider';
import { OpenAiLlmProvider } from './openai-llm.provider';
import { OpenAiTranscriber } from './openai-transcriber';
import { Transcriber } from './transcriber';

@Module({
  providers: [
    { provide: LlmProvider, useClass: OpenAiLlmProvider },
    { provide: Transcriber, useClass: OpenAiTranscriber },
  ],
  exports: [LlmProvider, Transcriber],
})
export class LlmModule {}
