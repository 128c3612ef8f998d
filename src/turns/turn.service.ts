import { Injectable, Logger } from '@nestjs/common';
import { maskPhoneNumber } from '../common/phone-number';
import { ConversationConfig } from '../config/app-config';
import type { TurnSnapshot } from '../conversation/conversation.types';
import { DomainEvents } from '../events/domain-events';
import { OutboxService } from '../outbound/outbox.service';
import { WhatsappClient } from '../whatsapp/whatsapp.client';
import { ReplyComposer } from './composer/reply-composer';
import { checkGates, FLOOD_WINDOW_MS } from './gates/turn-gates';
import { TurnStore } from './turn.store';

export interface TurnOutcome {
  status: 'replied' | 'idle' | 'paused' | 'throttled' | 'raced' | 'missing';
  /** Run the conversation again after this long (flood control). */
  retryAfterMs?: number;
}

/**
 * One turn of a conversation: answer every unanswered inbound message with
 * one reply. Unsent messages of an interrupted turn go out first; then the
 * gates decide whether to answer now, the composer builds the reply, and
 * the reply is recorded together with marking the messages answered, before
 * anything is sent, so running a turn twice sends nothing twice.
 */
@Injectable()
export class TurnService {
  private readonly logger = new Logger(TurnService.name);

  constructor(
    private readonly store: TurnStore,
    private readonly composer: ReplyComposer,
    private readonly whatsapp: WhatsappClient,
    private readonly outbox: OutboxService,
    private readonly settings: ConversationConfig,
    private readonly events: DomainEvents,
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
      await this.outbox.send(conversation, pending, log);
      snapshot = await this.load(conversationId);
      if (!snapshot) return { status: 'missing' };
    }

    const verdict = checkGates(
      snapshot,
      this.settings.turnsPerMinute,
      Date.now(),
    );
    if (verdict?.status === 'throttled') {
      this.logger.log(
        { ...log, waitMs: verdict.retryAfterMs },
        'customer reached the turn limit; answering later',
      );
      this.done(conversationId, 'throttled', null);
      return verdict;
    }
    if (verdict) return verdict;

    const { unanswered } = snapshot;
    const newest = unanswered[unanswered.length - 1];
    if (newest.wamid) void this.whatsapp.markRead(newest.wamid, true);

    const turnKey = `${conversationId}:${newest.id}`;
    const { drafts, handoff } = await this.composer.compose(
      snapshot,
      turnKey,
      log,
    );
    const recorded = await this.store.recordReply(
      conversationId,
      unanswered.map((m) => m.id),
      turnKey,
      drafts,
      new Date(),
      handoff,
    );
    if (!recorded) {
      this.done(conversationId, 'raced', null);
      return { status: 'raced' };
    }
    if (handoff) {
      this.events.publish({
        type: 'conversation.state-changed',
        conversationId,
        state: handoff.state,
        actor: handoff.actor,
        reason: handoff.reason,
      });
      this.logger.log(
        { ...log, reason: handoff.reason },
        'customer asked for a person: conversation handed off',
      );
    }
    const report = await this.outbox.send(conversation, recorded, log);
    this.done(
      conversationId,
      handoff ? 'handoff' : (drafts[0]?.author ?? 'none'),
      Date.now() - started,
    );
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
    return this.store.loadTurn(
      conversationId,
      this.settings.contextMessages,
      new Date(Date.now() - FLOOD_WINDOW_MS),
    );
  }

  private done(conversationId: string, outcome: string, ms: number | null) {
    this.events.publish({
      type: 'turn.done',
      conversationId,
      outcome,
      durationMs: ms,
    });
  }
}
