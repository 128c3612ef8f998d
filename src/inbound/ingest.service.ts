import { Injectable, Logger } from '@nestjs/common';
import { DomainError } from '../common/domain.error';
import { AppConfig } from '../config/app-config';
import { DomainEvents } from '../events/domain-events';
import { IngestStore } from './ingest.store';
import type { IngestBatch, IngestResult } from './ingest.types';
import { GroupCommitter } from '../database/group-committer';
import { TurnQueue } from '../turns/queue/turn.queue';

interface Submission {
  batch: IngestBatch;
  correlationId?: string;
}

/**
 * Stores what webhooks carry before they are acknowledged. Webhooks that
 * arrive together share one transaction; once it commits, a turn is
 * scheduled for every conversation that got something to answer.
 */
@Injectable()
export class IngestService {
  private readonly logger = new Logger(IngestService.name);
  // Two batches in flight: one being written while the next waits at the
  // database, so it never idles between batches.
  // Every webhook of a batch gets the batch's result.
  private readonly committer = new GroupCommitter<Submission, IngestResult>(
    async (items) => {
      const result = await this.write(items);
      return items.map(() => result);
    },
    { maxBatch: 256, maxInFlight: 2 },
  );

  constructor(
    private readonly store: IngestStore,
    private readonly queue: TurnQueue,
    private readonly config: AppConfig,
    private readonly events: DomainEvents,
  ) {}

  async ingest(
    batch: IngestBatch,
    correlationId?: string,
  ): Promise<IngestResult> {
    if (
      batch.messages.length + batch.statuses.length + batch.errors.length ===
      0
    ) {
      return {
        stored: 0,
        duplicates: 0,
        conversationsToAnswer: [],
        messagesToAnswer: [],
      };
    }
    try {
      return await this.committer.submit({ batch, correlationId });
    } catch (error) {
      this.logger.error(
        { err: error, correlationId },
        'could not store webhook events; answering 503 so that Meta delivers them again',
      );
      throw new DomainError(
        'Events could not be stored; please retry',
        'storage-unavailable',
      );
    }
  }

  private async write(items: Submission[]): Promise<IngestResult> {
    const merged: IngestBatch = {
      messages: items.flatMap((i) => i.batch.messages),
      statuses: items.flatMap((i) => i.batch.statuses),
      errors: items.flatMap((i) => i.batch.errors),
    };
    const result = await this.store.ingest(
      merged,
      new Date(),
      this.config.conversation.sessionTimeoutMs,
    );
    this.events.publish({
      type: 'messages.stored',
      stored: result.stored,
      duplicates: result.duplicates,
      statuses: merged.statuses.length,
      errors: merged.errors.length,
      conversationIds: result.conversationsToAnswer,
    });
    for (const error of merged.errors) {
      this.logger.warn(
        { code: error.code, title: error.title, details: error.details },
        'Meta reported an account or system error',
      );
    }
    const correlationIds = correlationIdsByConversation(items, result);
    // Not awaited: the events are stored, and the acknowledgement must not
    // wait on the queue (Redis may be slow or gone). A turn that could not be
    // scheduled is picked up by the pending-work sweep.
    for (const id of result.conversationsToAnswer) {
      this.queue
        .schedule(id, { correlationIds: correlationIds.get(id) ?? [] })
        .catch((error: unknown) => {
          this.logger.error(
            { err: error, conversationId: id },
            'could not schedule a turn; the pending-work sweep will',
          );
        });
    }
    return result;
  }
}

/**
 * For each conversation with something to answer, the ids of the webhooks
 * (of those written together) whose new messages went to it, in arrival
 * order: each webhook's id follows its own messages.
 */
function correlationIdsByConversation(
  items: Submission[],
  result: IngestResult,
): Map<string, string[]> {
  const webhookOf = new Map<string, string>();
  for (const { batch, correlationId } of items) {
    if (!correlationId) continue;
    for (const message of batch.messages) {
      // A message re-delivered within the group keeps its first webhook.
      if (!webhookOf.has(message.wamid))
        webhookOf.set(message.wamid, correlationId);
    }
  }
  const byConversation = new Map<string, string[]>();
  for (const { wamid, conversationId } of result.messagesToAnswer) {
    const correlationId = webhookOf.get(wamid);
    if (!correlationId) continue;
    const ids = byConversation.get(conversationId) ?? [];
    if (!ids.includes(correlationId)) ids.push(correlationId);
    byConversation.set(conversationId, ids);
  }
  return byConversation;
}
