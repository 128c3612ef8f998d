export class EmbeddingError extends Error {
  constructor(
    readonly reason: 'embeddings-disabled' | 'embeddings-failed',
    message: string,
  ) {
    super(message);
    this.name = 'EmbeddingError';
  }
}

/** Port: texts to vectors, for the knowledge base. */
export abstract class EmbeddingProvider {
  /** Null when OPENAI_EMBEDDING_MODEL is empty or there is no API key. */
  abstract readonly model: string | null;
  /**
   * One vector per text, in order (sent in batches). Rejects with an
   * EmbeddingError; `quick` is for a query a customer waits on: a short
   * timeout and no retries.
   */
  abstract embed(
    texts: readonly string[],
    options?: { quick?: boolean },
  ): Promise<Float32Array[]>;
}
