import { Injectable } from '@nestjs/common';
import OpenAI from 'openai';
import { AppConfig, LlmConfig } from '../config/app-config';
import { ChatMessage, LlmError, LlmProvider, LlmReply } from './llm.provider';

/**
 * Chat Completions through the official openai SDK, so any compatible server
 * works (OpenAI, Azure, Ollama, vLLM, LM Studio) via OPENAI_BASE_URL. The SDK
 * retries 408/409/429/5xx and connection errors LLM_MAX_RETRIES times.
 */
@Injectable()
export class OpenAiLlmProvider extends LlmProvider {
  private readonly client: OpenAI | null;
  private readonly settings: LlmConfig;

  constructor(config: AppConfig) {
    super();
    this.settings = config.llm;
    this.client = this.settings.apiKey
      ? new OpenAI({
          apiKey: this.settings.apiKey,
          baseURL: this.settings.baseUrl ?? undefined,
          timeout: this.settings.timeoutMs,
          maxRetries: this.settings.maxRetries,
        })
      : null;
  }

  get configured(): boolean {
    return this.client !== null;
  }

  get model(): string {
    return this.settings.model;
  }

  async complete(messages: ChatMessage[]): Promise<LlmReply> {
    if (!this.client) {
      throw new LlmError('not-configured', 'OPENAI_API_KEY is not set');
    }
    let completion: OpenAI.Chat.Completions.ChatCompletion;
    try {
      completion = await this.client.chat.completions.create({
        model: this.settings.model,
        messages,
      });
    } catch (error) {
      throw toLlmError(error);
    }
    const text = completion.choices?.[0]?.message?.content?.trim() ?? '';
    if (!text) {
      throw new LlmError('empty-answer', 'the model returned no text');
    }
    return {
      text,
      model: completion.model || this.settings.model,
      promptTokens: completion.usage?.prompt_tokens ?? null,
      completionTokens: completion.usage?.completion_tokens ?? null,
    };
  }
}

function toLlmError(error: unknown): LlmError {
  if (error instanceof OpenAI.APIConnectionTimeoutError) {
    return new LlmError('timeout', 'the LLM did not answer in time');
  }
  if (error instanceof OpenAI.APIConnectionError) {
    return new LlmError('network', `could not reach the LLM: ${error.message}`);
  }
  if (error instanceof OpenAI.APIError) {
    const status = error.status ?? null;
    return new LlmError(
      status === 429 ? 'rate-limited' : 'http-error',
      `the LLM answered ${status ?? 'an error'}: ${error.message}`,
      status,
    );
  }
  return new LlmError(
    'network',
    error instanceof Error ? error.message : String(error),
  );
}
