import { Injectable } from '@nestjs/common';
import { KnowledgeStore } from './knowledge.store';
import { VectorHit, VectorIndex } from './vector-index';

interface Loaded {
  model: string;
  revision: number;
  index: VectorIndex;
}

/**
 * The knowledge base's vectors of one model, in memory, kept in step with
 * the database (and so with other instances): each search first reads the
 * knowledge revision (one single-row select) and loads every vector again
 * when it changed. Concurrent searches share one load.
 */
@Injectable()
export class KnowledgeVectors {
  private loaded: Loaded | null = null;
  private loading: Promise<Loaded> | null = null;

  constructor(private readonly store: KnowledgeStore) {}

  async search(
    model: string,
    query: Float32Array,
    k: number,
  ): Promise<VectorHit[]> {
    const loaded = await this.fresh(model);
    return loaded.index.search(query, k);
  }

  /** Vectors held in memory now (for logs and benchmarks). */
  get size(): number {
    return this.loaded?.index.size ?? 0;
  }

  private async fresh(model: string): Promise<Loaded> {
    const revision = await this.store.revision();
    const current = this.loaded;
    if (current && current.model === model && current.revision === revision) {
      return current;
    }
    this.loading ??= this.load(model).finally(() => (this.loading = null));
    return this.loading;
  }

  private async load(model: string): Promise<Loaded> {
    const { revision, ids, vectors } = await this.store.vectorsOf(model);
    const loaded = { model, revision, index: new VectorIndex(ids, vectors) };
    // A slower, older load never replaces a newer one.
    if (
      !this.loaded ||
      this.loaded.model !== model ||
      this.loaded.revision <= revision
    ) {
      this.loaded = loaded;
    }
    return loaded;
  }
}
