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

  it('does not make work scheduled after an urgent unit urgent', async () => {
    const gate = new PriorityGate();
    const order: string[] = [];
    const first = deferred();
    const running = gate.run(() => first.promise);
    const urgent = urgently(() => gate.run(async () => order.push('urgent')));
    // Outside the urgent call: normal, even though it is queued after.
    const later = gate.run(async () => {
      order.push('normal');
    });
    const alsoUrgent = urgently(() =>
      gate.run(async () => order.push('urgent 2')),
    );
    first.resolve();
    await Promise.all([running, urgent, later, alsoUrgent]);
    expect(order).toEqual(['urgent', 'urgent 2', 'normal']);
  });
});
