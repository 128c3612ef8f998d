import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import type {
  OutboundDraft,
  StateChange,
  TurnSnapshot,
} from '../../conversation/conversation.types';
import { DomainEvents } from '../../events/domain-events';
import { LlmError, LlmProvider } from '../../llm/llm.provider';
import { splitMessage } from '../../whatsapp/split-message';
import { findHandoffKeyword } from '../gates/handoff-keywords';
import { buildPrompt } from './build-prompt';
import { findHandoffCall, HANDOFF_TOOL } from './tools/handoff.tool';
import { MediaStep } from './media-step';
import { isReadable, toPromptEntry } from './prompt-entry';

/** What a turn will record and send. */
export interface ComposedReply {
  drafts: OutboundDraft[];
  /** Set when the reply hands the conversation to a person. */
  handoff?: StateChange;
}

/**
 * Builds a turn's reply: the handoff notice when the customer asked for a
 * person (a keyword, or the model's handoff tool), the media notice when
 * there is nothing the model can read, else the model's answer split into
 * WhatsApp-sized chunks; the fallback text when the model fails.
 */
@Injectable()
export class ReplyComposer {
  private readonly logger = new Logger(ReplyComposer.name);

  constructor(
    private readonly llm: LlmProvider,
    private readonly config: AppConfig,
    private readonly events: DomainEvents,
    private readonly media: MediaStep,
  ) {}

  async compose(snapshot: TurnSnapshot, log: object): Promise<ComposedReply> {
    const settings = this.config.llm;
    const { history } = snapshot;
    // Media first (stored before anything is composed): a transcript can
    // ask for a person as well as a text can.
    const { unanswered, images } = await this.media.read(
      snapshot.unanswered,
      log,
    );
    const asked = unanswered
      .map((m) => {
        const said = m.kind === 'audio' ? m.mediaText : m.text;
        return m.replyAction === 'llm' && said
          ? findHandoffKeyword(said, this.config.handoff.keywords)
          : null;
      })
      .find(Boolean);
    if (asked) return this.handoffReply(`customer wrote "${asked}"`);
    if (!unanswered.some(isReadable)) {
      return {
        drafts: [{ author: 'notice', text: settings.mediaReplyMessage }],
      };
    }
    const prompt = buildPrompt({
      systemPrompt: settings.systemPrompt,
      businessName: settings.businessName,
      history: history.map(toPromptEntry),
      newMessages: unanswered.map((m) => {
        const imageUrl = images.get(m.id);
        return imageUrl ? { ...toPromptEntry(m), imageUrl } : toPromptEntry(m);
      }),
    });
    try {
      const reply = await this.llm.complete(prompt, {
        tools: settings.handoffTool ? [HANDOFF_TOOL] : [],
      });
      this.events.publish({
        type: 'llm.called',
        promptTokens: reply.promptTokens ?? 0,
        completionTokens: reply.completionTokens ?? 0,
        failure: null,
      });
      const handoff = findHandoffCall(reply.toolCalls);
      if (handoff) {
        return this.handoffReply(
          handoff.reason ?? 'the assistant judged a person is needed',
        );
      }
      if (!reply.text) {
        throw new LlmError(
          'empty-answer',
          'the model called no tool it was offered and returned no text',
        );
      }
      const drafts = splitMessage(
        reply.text,
        this.config.conversation.maxMessageLength,
      ).map((text, index): OutboundDraft => ({
        author: 'bot',
        text,
        // Usage belongs to the reply as a whole: recorded on its first chunk.
        ...(index === 0 && {
          llm: {
            model: reply.model,
            promptTokens: reply.promptTokens,
            completionTokens: reply.completionTokens,
          },
        }),
      }));
      return { drafts };
    } catch (error) {
      const reason = error instanceof LlmError ? error.reason : 'unexpected';
      this.events.publish({
        type: 'llm.called',
        promptTokens: 0,
        completionTokens: 0,
        failure: reason,
      });
      this.logger.error(
        { ...log, reason, err: error instanceof LlmError ? undefined : error },
        `LLM failed (${error instanceof Error ? error.message : String(error)}); sending the fallback text`,
      );
      return {
        drafts: [{ author: 'fallback', text: settings.fallbackMessage }],
      };
    }
  }

  private handoffReply(reason: string | null): ComposedReply {
    return {
      drafts: [{ author: 'notice', text: this.config.handoff.message }],
      handoff: { state: 'handoff', actor: 'customer', reason },
    };
  }
}
