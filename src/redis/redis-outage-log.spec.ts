import { RedisOutageLog } from './redis-outage-log';

class CapturingLogger {
  readonly errors: string[] = [];
  readonly logs: string[] = [];
  error(_fields: unknown, message: string) {
    this.errors.push(message);
  }
  log(message: string) {
    this.logs.push(message);
  }
}

const refused = () => new Error('connect ECONNREFUSED 127.0.0.1:6379');

describe('RedisOutageLog', () => {
  let logger: CapturingLogger;
  let outages: RedisOutageLog;
  const queue = {};
  const worker = {};

  beforeEach(() => {
    logger = new CapturingLogger();
    outages = new RedisOutageLog(logger);
  });

  it('logs the loss once however many connections fail and however often, and the recovery once', () => {
    for (let attempt = 0; attempt < 20; attempt++) {
      outages.failed(queue, refused());
      outages.failed(worker, refused());
    }
    expect(logger.errors).toEqual([
      'Redis connection lost (connect ECONNREFUSED 127.0.0.1:6379); reconnecting, and not logging each attempt until it is back',
    ]);
    expect(outages.down).toBe(true);

    // Back only when every connection that failed is ready again.
    outages.ready(queue);
    expect(logger.logs).toEqual([]);
    outages.ready(worker);
    expect(logger.logs).toHaveLength(1);
    expect(logger.logs[0]).toMatch(
      /^Redis connection is back after \d+\.\d s$/,
    );
    expect(outages.down).toBe(false);
    expect(logger.errors).toHaveLength(1);
  });

  it('logs nothing when a connection that never failed becomes ready', () => {
    outages.ready(queue);
    expect([...logger.errors, ...logger.logs]).toEqual([]);
  });

  it('logs each new outage', () => {
    outages.failed(queue, refused());
    outages.ready(queue);
    outages.failed(queue, new Error('read ECONNRESET'));
    expect(logger.errors).toHaveLength(2);
    expect(logger.errors[1]).toContain('read ECONNRESET');
    expect(logger.logs).toHaveLength(1);
  });

  it('ends an outage without a recovery line when the failed connection is closed, or when closing on purpose', () => {
    outages.failed(queue, refused());
    outages.ended(queue);
    expect(outages.down).toBe(false);
    expect(logger.logs).toEqual([]);

    outages.failed(worker, refused());
    outages.close();
    outages.ready(worker);
    outages.failed(queue, refused());
    expect(logger.errors).toHaveLength(2);
    expect(logger.logs).toEqual([]);
  });
});
