import { Module } from '@nestjs/common';
import { DatabaseModule } from '../database/database.module';
import { LlmModule } from '../llm/llm.module';
import { DrizzleKnowledgeStore } from './drizzle-knowledge.store';
import { KnowledgeDocumentsService } from './knowledge-documents.service';
import { KnowledgeRetriever } from './knowledge-retriever';
import { KnowledgeStore } from './knowledge.store';
import { KnowledgeUpkeepJob } from './knowledge-upkeep.job';
import { KnowledgeVectors } from './knowledge-vectors';

/**
 * The knowledge base: documents, their chunks and vectors, and retrieval.
 * The turn composer uses `KnowledgeRetriever.retrieve`; the admin API
 * `KnowledgeDocumentsService`.
 */
@Module({
  imports: [DatabaseModule, LlmModule],
  providers: [
    { provide: KnowledgeStore, useClass: DrizzleKnowledgeStore },
    KnowledgeVectors,
    KnowledgeRetriever,
    KnowledgeDocumentsService,
    KnowledgeUpkeepJob,
  ],
  exports: [KnowledgeRetriever, KnowledgeDocumentsService],
})
export class KnowledgeModule {}
