import {
  QueueCounts,
  ScheduleOptions,
  TurnQueue,
} from '../../src/turns/queue/turn.queue';

/** A turn queue that only records what was scheduled. */
export class RecordingQueue extends TurnQueue {
  readonly scheduled: Array<{ id: string; options?: ScheduleOptions }> = [];
  schedule(id: string, options?: ScheduleOptions) {
    this.scheduled.push({ id, options });
    return Promise.resolve();
  }
  counts(): Promise<QueueCounts> {
    return Promise.resolve({ waiting: 0, delayed: 0, active: 0, failed: 0 });
  }
  close() {
    return Promise.resolve();
  }
}
