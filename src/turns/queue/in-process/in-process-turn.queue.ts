import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../../../config/app-config';
import {
  addCorrelationIds,
  QueueCounts,
  ScheduleOptions,
  TurnQueue,
} from '../turn.queue';
import { TurnService } from '../../turn.service';

interface Slot {
  timer: NodeJS.Timeout | null;
  firstAt: number;
  dueAt: number;
  running: boolean;
  again: boolean;
  failures: number;
  /** The webhooks whose messages the coming run answers. */
  correlationIds: string[];
  /** Those that arrived during the run: the run after it answers them. */
  laterCorrelationIds: string[];
}

const MAX_FAILURES = 5;
const RETRY_BASE_MS = 1000;

/**
 * Turns in this process: a debounce timer per conversation, never two turns
 * of one conversation at once, at most TURN_CONCURRENCY turns at a time. A
 * failed turn is retried with backoff; after that the periodic sweep of
 * pending work picks it up again, so nothing stored is ever dropped.
 */
@Injectable()
export class InProcessTurnQueue extends TurnQueue {
  private readonly logger = new Logger(InProcessTurnQueue.name);
  private readonly slots = new Map<string, Slot>();
  private readonly ready: string[] = [];
  private readonly running = new Set<Promise<void>>();
  private active = 0;
  private gaveUp = 0;
  private closed = false;
  private readonly debounceMs: number;
  private readonly maxWaitMs: number;
  private readonly concurrency: number;

  constructor(
    private readonly turns: TurnService,
    config: AppConfig,
  ) {
    super();
    this.debounceMs = config.conversation.replyDebounceMs;
    this.concurrency = config.turnConcurrency;
    // A customer who keeps typing still gets an answer within this bound.
    this.maxWaitMs = Math.max(this.debounceMs * 5, this.debounceMs + 2000);
  }

  schedule(
    conversationId: string,
    options: ScheduleOptions = {},
  ): Promise<void> {
    if (this.closed) return Promise.resolve();
    const now = Date.now();
    const wanted = now + (options.delayMs ?? this.debounceMs);
    const slot = this.slots.get(conversationId);
    if (!slot) {
      this.slots.set(conversationId, {
        timer: null,
        firstAt: now,
        dueAt: wanted,
        running: false,
        again: false,
        failures: 0,
        correlationIds: addCorrelationIds([], options.correlationIds),
        laterCorrelationIds: [],
      });
      this.arm(conversationId);
    } else if (slot.running) {
      slot.again = true;
      addCorrelationIds(slot.laterCorrelationIds, options.correlationIds);
    } else {
      slot.dueAt = Math.max(
        slot.dueAt,
        Math.min(wanted, slot.firstAt + this.maxWaitMs),
      );
      addCorrelationIds(slot.correlationIds, options.correlationIds);
      this.arm(conversationId);
    }
    return Promise.resolve();
  }

  counts(): Promise<QueueCounts> {
    let delayed = 0;
    for (const slot of this.slots.values()) if (slot.timer) delayed++;
    return Promise.resolve({
      waiting: this.ready.length,
      delayed,
      active: this.active,
      failed: this.gaveUp,
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const slot of this.slots.values()) {
      if (slot.timer) clearTimeout(slot.timer);
    }
    await Promise.allSettled(this.running);
  }

  private arm(id: string) {
    const slot = this.slots.get(id)!;
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = setTimeout(
      () => {
        slot.timer = null;
        this.ready.push(id);
        this.pump();
      },
      Math.max(0, slot.dueAt - Date.now()),
    );
    slot.timer.unref?.();
  }

  private pump() {
    while (
      !this.closed &&
      this.active < this.concurrency &&
      this.ready.length > 0
    ) {
      const id = this.ready.shift()!;
      const slot = this.slots.get(id);
      if (!slot || slot.running) continue;
      slot.running = true;
      this.active++;
      const run = this.runTurn(id, slot).finally(() => {
        this.active--;
        this.running.delete(run);
        this.pump();
      });
      this.running.add(run);
    }
  }

  private async runTurn(id: string, slot: Slot): Promise<void> {
    let retryAfterMs: number | undefined;
    let failures = 0;
    try {
      const outcome = await this.turns.run(id, slot.correlationIds);
      retryAfterMs = outcome.retryAfterMs;
    } catch (error) {
      failures = slot.failures + 1;
      if (failures <= MAX_FAILURES) {
        retryAfterMs =
          RETRY_BASE_MS * 2 ** (failures - 1) * (0.5 + Math.random() / 2);
        this.logger.warn(
          { err: error, conversationId: id, failures },
          `turn failed; retrying in ${Math.round(retryAfterMs)} ms`,
        );
      } else {
        this.gaveUp += 1;
        this.logger.error(
          { err: error, conversationId: id, failures },
          'turn failed repeatedly; leaving it to the pending-work sweep',
        );
      }
    }
    this.slots.delete(id);
    if (this.closed) return;
    if (retryAfterMs !== undefined || slot.again) {
      // A run again (retried or deferred) still owes its own webhooks.
      const correlationIds =
        retryAfterMs !== undefined
          ? addCorrelationIds(slot.correlationIds, slot.laterCorrelationIds)
          : slot.laterCorrelationIds;
      await this.schedule(id, {
        delayMs: retryAfterMs ?? this.debounceMs,
        correlationIds,
      });
      const next = this.slots.get(id);
      if (next) next.failures = failures;
    }
  }
}
