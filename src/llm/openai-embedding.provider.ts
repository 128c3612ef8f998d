import { Injectable } from '@nestjs/common';
import OpenAI from 'openai';
import { KnowledgeConfig, LlmConfig } from '../config/app-config';
import { EmbeddingError, EmbeddingProvider } from './embedding.provider';

/** Inputs per request (OpenAI takes up to 2048, and 300k tokens in all). */
export const EMBEDDING_BATCH = 128;
/** A query a customer waits on gets this long at most. */
const QUICK_TIMEOUT_MS = 5_000;

/**
 * `POST /embeddings` through the official openai SDK, at OPENAI_BASE_URL
 * (or OpenAI), with OPENAI_EMBEDDING_MODEL.
 */
@Injectable()
export class OpenAiEmbeddingProvider extends EmbeddingProvider {
  private readonly client: OpenAI | null;
  readonly model: string | null;

  constructor(
    private readonly llm: LlmConfig,
    knowledge: KnowledgeConfig,
  ) {
    super();
    this.model = llm.apiKey ? knowledge.embeddingModel : null;
    this.client =
      llm.apiKey && this.model
        ? new OpenAI({
            apiKey: llm.apiKey,
            baseURL: llm.baseUrl ?? undefined,
            timeout: llm.timeoutMs,
            maxRetries: llm.maxRetries,
          })
        : null;
  }

  async embed(
    texts: readonly string[],
    options: { quick?: boolean } = {},
  ): Promise<Float32Array[]> {
    if (!this.client || !this.model) {
      throw new EmbeddingError(
        'embeddings-disabled',
        'OPENAI_EMBEDDING_MODEL or OPENAI_API_KEY is not set',
      );
    }
    const vectors: Float32Array[] = [];
    for (let at = 0; at < texts.length; at += EMBEDDING_BATCH) {
      const batch = texts.slice(at, at + EMBEDDING_BATCH);
      vectors.push(...(await this.embedBatch(this.client, batch, options)));
    }
    return vectors;
  }

  private async embedBatch(
    client: OpenAI,
    input: string[],
    { quick = false }: { quick?: boolean },
  ): Promise<Float32Array[]> {
    let data: Array<{ index: number; embedding: number[] }>;
    try {
      // The SDK asks for base64 and decodes it into numbers.
      const result = await client.embeddings.create(
        { model: this.model!, input },
        quick
          ? {
              timeout: Math.min(QUICK_TIMEOUT_MS, this.llm.timeoutMs),
              maxRetries: 0,
            }
          : undefined,
      );
      data = result.data;
    } catch (error) {
      const status = error instanceof OpenAI.APIError ? error.status : null;
      throw new EmbeddingError(
        'embeddings-failed',
        `the embedding endpoint ${status ? `answered ${status}` : 'failed'}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    const vectors: Array<Float32Array | undefined> = Array.from({
      length: input.length,
    });
    for (const item of data ?? []) {
      if (item.index >= 0 && item.index < input.length) {
        vectors[item.index] = Float32Array.from(item.embedding);
      }
    }
    const dimensions = vectors[0]?.length ?? 0;
    const complete: Float32Array[] = [];
    for (let i = 0; i < input.length; i++) {
      const vector = vectors[i];
      if (!vector || vector.length === 0) {
        throw new EmbeddingError(
          'embeddings-failed',
          `the embedding endpoint gave no vector for input ${i} of ${input.length}`,
        );
      }
      if (vector.length !== dimensions) {
        throw new EmbeddingError(
          'embeddings-failed',
          'the embedding endpoint gave vectors of different lengths',
        );
      }
      complete.push(vector);
    }
    return complete;
  }
}
