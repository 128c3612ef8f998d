import type { Message } from '../conversation/conversation.types';
import type { ConversationSummary } from '../inbox/inbox.queries';
import type { ConversationDto, MessageDto } from './dto/responses.dto';

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

export const toMessageDto = (m: Message): MessageDto => ({
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
});
