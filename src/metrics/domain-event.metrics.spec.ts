import { InProcessDomainEvents } from '../events/in-process-domain.events';
import { DomainEventMetrics } from './domain-event.metrics';
import { MetricsService } from './metrics.service';

/** The value of a counter (or a histogram's count) with these labels. */
async function valueOf(
  metrics: MetricsService,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = await metrics.registry.getSingleMetric(name)?.get();
  const match = metric?.values.find((v) =>
    Object.entries(labels).every(
      ([k, value]) => (v.labels as Record<string, unknown>)[k] === value,
    ),
  );
  return match?.value ?? 0;
}

describe('DomainEventMetrics', () => {
  let events: InProcessDomainEvents;
  let metrics: MetricsService;
  let subscriber: DomainEventMetrics;

  beforeEach(() => {
    events = new InProcessDomainEvents();
    metrics = new MetricsService();
    subscriber = new DomainEventMetrics(events, metrics);
  });
  afterEach(() => subscriber.onModuleDestroy());

  it('counts stored webhook events by type', async () => {
    events.publish({
      type: 'messages.stored',
      stored: 3,
      duplicates: 1,
      statuses: 2,
      errors: 1,
      conversationIds: [],
    });
    const of = (type: string) =>
      valueOf(metrics, 'clariops_webhook_events_total', { type });
    expect(await of('message')).toBe(3);
    expect(await of('duplicate')).toBe(1);
    expect(await of('status')).toBe(2);
    expect(await of('error')).toBe(1);
  });

  it('counts media failures by kind and reason', async () => {
    const failed = (kind: string, reason: string) =>
      events.publish({
        type: 'media.failed',
        conversationId: 'c',
        messageId: 1,
        kind,
        reason,
      });
    failed('audio', 'transcription-failed');
    failed('audio', 'transcription-failed');
    failed('image', 'wrong-type');
    const of = (kind: string, reason: string) =>
      valueOf(metrics, 'clariops_media_failures_total', { kind, reason });
    expect(await of('audio', 'transcription-failed')).toBe(2);
    expect(await of('image', 'wrong-type')).toBe(1);
  });

  it('counts sends by author and failures by code', async () => {
    const base = { conversationId: 'c', messageId: 1, wamid: null };
    events.publish({
      ...base,
      type: 'message.sent',
      author: 'bot',
      code: null,
    });
    events.publish({
      ...base,
      type: 'message.failed',
      author: 'bot',
      code: '131026',
    });
    expect(
      await valueOf(metrics, 'clariops_messages_sent_total', { author: 'bot' }),
    ).toBe(1);
    expect(
      await valueOf(metrics, 'clariops_send_failures_total', {
        code: '131026',
      }),
    ).toBe(1);
  });

  it('counts turns by outcome, and times only those that sent something', async () => {
    events.publish({
      type: 'turn.done',
      conversationId: 'c',
      outcome: 'bot',
      durationMs: 250,
    });
    events.publish({
      type: 'turn.done',
      conversationId: 'c',
      outcome: 'throttled',
      durationMs: null,
    });
    expect(
      await valueOf(metrics, 'clariops_turns_total', { outcome: 'bot' }),
    ).toBe(1);
    expect(
      await valueOf(metrics, 'clariops_turns_total', { outcome: 'throttled' }),
    ).toBe(1);
    const histogram = await metrics.registry
      .getSingleMetric('clariops_turn_seconds')
      ?.get();
    const count = histogram?.values.find(
      (v) =>
        (v as { metricName?: string }).metricName ===
        'clariops_turn_seconds_count',
    );
    expect(count?.value).toBe(1);
  });

  it('counts LLM tokens of answers and failures by reason', async () => {
    events.publish({
      type: 'llm.called',
      promptTokens: 40,
      completionTokens: 9,
      failure: null,
    });
    events.publish({
      type: 'llm.called',
      promptTokens: 0,
      completionTokens: 0,
      failure: 'timeout',
    });
    expect(
      await valueOf(metrics, 'clariops_llm_tokens_total', { kind: 'prompt' }),
    ).toBe(40);
    expect(
      await valueOf(metrics, 'clariops_llm_tokens_total', {
        kind: 'completion',
      }),
    ).toBe(9);
    expect(
      await valueOf(metrics, 'clariops_llm_failures_total', {
        reason: 'timeout',
      }),
    ).toBe(1);
  });

  it('counts handoffs and resumes by state and actor', async () => {
    events.publish({
      type: 'conversation.state-changed',
      conversationId: 'c',
      state: 'handoff',
      actor: 'customer',
      reason: null,
    });
    expect(
      await valueOf(metrics, 'clariops_conversation_state_changes_total', {
        state: 'handoff',
        actor: 'customer',
      }),
    ).toBe(1);
  });
});
