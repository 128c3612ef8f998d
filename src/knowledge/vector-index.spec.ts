import { VectorIndex } from './vector-index';

const v = (...xs: number[]) => Float32Array.from(xs);

describe('VectorIndex', () => {
  const index = new VectorIndex(
    [10, 11, 12, 13],
    [v(1, 0), v(0, 1), v(1, 1), v(-1, 0)],
  );

  it('ranks by cosine similarity, whatever the vectors’ lengths', () => {
    const hits = index.search(v(2, 0.2), 4);
    expect(hits.map((h) => h.id)).toEqual([10, 12, 11, 13]);
    expect(hits[0].score).toBeCloseTo(0.995, 3);
    expect(hits[3].score).toBeCloseTo(-0.995, 3);
  });

  it('gives the k best only', () => {
    expect(index.search(v(0, 1), 2).map((h) => h.id)).toEqual([11, 12]);
    expect(index.search(v(0, 1), 0)).toEqual([]);
  });

  it('skips vectors of another length and answers nothing to a query of another length', () => {
    const mixed = new VectorIndex([1, 2], [v(1, 0), v(1, 0, 0)]);
    expect(mixed.size).toBe(1);
    expect(mixed.search(v(1, 0, 0), 5)).toEqual([]);
    expect(new VectorIndex([], []).search(v(1), 3)).toEqual([]);
  });
});
