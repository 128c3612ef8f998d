import { Injectable } from '@nestjs/common';
import {
  Counter,
  Histogram,
  Registry,
  collectDefaultMetrics,
} from 'prom-client';

/**
 * The Prometheus registry and the service's own metrics. One registry per
 * application instance, so tests that start several apps do not collide.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly webhookEvents = new Counter({
    name: 'clariops_webhook_events_total',
    help: 'Webhook events stored, by type (message, duplicate, status, error)',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });

  readonly webhookAckSeconds = new Histogram({
    name: 'clariops_webhook_ack_seconds',
    help: 'Time from receiving a webhook to acknowledging it',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly turns = new Counter({
    name: 'clariops_turns_total',
    help: 'Conversation turns run, by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly turnSeconds = new Histogram({
    name: 'clariops_turn_seconds',
    help: 'Duration of a turn, from start to the last chunk sent',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly mediaFailures = new Counter({
    name: 'clariops_media_failures_total',
    help: 'Inbound media a turn could not understand (answered with the media notice), by message kind and reason',
    labelNames: ['kind', 'reason'] as const,
    registers: [this.registry],
  });

  readonly toolCalls = new Counter({
    name: 'clariops_tool_calls_total',
    help: 'Tool calls the model made in turns, by tool and outcome (ok | error)',
    labelNames: ['tool', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly llmFailures = new Counter({
    name: 'clariops_llm_failures_total',
    help: 'LLM calls that failed and were answered with the fallback text, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly llmTokens = new Counter({
    name: 'clariops_llm_tokens_total',
    help: 'LLM tokens used, by kind (prompt, completion)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly messagesSent = new Counter({
    name: 'clariops_messages_sent_total',
    help: 'Outbound WhatsApp messages accepted by the Graph API, by author',
    labelNames: ['author'] as const,
    registers: [this.registry],
  });

  readonly sendFailures = new Counter({
    name: 'clariops_send_failures_total',
    help: 'Outbound WhatsApp messages that failed for good, by Graph error code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });

  readonly stateChanges = new Counter({
    name: 'clariops_conversation_state_changes_total',
    help: 'Conversations handed to a person or given back to the bot, by new state and actor',
    labelNames: ['state', 'actor'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
