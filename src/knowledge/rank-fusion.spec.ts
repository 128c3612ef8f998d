import { reciprocalRankFusion } from './rank-fusion';

describe('reciprocalRankFusion', () => {
  it('puts an item ranked well by both lists above one ranked first by only one', () => {
    const fused = reciprocalRankFusion([
      ['a', 'b', 'c'],
      ['d', 'b', 'a'],
    ]);
    expect(fused.map((f) => f.id)).toEqual(['a', 'b', 'd', 'c']);
  });

  it('scores 1 for the first item of every list, and less below', () => {
    const fused = reciprocalRankFusion([
      [1, 2],
      [1, 3],
    ]);
    expect(fused[0]).toEqual({ id: 1, score: 1 });
    expect(fused[1].score).toBeLessThan(1);
    expect(fused[1].score).toBeGreaterThan(0);
  });

  it('works with one list or an empty one, keeping its order', () => {
    expect(reciprocalRankFusion([[], [7, 8]]).map((f) => f.id)).toEqual([7, 8]);
    expect(reciprocalRankFusion([[7, 8], []])[0].score).toBe(1);
    expect(reciprocalRankFusion([[], []])).toEqual([]);
  });
});
