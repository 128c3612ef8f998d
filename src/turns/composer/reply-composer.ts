import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import type {
  OutboundDraft,
  StateChange,
  TurnSnapshot,
} from '../../conversation/conversation.types';
import { ChatMessage, LlmError } from '../../llm/llm.provider';
import { ToolJournal, TurnRef, TurnStep } from '../tool-journal';
import { KnowledgeStep } from './knowledge-step';
import { LoopOutcome, ToolLoop } from './tool-loop';
import { splitMessage } from '../../whatsapp/split-message';
import { findHandoffKeyword } from '../gates/handoff-keywords';
import { buildPrompt } from './build-prompt';
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
    private readonly config: AppConfig,
    private readonly media: MediaStep,
    private readonly knowledge: KnowledgeStep,
    private readonly loop: ToolLoop,
    private readonly journal: ToolJournal,
  ) {}

  /**
   * `turnKey`: the reply's key, under which what the turn did (retrieval,
   * tool calls) is shown with it.
   */
  async compose(
    snapshot: TurnSnapshot,
    turnKey: string,
    log: object,
  ): Promise<ComposedReply> {
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
    const turn = {
      conversationId: snapshot.conversation.id,
      openedBy: unanswered[0].id,
      turnKey,
    };
    const withKnowledge = await this.knowledge.active(log);
    // What an earlier run of this turn did (retrieval, tool calls), read
    // only when there is something to replay.
    const recorded =
      withKnowledge || this.loop.hasCallableTools()
        ? await this.journal.open(turn)
        : [];
    const reference = withKnowledge
      ? await this.knowledge.reference(turn, unanswered, recorded, log)
      : null;
    const prompt = buildPrompt({
      reference,
      systemPrompt: settings.systemPrompt,
      businessName: settings.businessName,
      history: history.map(toPromptEntry),
      newMessages: unanswered.map((m) => {
        const imageUrl = images.get(m.id);
        return imageUrl ? { ...toPromptEntry(m), imageUrl } : toPromptEntry(m);
      }),
    });
    try {
      const outcome = await this.runLoop(prompt, snapshot, turn, recorded, log);
      if (outcome.kind === 'handoff') {
        return this.handoffReply(
          outcome.reason ?? 'the assistant judged a person is needed',
        );
      }
      const drafts = splitMessage(
        outcome.text,
        this.config.conversation.maxMessageLength,
      ).map((text, index): OutboundDraft => ({
        author: 'bot',
        text,
        // Usage belongs to the reply as a whole: recorded on its first chunk.
        ...(index === 0 && {
          llm: {
            model: outcome.model,
            promptTokens: outcome.promptTokens,
            completionTokens: outcome.completionTokens,
          },
        }),
      }));
      return { drafts };
    } catch (error) {
      const reason = error instanceof LlmError ? error.reason : 'unexpected';
      this.logger.error(
        { ...log, reason, err: error instanceof LlmError ? undefined : error },
        `LLM failed (${error instanceof Error ? error.message : String(error)}); sending the fallback text`,
      );
      return {
        drafts: [{ author: 'fallback', text: settings.fallbackMessage }],
      };
    }
  }

  /** The model's answer through the tool loop, on behalf of this conversation's customer. */
  private runLoop(
    prompt: ChatMessage[],
    snapshot: TurnSnapshot,
    turn: TurnRef,
    recorded: TurnStep[],
    log: object,
  ): Promise<LoopOutcome> {
    const { conversation } = snapshot;
    const customerId = conversation.customerWaId;
    return this.loop.run(
      prompt,
      turn,
      {
        conversationId: conversation.id,
        customerId,
        customerPhone: /^\d+$/.test(customerId) ? customerId : null,
        businessNumber: this.config.whatsapp.phoneNumberId,
      },
      log,
      recorded,
    );
  }

  private handoffReply(reason: string | null): ComposedReply {
    return {
      drafts: [{ author: 'notice', text: this.config.handoff.message }],
      handoff: { state: 'handoff', actor: 'customer', reason },
    };
  }
}
