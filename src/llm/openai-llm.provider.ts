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

  async complete(
    messages: ChatMessage[],
    options: { offerHandoff?: boolean } = {},
  ): Promise<LlmReply> {
    if (!this.client) {
      throw new LlmError('not-configured', 'OPENAI_API_KEY is not set');
    }
    let completion: OpenAI.Chat.Completions.ChatCompletion;
    try {
      completion = await this.client.chat.completions.create({
        model: this.settings.model,
        messages,
        ...(options.offerHandoff && { tools: [REQUEST_HUMAN_TOOL] }),
      });
    } catch (error) {
      throw toLlmError(error);
    }
    const message = completion.choices?.[0]?.message;
    const text = message?.content?.trim() ?? '';
    const handoff = findHandoffCall(message?.tool_calls);
    if (!text && !handoff) {
      throw new LlmError('empty-answer', 'the model returned no text');
    }
    return {
      text,
      handoff,
      model: completion.model || this.settings.model,
      promptTokens: completion.usage?.prompt_tokens ?? null,
      completionTokens: completion.usage?.completion_tokens ?? null,
    };
  }
}

/** The tool the model calls when the customer wants a person. */
export const REQUEST_HUMAN_TOOL: OpenAI.Chat.Completions.ChatCompletionFunctionTool =
  {
    type: 'function',
    function: {
      name: 'request_human',
      description:
        'Hand the conversation to a human member of staff. Call this only when the customer clearly asks to talk to a person, or when they are upset and a person is needed.',
      parameters: {
        type: 'object',
        properties: {
          reason: {
            type: 'string',
            description: 'One short sentence on why a person is needed',
          },
        },
        required: [],
        additionalProperties: false,
      },
    },
  };

function findHandoffCall(
  calls: OpenAI.Chat.Completions.ChatCompletionMessageToolCall[] | undefined,
): { reason: string | null } | null {
  const call = calls?.find(
    (c) =>
      c.type === 'function' &&
      c.function.name === REQUEST_HUMAN_TOOL.function.name,
  );
  if (!call || call.type !== 'function') return null;
  try {
    const args = JSON.parse(call.function.arguments || '{}') as {
      reason?: unknown;
    };
    return { reason: typeof args.reason === 'string' ? args.reason : null };
  } catch {
    return { reason: null };
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
