import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { KnowledgeConfig } from '../config/app-config';
import { EmbeddingProvider } from '../llm/embedding.provider';
import { KnowledgeStore } from './knowledge.store';
import { embeddingInput } from './knowledge-documents.service';

/** Chunks embedded per round of the background re-embedding. */
const EMBED_ROUND = 128;

/**
 * At start, in the background (never holding the start up): re-indexes the
 * chunks indexed with another KNOWLEDGE_LANGUAGE, then embeds every chunk
 * without a vector of OPENAI_EMBEDDING_MODEL (a new model, or an embedding
 * that failed). A failure is logged and the rest waits for the next start;
 * meanwhile those chunks are found by full-text search.
 */
@Injectable()
export class KnowledgeUpkeepJob
  implements OnApplicationBootstrap, BeforeApplicationShutdown
{
  private readonly logger = new Logger(KnowledgeUpkeepJob.name);
  /** The run started at bootstrap, for tests and shutdown. */
  running: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly store: KnowledgeStore,
    private readonly embeddings: EmbeddingProvider,
    private readonly config: KnowledgeConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.running = this.run().then(
      () => undefined,
      (error: unknown) => {
        if (!this.stopped) {
          this.logger.warn(
            { err: error },
            'knowledge upkeep stopped; it starts again with the next start',
          );
        }
      },
    );
  }

  beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    return this.running;
  }

  /** Re-indexes, then re-embeds until done; answers how many chunks were embedded. */
  async run(): Promise<number> {
    const reindexed = await this.store.reindexText(this.config.language);
    if (reindexed > 0) {
      this.logger.log(
        `${reindexed} knowledge chunks re-indexed for ${this.config.language}`,
      );
    }
    const model = this.embeddings.model;
    if (!model) return 0;
    let embedded = 0;
    while (!this.stopped) {
      const chunks = await this.store.chunksToEmbed(model, EMBED_ROUND);
      if (chunks.length === 0) break;
      const vectors = await this.embeddings.embed(
        chunks.map((c) => embeddingInput(c.title, c.text)),
      );
      await this.store.saveVectors(
        model,
        chunks.map((c, i) => ({ id: c.id, vector: vectors[i] })),
      );
      embedded += chunks.length;
    }
    if (embedded > 0) {
      this.logger.log(`${embedded} knowledge chunks embedded with ${model}`);
    }
    return embedded;
  }
}
