import { Injectable, Logger } from '@nestjs/common';
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
 * knowledge revision (a single-row select). The first search loads every
 * vector and waits for it; after a change anywhere, searches go on with the
 * vectors they have while a fresh copy loads in the background (a chunk
 * deleted meanwhile is dropped when its text is read; one added meanwhile
 * is found by full-text search until the load ends).
 */
@Injectable()
export class KnowledgeVectors {
  private readonly logger = new Logger(KnowledgeVectors.name);
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

  /** Resolves when no load is running (for tests and benchmarks). */
  async settled(): Promise<void> {
    while (this.loading) await this.loading.catch(() => undefined);
  }

  private async fresh(model: string): Promise<Loaded> {
    const revision = await this.store.revision();
    const current = this.loaded;
    if (current?.model === model && current.revision === revision) {
      return current;
    }
    this.loading ??= this.load(model).finally(() => (this.loading = null));
    if (current?.model === model) {
      // Stale but usable: the fresh copy replaces it when loaded.
      this.loading.catch((error: unknown) =>
        this.logger.warn({ err: error }, 'reloading knowledge vectors failed'),
      );
      return current;
    }
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
