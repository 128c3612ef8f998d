import { Injectable, Logger } from '@nestjs/common';
import { maskPhoneNumber } from '../common/phone-number';
import { AppConfig } from '../config/app-config';
import { buildPrompt, PromptEntry } from './composer/build-prompt';
import { LlmError, LlmProvider } from '../llm/llm.provider';
import { MetricsService } from '../metrics/metrics.service';
import { splitMessage } from '../whatsapp/split-message';
import { WhatsappClient } from '../whatsapp/whatsapp.client';
import { ConversationRepository } from '../conversation/conversation.repository';
import {
  Message,
  OutboundDraft,
  StateChange,
  TurnSnapshot,
} from '../conversation/conversation.types';
import { findHandoffKeyword } from './gates/handoff-keywords';
import { OutboundService } from '../outbound/outbox.service';

export interface TurnOutcome {
  status: 'replied' | 'idle' | 'paused' | 'throttled' | 'raced' | 'missing';
  /** Run the conversation again after this long (flood control). */
  retryAfterMs?: number;
}

const FLOOD_WINDOW_MS = 60_000;

const MEDIA_LABELS: Record<string, string> = {
  image: 'an image',
  video: 'a video',
  audio: 'an audio message',
  document: 'a document',
  sticker: 'a sticker',
};

const ATTACHMENT_NOT_SHOWN =
  '(The attachment itself is not available to you, only its caption: do not describe its content.)';

/** How a stored message reads in the prompt. */
export function toPromptEntry(message: Message): PromptEntry {
  if (message.direction === 'outbound') {
    return { from: 'business', text: message.text ?? '' };
  }
  if (message.replyAction === 'llm' && message.kind in MEDIA_LABELS) {
    // A caption, labelled with what was attached ("[image] …"): the model
    // is told it has only the caption, so it does not pretend to see more.
    return {
      from: 'customer',
      text: `${message.text ?? ''}\n${ATTACHMENT_NOT_SHOWN}`,
    };
  }
  if (message.replyAction === 'media-notice') {
    const what = MEDIA_LABELS[message.kind] ?? `a ${message.kind}`;
    const caption = message.text ? ` with the caption: ${message.text}` : '';
    return { from: 'customer', text: `[The customer sent ${what}${caption}]` };
  }
  return { from: 'customer', text: message.text ?? '' };
}

/**
 * One turn of a conversation: answer every unanswered inbound message with
 * one reply. The reply is recorded together with marking the messages
 * answered, before anything is sent, so running a turn twice sends nothing
 * twice; unsent messages from an interrupted turn go out first.
 */
@Injectable()
export class TurnService {
  private readonly logger = new Logger(TurnService.name);

  constructor(
    private readonly repository: ConversationRepository,
    private readonly llm: LlmProvider,
    private readonly whatsapp: WhatsappClient,
    private readonly outbound: OutboundService,
    private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {}

  /**
   * `correlationIds`: the request ids of the webhooks whose messages this
   * turn answers, named in its log lines and its sends'.
   */
  async run(
    conversationId: string,
    correlationIds: string[] = [],
  ): Promise<TurnOutcome> {
    const started = Date.now();
    let snapshot = await this.load(conversationId);
    if (!snapshot) return { status: 'missing' };
    const { conversation } = snapshot;
    const log = {
      conversationId,
      correlationIds,
      customer: maskPhoneNumber(conversation.customerWaId),
    };

    // What an interrupted turn recorded goes out first; then read again,
    // since sending changed what the context and the flood count hold.
    const pending = snapshot.unsent.filter((m) => m.status === 'pending');
    if (pending.length > 0) {
      await this.outbound.send(conversation, pending, log);
      snapshot = await this.load(conversationId);
      if (!snapshot) return { status: 'missing' };
    }
    const { unanswered } = snapshot;
    if (unanswered.length === 0) return { status: 'idle' };
    if (snapshot.conversation.state === 'handoff') {
      return { status: 'paused' };
    }

    const wait = this.floodWait(snapshot.recentTurnTimes, Date.now());
    if (wait > 0) {
      this.logger.log(
        { ...log, waitMs: wait },
        'customer reached the turn limit; answering later',
      );
      this.metrics.turns.inc({ outcome: 'throttled' });
      return { status: 'throttled', retryAfterMs: wait };
    }

    const newest = unanswered[unanswered.length - 1];
    if (newest.wamid) void this.whatsapp.markRead(newest.wamid, true);

    const { drafts, handoff } = await this.compose(snapshot, log);
    const turnKey = `${conversationId}:${newest.id}`;
    const recorded = await this.repository.recordReply(
      conversationId,
      unanswered.map((m) => m.id),
      turnKey,
      drafts,
      new Date(),
      handoff,
    );
    if (!recorded) {
      this.metrics.turns.inc({ outcome: 'raced' });
      return { status: 'raced' };
    }
    const report = await this.outbound.send(conversation, recorded, log);
    this.metrics.turns.inc({
      outcome: handoff ? 'handoff' : (drafts[0]?.author ?? 'none'),
    });
    if (handoff) {
      this.logger.log(
        { ...log, reason: handoff.reason },
        'customer asked for a person: conversation handed off',
      );
    }
    this.metrics.turnSeconds.observe((Date.now() - started) / 1000);
    this.logger.log(
      {
        ...log,
        turnKey,
        answered: unanswered.length,
        wamids: unanswered.map((m) => m.wamid),
        author: drafts[0]?.author,
        chunks: drafts.length,
        sent: report.sent.length,
        failed: report.failed.length,
      },
      'turn done',
    );
    return { status: 'replied' };
  }

  private load(conversationId: string): Promise<TurnSnapshot | null> {
    return this.repository.loadTurn(
      conversationId,
      this.config.conversation.contextMessages,
      new Date(Date.now() - FLOOD_WINDOW_MS),
    );
  }

  /** How long the customer must wait for the next turn (0: none). */
  private floodWait(turnTimes: Date[], now: number): number {
    const limit = this.config.conversation.turnsPerMinute;
    if (turnTimes.length < limit) return 0;
    const oldestCounted = turnTimes[turnTimes.length - limit].getTime();
    return Math.max(1, oldestCounted + FLOOD_WINDOW_MS - now);
  }

  private async compose(
    { unanswered, history }: TurnSnapshot,
    log: object,
  ): Promise<{ drafts: OutboundDraft[]; handoff?: StateChange }> {
    const settings = this.config.llm;
    const handoffReply = (reason: string | null) => ({
      drafts: [
        { author: 'notice' as const, text: this.config.handoff.message },
      ],
      handoff: {
        state: 'handoff' as const,
        actor: 'customer' as const,
        reason,
      },
    });
    const asked = unanswered
      .map((m) =>
        m.replyAction === 'llm' && m.text
          ? findHandoffKeyword(m.text, this.config.handoff.keywords)
          : null,
      )
      .find(Boolean);
    if (asked) return handoffReply(`customer wrote "${asked}"`);
    if (!unanswered.some((m) => m.replyAction === 'llm')) {
      return {
        drafts: [{ author: 'notice', text: settings.mediaReplyMessage }],
      };
    }
    const prompt = buildPrompt({
      systemPrompt: settings.systemPrompt,
      businessName: settings.businessName,
      history: history.map(toPromptEntry),
      newMessages: unanswered.map(toPromptEntry),
    });
    try {
      const reply = await this.llm.complete(prompt, {
        offerHandoff: settings.handoffTool,
      });
      this.metrics.llmTokens.inc({ kind: 'prompt' }, reply.promptTokens ?? 0);
      this.metrics.llmTokens.inc(
        { kind: 'completion' },
        reply.completionTokens ?? 0,
      );
      if (reply.handoff) {
        return handoffReply(
          reply.handoff.reason ?? 'the assistant judged a person is needed',
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
      this.metrics.llmFailures.inc({ reason });
      this.logger.error(
        { ...log, reason, err: error instanceof LlmError ? undefined : error },
        `LLM failed (${error instanceof Error ? error.message : String(error)}); sending the fallback text`,
      );
      return {
        drafts: [{ author: 'fallback', text: settings.fallbackMessage }],
      };
    }
  }
}
