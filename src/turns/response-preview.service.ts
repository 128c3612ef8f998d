import { Injectable } from '@nestjs/common';
import { DomainError } from '../common/domain.error';
import { AppConfig } from '../config/app-config';
import {
  buildPrompt,
  defaultSystemPrompt,
  PromptEntry,
} from './composer/build-prompt';
import { LlmError, LlmProvider } from '../llm/llm.provider';
import { ConversationStore } from '../conversation/conversation.store';
import { toPromptEntry } from './composer/prompt-entry';

export interface PreviewRequest {
  message: string;
  conversationId?: string;
  /** Extra earlier messages, or a note for the assistant. */
  context?: PromptEntry[] | string;
}

export interface PreviewResult {
  reply: string;
  conversationId: string | null;
  metadata: {
    model: string;
    tokens: {
      prompt: number | null;
      completion: number | null;
      total: number | null;
    };
    timestamp: string;
  };
}

/**
 * What the bot would answer, built with the same prompt and LLM as the
 * pipeline, without storing or sending anything. LLM failures are reported
 * as failures, never dressed up as the fallback text.
 */
@Injectable()
export class ResponsePreviewService {
  constructor(
    private readonly repository: ConversationStore,
    private readonly llm: LlmProvider,
    private readonly config: AppConfig,
  ) {}

  async generate(request: PreviewRequest): Promise<PreviewResult> {
    if (!this.llm.configured) {
      throw new DomainError(
        'The LLM is not configured: set OPENAI_API_KEY',
        'llm-not-configured',
      );
    }
    let history: PromptEntry[] = [];
    if (request.conversationId) {
      const conversation = await this.repository.getConversation(
        request.conversationId,
      );
      if (!conversation) {
        throw new DomainError(
          `Conversation ${request.conversationId} not found`,
          'conversation-not-found',
        );
      }
      const recent = await this.repository.getRecentMessages(
        conversation.id,
        this.config.conversation.contextMessages,
      );
      history = recent.map(toPromptEntry);
    }
    const settings = this.config.llm;
    let systemPrompt = settings.systemPrompt;
    if (Array.isArray(request.context)) {
      history = [...history, ...request.context];
    } else if (request.context) {
      systemPrompt = `${systemPrompt ?? defaultSystemPrompt(settings.businessName)}\n\nContext for this conversation: ${request.context}`;
    }
    const prompt = buildPrompt({
      systemPrompt,
      businessName: settings.businessName,
      history,
      newMessages: [{ from: 'customer', text: request.message }],
    });
    try {
      const reply = await this.llm.complete(prompt);
      const total =
        reply.promptTokens !== null && reply.completionTokens !== null
          ? reply.promptTokens + reply.completionTokens
          : null;
      return {
        reply: reply.text,
        conversationId: request.conversationId ?? null,
        metadata: {
          model: reply.model,
          tokens: {
            prompt: reply.promptTokens,
            completion: reply.completionTokens,
            total,
          },
          timestamp: new Date().toISOString(),
        },
      };
    } catch (error) {
      const reason = error instanceof LlmError ? error.reason : 'unexpected';
      throw new DomainError(
        `The LLM failed (${reason}): ${error instanceof Error ? error.message : String(error)}`,
        'llm-failed',
      );
    }
  }
}
