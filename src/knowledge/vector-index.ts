export interface VectorHit {
  id: number;
  /** Cosine similarity, -1..1. */
  score: number;
}

/**
 * Vectors held in memory as one Float32Array, normalised once, so that a
 * search is one pass of dot products (no pgvector in PGlite nor on a plain
 * PostgreSQL server). Vectors of another length than the first are left out.
 */
export class VectorIndex {
  readonly dimensions: number;
  readonly size: number;
  private readonly ids: Int32Array | Float64Array;
  private readonly matrix: Float32Array;

  constructor(ids: readonly number[], vectors: readonly Float32Array[]) {
    this.dimensions = vectors[0]?.length ?? 0;
    const kept: number[] = [];
    for (let i = 0; i < vectors.length; i++) {
      if (vectors[i].length === this.dimensions) kept.push(i);
    }
    this.size = kept.length;
    this.ids = new Float64Array(kept.map((i) => ids[i]));
    this.matrix = new Float32Array(this.size * this.dimensions);
    kept.forEach((from, row) => {
      this.matrix.set(normalised(vectors[from]), row * this.dimensions);
    });
  }

  /** The `k` most similar vectors, most similar first; none for a query of another length. */
  search(query: Float32Array, k: number): VectorHit[] {
    if (query.length !== this.dimensions || k <= 0) return [];
    const q = normalised(query);
    const d = this.dimensions;
    const m = this.matrix;
    // The best k so far, ascending, so the weakest is first to go.
    const best: VectorHit[] = [];
    for (let row = 0; row < this.size; row++) {
      const dot = dotAt(m, row * d, q, d);
      if (best.length === k && dot <= best[0].score) continue;
      const hit = { id: this.ids[row], score: dot };
      let at = best.findIndex((b) => b.score >= dot);
      if (at === -1) at = best.length;
      best.splice(at, 0, hit);
      if (best.length > k) best.shift();
    }
    return best.reverse();
  }
}

/** The dot product of `q` and the row of `m` at `base`, four lanes at a time. */
function dotAt(m: Float32Array, base: number, q: Float32Array, d: number) {
  let a = 0;
  let b = 0;
  let c = 0;
  let e = 0;
  let j = 0;
  for (; j + 3 < d; j += 4) {
    a += m[base + j] * q[j];
    b += m[base + j + 1] * q[j + 1];
    c += m[base + j + 2] * q[j + 2];
    e += m[base + j + 3] * q[j + 3];
  }
  for (; j < d; j++) a += m[base + j] * q[j];
  return a + b + c + e;
}

function normalised(vector: Float32Array): Float32Array {
  let norm = 0;
  for (const x of vector) norm += x * x;
  norm = Math.sqrt(norm);
  if (norm === 0) return vector;
  return vector.map((x) => x / norm);
}
