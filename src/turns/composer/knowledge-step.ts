import { Injectable, Logger } from '@nestjs/common';
import { KnowledgeConfig } from '../../config/app-config';
import type { Message } from '../../conversation/conversation.types';
import { renderKnowledgeReference } from '../../knowledge/knowledge-reference';
import { KnowledgeRetriever } from '../../knowledge/knowledge-retriever';
import type { RetrievedChunk } from '../../knowledge/knowledge.types';
import { ToolJournal, TurnRef, TurnStep } from '../tool-journal';
import { toPromptEntry } from './prompt-entry';

/** The most characters of the customer's messages a retrieval query holds (the newest kept). */
const QUERY_CHARS = 2_000;

/**
 * The knowledge a turn gives the model: the best KNOWLEDGE_TOP_K chunks for
 * what the customer wrote (transcripts included), recorded as the turn's
 * step 0, so a turn run again reads the same chunks and the admin API shows
 * which were used. No knowledge stored: no search. A search that fails
 * leaves the turn without reference material, never without a reply.
 */
@Injectable()
export class KnowledgeStep {
  private readonly logger = new Logger(KnowledgeStep.name);

  constructor(
    private readonly retriever: KnowledgeRetriever,
    private readonly journal: ToolJournal,
    private readonly settings: KnowledgeConfig,
  ) {}

  /** Whether a turn would search at all (any knowledge stored; checked at most every few seconds). */
  async active(log: object): Promise<boolean> {
    try {
      return await this.retriever.hasKnowledge();
    } catch (error) {
      this.logger.warn(
        { ...log, err: error },
        'could not tell whether knowledge is stored; answering without it',
      );
      return false;
    }
  }

  /** The reference block for the prompt, or null when nothing matched. */
  async reference(
    turn: TurnRef,
    unanswered: Message[],
    recorded: TurnStep[],
    log: object,
  ): Promise<string | null> {
    const done = recorded.find((s) => s.kind === 'knowledge');
    if (done?.result) {
      return renderKnowledgeReference(
        JSON.parse(done.result) as RetrievedChunk[],
      );
    }
    const query = unanswered
      .map((m) => toPromptEntry(m).text)
      .join('\n')
      .slice(-QUERY_CHARS);
    const started = Date.now();
    try {
      const chunks = await this.retriever.retrieve(query, this.settings.topK);
      await this.journal.recordRound(turn, 0, [
        {
          position: 0,
          kind: 'knowledge',
          callId: null,
          name: 'knowledge_search',
          arguments: JSON.stringify({ query }),
        },
      ]);
      await this.journal.recordResult(turn, 0, 0, {
        ok: true,
        content: JSON.stringify(chunks),
        durationMs: Date.now() - started,
      });
      return renderKnowledgeReference(chunks);
    } catch (error) {
      this.logger.warn(
        { ...log, err: error },
        'knowledge search failed; answering without reference material',
      );
      return null;
    }
  }
}
