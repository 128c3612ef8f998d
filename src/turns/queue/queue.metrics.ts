import { Injectable, OnModuleInit } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { MetricsService } from '../../metrics/metrics.service';
import { TurnQueue } from './turn.queue';

/** Exposes the turn queue's depth at /metrics, read at scrape time. */
@Injectable()
export class QueueMetrics implements OnModuleInit {
  constructor(
    private readonly metrics: MetricsService,
    private readonly queue: TurnQueue,
  ) {}

  onModuleInit() {
    const queue = this.queue;
    new Gauge({
      name: 'clariops_turn_queue_jobs',
      help: 'Turns in the queue, by state (waiting, delayed, active, failed = dead letters)',
      labelNames: ['state'] as const,
      registers: [this.metrics.registry],
      async collect() {
        try {
          const counts = await queue.counts();
          for (const [state, value] of Object.entries(counts))
            this.set({ state }, value);
        } catch {
          // Redis unreachable: leave the last values; health reports it.
        }
      },
    });
  }
}
