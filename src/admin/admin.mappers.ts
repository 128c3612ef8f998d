import type { Message } from '../conversation/conversation.types';
import type { ConversationSummary } from '../inbox/inbox.queries';
import type { TurnStep } from '../turns/tool-journal';
import type {
  ConversationDto,
  KnowledgeUseDto,
  MessageDto,
  ToolCallDto,
} from './dto/responses.dto';

export const toConversationDto = (c: ConversationSummary): ConversationDto => ({
  id: c.id,
  phoneNumber: c.customerWaId,
  customerName: c.customerName,
  state: c.state,
  stateReason: c.stateReason,
  handoffUntil: c.handoffUntil?.toISOString() ?? null,
  startedAt: c.startedAt.toISOString(),
  lastActivityAt: c.lastActivityAt.toISOString(),
  messageCount: c.messageCount,
  unansweredCount: c.unansweredCount,
});

export const toMessageDto = (
  m: Message,
  steps: TurnStep[] = [],
): MessageDto => ({
  id: m.id,
  direction: m.direction,
  author: m.author,
  kind: m.kind,
  text: m.text,
  wamid: m.wamid,
  status: m.status,
  error: m.error,
  mediaId: m.mediaId,
  mediaStatus: m.mediaStatus,
  mediaText: m.mediaText,
  mediaFailure: m.mediaFailure,
  timestamp: m.sentAt.toISOString(),
  toolCalls: steps.filter((s) => s.kind === 'tool').map(toToolCallDto),
  knowledge: steps
    .filter((s) => s.kind === 'knowledge')
    .flatMap(toKnowledgeUse),
});

const toToolCallDto = (s: TurnStep): ToolCallDto => ({
  round: s.round,
  name: s.name,
  arguments: parseOr(s.arguments, s.arguments) as ToolCallDto['arguments'],
  ok: s.ok,
  result: s.result,
  durationMs: s.durationMs,
});

/** A retrieval step's result: the chunks given to the model. */
function toKnowledgeUse(s: TurnStep): KnowledgeUseDto[] {
  const chunks = parseOr(s.result ?? '[]', []);
  if (!Array.isArray(chunks)) return [];
  return chunks.map((c: Record<string, unknown>) => ({
    chunkId: String(c.chunkId),
    documentId: String(c.documentId),
    title: String(c.title),
    score: Number(c.score),
  }));
}

function parseOr(text: string, otherwise: unknown): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return otherwise;
  }
}
