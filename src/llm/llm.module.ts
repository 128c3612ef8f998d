import { Module } from '@nestjs/common';
import { EmbeddingProvider } from './embedding.provider';
import { LlmProvider } from './llm.provider';
import { OpenAiEmbeddingProvider } from './openai-embedding.provider';
import { OpenAiLlmProvider } from './openai-llm.provider';
import { OpenAiTranscriber } from './openai-transcriber';
import { Transcriber } from './transcriber';

@Module({
  providers: [
    { provide: LlmProvider, useClass: OpenAiLlmProvider },
    { provide: Transcriber, useClass: OpenAiTranscriber },
    { provide: EmbeddingProvider, useClass: OpenAiEmbeddingProvider },
  ],
  exports: [LlmProvider, Transcriber, EmbeddingProvider],
})
export class LlmModule {}
