/** Reciprocal rank fusion's constant: how little a rank near the top counts more than one further down. */
export const RRF_K = 60;

export interface Fused<Id> {
  id: Id;
  /** 1 for the first item of every list, decreasing with rank; 0 < score ≤ 1. */
  score: number;
}

/**
 * Reciprocal rank fusion (Cormack et al., 2009): each item scores
 * Σ 1 / (k + rank) over the ranked lists it appears in, so an item ranked
 * well by both full-text search and embeddings wins over one ranked first by
 * only one of them, and no list's raw scores need to be comparable. Scores
 * are divided by the best possible (first in every list), so they fall in
 * (0, 1]. Ties keep the order of first appearance.
 */
export function reciprocalRankFusion<Id>(
  lists: ReadonlyArray<readonly Id[]>,
  k: number = RRF_K,
): Array<Fused<Id>> {
  const scores = new Map<Id, number>();
  for (const list of lists) {
    list.forEach((id, index) => {
      scores.set(id, (scores.get(id) ?? 0) + 1 / (k + index + 1));
    });
  }
  const best = lists.filter((l) => l.length > 0).length / (k + 1);
  return [...scores.entries()]
    .map(([id, score]) => ({ id, score: best > 0 ? score / best : 0 }))
    .sort((a, b) => b.score - a.score);
}
