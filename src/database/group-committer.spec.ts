import { GroupCommitter } from './group-committer';

describe('GroupCommitter', () => {
  it('writes items submitted together in one batch, and gives each item its own result', async () => {
    const batches: number[][] = [];
    const committer = new GroupCommitter(async (items: number[]) => {
      batches.push(items);
      return items.map((n) => `${n} of ${items.length}`);
    });
    const results = await Promise.all(
      [1, 2, 3].map((n) => committer.submit(n)),
    );
    expect(batches).toEqual([[1, 2, 3]]);
    expect(results).toEqual(['1 of 3', '2 of 3', '3 of 3']);
  });

  it('rejects when a write does not answer every item, rather than leaving one unanswered', async () => {
    const committer = new GroupCommitter(async (items: number[]) =>
      items.slice(1),
    );
    await expect(committer.submit(1)).rejects.toThrow(
      'group write answered 0 of 1 items',
    );
  });

  it('gathers what arrives during a write into the next batch', async () => {
    const batches: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const committer = new GroupCommitter(async (items: number[]) => {
      batches.push(items);
      if (batches.length === 1) await gate;
      return items;
    });
    const first = committer.submit(1);
    await new Promise((r) => setImmediate(r));
    const later = [2, 3, 4].map((n) => committer.submit(n));
    release();
    await Promise.all([first, ...later]);
    expect(batches).toEqual([[1], [2, 3, 4]]);
  });

  it('caps the batch size', async () => {
    const sizes: number[] = [];
    const committer = new GroupCommitter(
      async (items: number[]) => {
        sizes.push(items.length);
        return items;
      },
      { maxBatch: 2 },
    );
    await Promise.all([1, 2, 3, 4, 5].map((n) => committer.submit(n)));
    expect(sizes).toEqual([2, 2, 1]);
  });

  it('caps a batch by the size of its items, and always takes the first one', async () => {
    const batches: number[][] = [];
    const committer = new GroupCommitter(
      async (items: number[]) => {
        batches.push(items);
        return items;
      },
      { maxBatch: 5, sizeOf: (n) => n },
    );
    await Promise.all([7, 2, 2, 1, 4, 3].map((n) => committer.submit(n)));
    expect(batches).toEqual([[7], [2, 2, 1], [4], [3]]);
  });

  it('keeps an item that writes what another item of the batch writes for a later batch, in order', async () => {
    const batches: string[][] = [];
    const committer = new GroupCommitter(
      async (items: string[]) => {
        batches.push(items);
        return items;
      },
      { keysOf: (item) => item.split('') },
    );
    await Promise.all(
      ['ab', 'cd', 'bx', 'ef', 'by'].map((i) => committer.submit(i)),
    );
    expect(batches).toEqual([['ab', 'cd', 'ef'], ['bx'], ['by']]);
  });

  it('fails only the item that cannot be written when a batch fails', async () => {
    const committer = new GroupCommitter(async (items: number[]) => {
      if (items.includes(13)) throw new Error('poison');
      return items.map(() => 'ok');
    });
    const outcomes = await Promise.allSettled(
      [1, 13, 2].map((n) => committer.submit(n)),
    );
    expect(outcomes.map((o) => o.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
  });

  it('with two writes in flight, starts the next batch while the first is still writing', async () => {
    const batches: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const committer = new GroupCommitter(
      async (items: number[]) => {
        batches.push(items);
        if (batches.length === 1) await gate;
        return items;
      },
      { maxInFlight: 2 },
    );
    const first = committer.submit(1);
    await new Promise((r) => setImmediate(r));
    const second = [2, 3].map((n) => committer.submit(n));
    await Promise.all(second);
    // The second batch is written although the first has not finished.
    expect(batches).toEqual([[1], [2, 3]]);
    const third = [4, 5].map((n) => committer.submit(n));
    await new Promise((r) => setImmediate(r));
    release();
    await Promise.all([first, ...third]);
    expect(batches).toEqual([[1], [2, 3], [4, 5]]);
  });
});
