import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { DomainEvent, DomainEvents } from '../events/domain-events';
import { MetricsService } from './metrics.service';

/** The service's counters, kept from the domain events as they are published. */
@Injectable()
export class DomainEventMetrics implements OnModuleDestroy {
  private readonly unsubscribe: () => void;

  constructor(
    events: DomainEvents,
    private readonly metrics: MetricsService,
  ) {
    this.unsubscribe = events.subscribe((event) => this.count(event));
  }

  onModuleDestroy() {
    this.unsubscribe();
  }

  private count(event: DomainEvent): void {
    const m = this.metrics;
    switch (event.type) {
      case 'messages.stored':
        m.webhookEvents.inc({ type: 'message' }, event.stored);
        m.webhookEvents.inc({ type: 'duplicate' }, event.duplicates);
        m.webhookEvents.inc({ type: 'status' }, event.statuses);
        m.webhookEvents.inc({ type: 'error' }, event.errors);
        return;
      case 'message.sent':
        m.messagesSent.inc({ author: event.author });
        return;
      case 'message.failed':
        m.sendFailures.inc({ code: event.code ?? 'unknown' });
        return;
      case 'turn.done':
        m.turns.inc({ outcome: event.outcome });
        if (event.durationMs !== null) {
          m.turnSeconds.observe(event.durationMs / 1000);
        }
        return;
      case 'llm.called':
        if (event.failure) {
          m.llmFailures.inc({ reason: event.failure });
          return;
        }
        m.llmTokens.inc({ kind: 'prompt' }, event.promptTokens);
        m.llmTokens.inc({ kind: 'completion' }, event.completionTokens);
        return;
      case 'media.failed':
        m.mediaFailures.inc({ kind: event.kind, reason: event.reason });
        return;
      case 'tool.called':
        m.toolCalls.inc({
          tool: event.tool,
          outcome: event.ok ? 'ok' : 'error',
        });
        return;
      case 'conversation.state-changed':
        m.stateChanges.inc({ state: event.state, actor: event.actor });
        return;
    }
  }
}
