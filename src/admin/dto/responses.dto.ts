import { ApiProperty } from '@nestjs/swagger';

export class ConversationDto {
  @ApiProperty({
    format: 'uuid',
    example: '0b6c0d3e-8a57-4a8e-9b1b-2f1f6c3f9a10',
  })
  id: string;
  @ApiProperty({ example: '16505551234', description: 'wa_id digits' })
  phoneNumber: string;
  @ApiProperty({ type: String, nullable: true, example: 'Sheena Nelson' })
  customerName: string | null;
  @ApiProperty({ enum: ['active', 'handoff', 'expired'], example: 'active' })
  state: string;
  @ApiProperty({ type: String, nullable: true, example: null })
  stateReason: string | null;
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    example: null,
  })
  handoffUntil: string | null;
  @ApiProperty({ format: 'date-time' })
  startedAt: string;
  @ApiProperty({ format: 'date-time' })
  lastActivityAt: string;
  @ApiProperty({ example: 6 })
  messageCount: number;
  @ApiProperty({
    example: 0,
    description: 'Customer messages not answered yet',
  })
  unansweredCount: number;
}

export class ConversationEventDto {
  @ApiProperty({ enum: ['handoff', 'resume'], example: 'handoff' })
  type: string;
  @ApiProperty({
    enum: ['operator', 'customer', 'system'],
    example: 'operator',
  })
  actor: string;
  @ApiProperty({ type: String, nullable: true, example: 'Refund request' })
  reason: string | null;
  @ApiProperty({ format: 'date-time' })
  at: string;
}

export class ConversationDetailDto extends ConversationDto {
  @ApiProperty({
    type: [ConversationEventDto],
    description: 'State changes, oldest first',
  })
  events: ConversationEventDto[];
}

export class MessageErrorDto {
  @ApiProperty({
    oneOf: [{ type: 'number' }, { type: 'string' }],
    example: 131047,
  })
  code: number | string | null;
  @ApiProperty({ type: String, nullable: true, example: 'window-closed' })
  title: string | null;
  @ApiProperty({ type: String, nullable: true })
  message: string | null;
  @ApiProperty({ type: String, nullable: true })
  details: string | null;
}

export class ToolCallDto {
  @ApiProperty({ example: 1, description: 'The round of the turn (1 = first)' })
  round: number;
  @ApiProperty({ example: 'order_status' })
  name: string;
  @ApiProperty({
    description:
      "The model's arguments (bound parameters are filled by ClariOps and never appear here)",
    example: { order_id: 'A-1' },
    type: 'object',
    additionalProperties: true,
  })
  arguments: Record<string, unknown> | string;
  @ApiProperty({
    type: Boolean,
    nullable: true,
    description: 'Null when the call never returned (the turn was interrupted)',
  })
  ok: boolean | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'What the model was given (cut to TOOL_RESULT_MAX_CHARS)',
  })
  result: string | null;
  @ApiProperty({ type: Number, nullable: true, example: 84 })
  durationMs: number | null;
}

export class KnowledgeUseDto {
  @ApiProperty({ example: '7' })
  chunkId: string;
  @ApiProperty({ example: '0b5e8d5e-3c1d-4d7e-9d3b-2a1f0e9c8b7a' })
  documentId: string;
  @ApiProperty({ example: 'Shipping policy' })
  title: string;
  @ApiProperty({ example: 0.032 })
  score: number;
}

export class MessageDto {
  @ApiProperty({ example: 42 })
  id: number;
  @ApiProperty({ enum: ['inbound', 'outbound'] })
  direction: string;
  @ApiProperty({ enum: ['customer', 'bot', 'fallback', 'notice', 'operator'] })
  author: string;
  @ApiProperty({
    example: 'text',
    description: "Meta's message type (text, image, interactive, …)",
  })
  kind: string;
  @ApiProperty({
    type: String,
    nullable: true,
    example: 'Do you ship to Spain?',
  })
  text: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    example: 'wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUZB',
  })
  wamid: string | null;
  @ApiProperty({
    enum: [
      'received',
      'pending',
      'sending',
      'sent',
      'delivered',
      'read',
      'played',
      'failed',
    ],
  })
  status: string;
  @ApiProperty({ type: MessageErrorDto, nullable: true })
  error: MessageErrorDto | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Media id of image/audio/video/document/sticker',
  })
  mediaId: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description:
      'Inbound media: what the bot made of it, `understood`, `failed` or `skipped` (vision or transcription off, or video); null until a turn looked at it',
  })
  mediaStatus: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description:
      "Inbound media the bot understood: a voice note's transcript or a document's text (cut to DOCUMENT_MAX_CHARS)",
  })
  mediaText: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description:
      'Why the media could not be understood (reason: detail), e.g. `wrong-type: Meta said image/jpeg, the bytes are application/pdf`',
  })
  mediaFailure: string | null;
  @ApiProperty({
    format: 'date-time',
    description: "Meta's timestamp (inbound) or when recorded (outbound)",
  })
  timestamp: string;
  @ApiProperty({
    type: [ToolCallDto],
    description:
      'On the first message of a bot reply: the tool calls the turn made, in order',
  })
  toolCalls: ToolCallDto[];
  @ApiProperty({
    type: [KnowledgeUseDto],
    description:
      'On the first message of a bot reply: the knowledge chunks the model was given',
  })
  knowledge: KnowledgeUseDto[];
}

export class ConversationPageDto {
  @ApiProperty({ type: [ConversationDto] })
  items: ConversationDto[];
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Pass as `cursor` for the next page',
  })
  nextCursor: string | null;
}

export class MessagePageDto {
  @ApiProperty({ type: [MessageDto] })
  items: MessageDto[];
  @ApiProperty({ type: String, nullable: true })
  nextCursor: string | null;
}

export class SessionMessageDto {
  @ApiProperty({ enum: ['user', 'assistant'] })
  role: string;
  @ApiProperty({ enum: ['customer', 'bot', 'fallback', 'notice', 'operator'] })
  author: string;
  @ApiProperty({ example: 'Do you ship to Spain?' })
  text: string;
  @ApiProperty({ format: 'date-time' })
  timestamp: string;
}

export class SessionContextDto {
  @ApiProperty({
    type: [SessionMessageDto],
    description: 'The last CONTEXT_MESSAGES messages, oldest first',
  })
  previousMessages: SessionMessageDto[];
}

export class SessionDto {
  @ApiProperty({ format: 'uuid' })
  conversationId: string;
  @ApiProperty({ example: '16505551234' })
  phoneNumber: string;
  @ApiProperty({ type: String, nullable: true, example: 'Sheena Nelson' })
  customerName: string | null;
  @ApiProperty({ enum: ['active', 'handoff'] })
  state: string;
  @ApiProperty()
  context: SessionContextDto;
  @ApiProperty({ format: 'date-time' })
  startedAt: string;
  @ApiProperty({ format: 'date-time' })
  lastActivity: string;
  @ApiProperty({ example: true })
  active: boolean;
}

class GraphContactDto {
  @ApiProperty({ example: '+16505551234' })
  input: string;
  @ApiProperty({ example: '16505551234' })
  wa_id: string;
}

class GraphMessageIdDto {
  @ApiProperty({
    example: 'wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA',
  })
  id: string;
}

export class GraphSendResponseDto {
  @ApiProperty({ example: 'whatsapp' })
  messaging_product: string;
  @ApiProperty({ type: [GraphContactDto] })
  contacts: GraphContactDto[];
  @ApiProperty({
    type: [GraphMessageIdDto],
    description: 'One per part when the text was split',
  })
  messages: GraphMessageIdDto[];
}

class TokensDto {
  @ApiProperty({ type: Number, nullable: true, example: 412 })
  prompt: number | null;
  @ApiProperty({ type: Number, nullable: true, example: 38 })
  completion: number | null;
  @ApiProperty({ type: Number, nullable: true, example: 450 })
  total: number | null;
}

class GenerateMetadataDto {
  @ApiProperty({ example: 'gpt-4.1-mini' })
  model: string;
  @ApiProperty({
    type: Number,
    nullable: true,
    example: 450,
    description:
      'Total tokens of the call, as the seed answered (null when the endpoint does not report usage)',
  })
  tokens: number | null;
  @ApiProperty({ type: TokensDto, description: 'The tokens in detail' })
  usage: TokensDto;
  @ApiProperty({ format: 'date-time' })
  timestamp: string;
}

export class GenerateResponseResultDto {
  @ApiProperty({ example: 'Yes, it comes in blue and green.' })
  reply: string;
  @ApiProperty({ type: String, format: 'uuid', nullable: true })
  conversationId: string | null;
  @ApiProperty()
  metadata: GenerateMetadataDto;
}

class LatencyDto {
  @ApiProperty({ type: Number, nullable: true, example: 1840 })
  median: number | null;
  @ApiProperty({ type: Number, nullable: true, example: 4210 })
  p95: number | null;
  @ApiProperty({ example: 128 })
  samples: number;
}

class SendFailureDto {
  @ApiProperty({ example: '131047' })
  code: string;
  @ApiProperty({ example: 3 })
  count: number;
}

export class QueueCountsDto {
  @ApiProperty({ example: 0 })
  waiting: number;
  @ApiProperty({
    example: 2,
    description: 'Waiting for their debounce or retry time',
  })
  delayed: number;
  @ApiProperty({ example: 1 })
  active: number;
  @ApiProperty({
    example: 0,
    description: 'Dead letters: failed after every retry',
  })
  failed: number;
}

export class HandoffResultDto extends ConversationDto {}

export class OperatorReplyResultDto {
  @ApiProperty({ format: 'uuid' })
  conversationId: string;
  @ApiProperty({ type: [MessageDto] })
  messages: MessageDto[];
}

export class StatsDto {
  @ApiProperty({ format: 'date-time' })
  from: string;
  @ApiProperty({ format: 'date-time' })
  to: string;
  @ApiProperty({ example: 240 })
  inboundMessages: number;
  @ApiProperty({ example: 251 })
  outboundMessages: number;
  @ApiProperty({ example: 57 })
  conversationsOpened: number;
  @ApiProperty({ example: 4 })
  handoffs: number;
  @ApiProperty({ example: 2 })
  fallbackReplies: number;
  @ApiProperty({ type: TokensDto })
  llmTokens: TokensDto;
  @ApiProperty({
    type: LatencyDto,
    description:
      'From a customer message arriving to the reply being accepted by the Graph API (debounce included)',
  })
  replyLatencyMs: LatencyDto;
  @ApiProperty({ type: [SendFailureDto] })
  sendFailures: SendFailureDto[];
  @ApiProperty({
    type: () => QueueCountsDto,
    description: 'The turn queue right now',
  })
  queue: QueueCountsDto;
}
