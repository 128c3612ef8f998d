import { PriorityGate, urgently } from './priority-gate';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('PriorityGate', () => {
  it('admits one unit at a time, urgent work before normal work queued earlier', async () => {
    const gate = new PriorityGate();
    const order: string[] = [];
    const first = deferred();
    const running = gate.run(async () => {
      order.push('first');
      await first.promise;
    });
    const normal = gate.run(async () => {
      order.push('normal');
    });
    const urgent = urgently(() =>
      gate.run(async () => {
        order.push('urgent');
      }),
    );
    await Promise.resolve();
    expect(order).toEqual(['first']);
    expect(gate.queued).toEqual({ urgent: 1, normal: 1 });

    first.resolve();
    await Promise.all([running, normal, urgent]);
    expect(order).toEqual(['first', 'urgent', 'normal']);
  });

  it('keeps arrival order within a priority', async () => {
    const gate = new PriorityGate();
    const order: number[] = [];
    await Promise.all(
      [1, 2, 3, 4].map((n) =>
        gate.run(async () => {
          await new Promise((r) => setImmediate(r));
          order.push(n);
        }),
      ),
    );
    expect(order).toEqual([1, 2, 3, 4]);
  });

  it('lets the next unit in when one fails, and passes the failure on', async () => {
    const gate = new PriorityGate();
    const failing = gate.run(() => Promise.reject(new Error('boom')));
    const next = gate.run(() => Promise.resolve('next ran'));
    await expect(failing).rejects.toThrow('boom');
    await expect(next).resolves.toBe('next ran');
    expect(gate.queued).toEqual({ urgent: 0, normal: 0 });
  });

  it('takes turns when both kinds wait, so urgent work cannot starve the rest', async () => {
    const gate = new PriorityGate();
    const order: string[] = [];
    const first = deferred();
    const running = gate.run(() => first.promise);
    const units = [
      ...[1, 2, 3].map((n) =>
        urgently(() => gate.run(async () => order.push(`urgent ${n}`))),
      ),
      ...[1, 2].map((n) => gate.run(async () => order.push(`normal ${n}`))),
    ];
    first.resolve();
    await Promise.all([running, ...units]);
    expect(order).toEqual([
      'urgent 1',
      'normal 1',
      'urgent 2',
      'normal 2',
      'urgent 3',
    ]);
  });

  it('admits up to its capacity at once', async () => {
    const gate = new PriorityGate(2);
    const a = deferred();
    const b = deferred();
    let started = 0;
    const units = [a, b, deferred()].map((d, i) =>
      gate.run(async () => {
        started++;
        if (i < 2) await d.promise;
      }),
    );
    await new Promise((r) => setImmediate(r));
    expect(started).toBe(2);
    expect(gate.queued.normal).toBe(1);
    a.resolve();
    b.resolve();
    await Promise.all(units);
    expect(started).toBe(3);
  });

  it('counts as urgent only the work started inside urgently()', async () => {
    const gate = new PriorityGate();
    const first = deferred();
    const running = gate.run(() => first.promise);
    const urgent = urgently(() => gate.run(async () => 'urgent'));
    const later = gate.run(async () => 'normal');
    expect(gate.queued).toEqual({ urgent: 1, normal: 1 });
    first.resolve();
    await Promise.all([running, urgent, later]);
  });
});
