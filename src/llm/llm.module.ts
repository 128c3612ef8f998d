import { Module } from '@nestjs/common';
import { LlmProvider } from './llm.provider';
import { OpenAiLlmProvider } from './openai-llm.provider';

@Module({
  providers: [{ provide: LlmProvider, useClass: OpenAiLlmProvider }],
  exports: [LlmProvider],
})
export class LlmModule {}
