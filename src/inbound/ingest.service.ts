import { Injectable, Logger } from '@nestjs/common';
import { DomainError } from '../common/domain.error';
import { ConversationConfig } from '../config/app-config';
import { DomainEvents } from '../events/domain-events';
import { TurnQueue } from '../turns/queue/turn.queue';
import { IngestStore } from './ingest.store';
import type { IngestBatch, IngestResult } from './ingest.types';

const NOTHING: IngestResult = {
  stored: 0,
  duplicates: 0,
  conversationsToAnswer: [],
  messagesToAnswer: [],
};

/**
 * Stores what a webhook carries before it is acknowledged (webhooks that
 * arrive together share one transaction, inside the store); once stored, a
 * turn is scheduled for every conversation that got something to answer,
 * carrying the webhook's correlation id.
 */
@Injectable()
export class IngestService {
  private readonly logger = new Logger(IngestService.name);

  constructor(
    private readonly store: IngestStore,
    private readonly queue: TurnQueue,
    private readonly settings: ConversationConfig,
    private readonly events: DomainEvents,
  ) {}

  async ingest(
    batch: IngestBatch,
    correlationId?: string,
  ): Promise<IngestResult> {
    const events =
      batch.messages.length + batch.statuses.length + batch.errors.length;
    if (events === 0) return NOTHING;
    let result: IngestResult;
    try {
      result = await this.store.ingest(
        batch,
        new Date(),
        this.settings.sessionTimeoutMs,
      );
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
    this.events.publish({
      type: 'messages.stored',
      stored: result.stored,
      duplicates: result.duplicates,
      statuses: batch.statuses.length,
      errors: batch.errors.length,
      conversationIds: result.conversationsToAnswer,
    });
    for (const error of batch.errors) {
      this.logger.warn(
        {
          correlationId,
          code: error.code,
          title: error.title,
          details: error.details,
        },
        'Meta reported an account or system error',
      );
    }
    // Not awaited: the events are stored, and the acknowledgement must not
    // wait on the queue (Redis may be slow or gone). A turn that could not be
    // scheduled is picked up by the pending-work sweep.
    const correlationIds = correlationId ? [correlationId] : [];
    for (const id of result.conversationsToAnswer) {
      this.queue.schedule(id, { correlationIds }).catch((error: unknown) => {
        this.logger.error(
          { err: error, conversationId: id, correlationId },
          'could not schedule a turn; the pending-work sweep will',
        );
      });
    }
    return result;
  }
}
