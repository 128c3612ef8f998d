import { Injectable } from '@nestjs/common';
import OpenAI from 'openai';
import { LlmConfig } from '../config/app-config';
import {
  ChatMessage,
  LlmError,
  LlmProvider,
  LlmReply,
  ToolDefinition,
} from './llm.provider';

/**
 * Chat Completions through the official openai SDK, so any compatible server
 * works (OpenAI, Azure, Ollama, vLLM, LM Studio) via OPENAI_BASE_URL. The SDK
 * retries 408/409/429/5xx and connection errors LLM_MAX_RETRIES times.
 */
@Injectable()
export class OpenAiLlmProvider extends LlmProvider {
  private readonly client: OpenAI | null;
  private readonly settings: LlmConfig;

  constructor(settings: LlmConfig) {
    super();
    this.settings = settings;
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
    options: { tools?: ToolDefinition[]; toolChoice?: 'auto' | 'none' } = {},
  ): Promise<LlmReply> {
    if (!this.client) {
      throw new LlmError('not-configured', 'OPENAI_API_KEY is not set');
    }
    const tools = options.tools ?? [];
    let completion: OpenAI.Chat.Completions.ChatCompletion;
    try {
      completion = await this.client.chat.completions.create({
        model: this.settings.model,
        messages: messages.map(toOpenAiMessage),
        ...(tools.length > 0 && {
          tools: tools.map(toOpenAiTool),
          ...(options.toolChoice && { tool_choice: options.toolChoice }),
        }),
      });
    } catch (error) {
      throw toLlmError(error);
    }
    const message = completion.choices?.[0]?.message;
    const text = message?.content?.trim() ?? '';
    const toolCalls = (message?.tool_calls ?? []).flatMap((call) =>
      call.type === 'function'
        ? [
            {
              id: call.id,
              name: call.function.name,
              arguments: call.function.arguments || '{}',
            },
          ]
        : [],
    );
    if (!text && toolCalls.length === 0) {
      throw new LlmError('empty-answer', 'the model returned no text');
    }
    return {
      text,
      toolCalls,
      model: completion.model || this.settings.model,
      promptTokens: completion.usage?.prompt_tokens ?? null,
      completionTokens: completion.usage?.completion_tokens ?? null,
    };
  }
}

type OpenAiMessage = OpenAI.Chat.Completions.ChatCompletionMessageParam;

/** Our message shape to the Chat Completions one. */
function toOpenAiMessage(message: ChatMessage): OpenAiMessage {
  switch (message.role) {
    case 'system':
      return { role: 'system', content: message.content };
    case 'user':
      return {
        role: 'user',
        content:
          typeof message.content === 'string'
            ? message.content
            : message.content.map((part) =>
                part.type === 'text'
                  ? { type: 'text' as const, text: part.text }
                  : {
                      type: 'image_url' as const,
                      image_url: { url: part.url },
                    },
              ),
      };
    case 'assistant':
      return {
        role: 'assistant',
        content: message.content,
        ...(message.toolCalls?.length && {
          tool_calls: message.toolCalls.map((call) => ({
            id: call.id,
            type: 'function' as const,
            function: { name: call.name, arguments: call.arguments },
          })),
        }),
      };
    case 'tool':
      return {
        role: 'tool',
        tool_call_id: message.toolCallId,
        content: message.content,
      };
  }
}

function toOpenAiTool(
  tool: ToolDefinition,
): OpenAI.Chat.Completions.ChatCompletionFunctionTool {
  return {
    type: 'function',
    function: {
      name: tool.name,
      description: tool.description,
      parameters: tool.parameters,
    },
  };
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
