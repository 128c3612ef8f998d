import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Post,
  Query,
} from '@nestjs/common';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiEnvelope, ok } from '../common/api-envelope';
import {
  ApiEnvelopeResponse,
  ApiErrorResponse,
} from '../common/api-envelope.decorator';
import { DomainError } from '../common/domain.error';
import { parseCustomerId } from '../common/customer-id';
import { ParsePhoneNumberPipe } from '../common/phone-number.pipe';
import { HandoffService } from '../conversation/handoff.service';
import { InboxQueries, InvalidCursorError } from '../inbox/inbox.queries';
import { OperatorService } from '../outbound/operator.service';
import { SessionService } from '../inbox/session.service';
import { AdminApi } from './admin-api.decorator';
import { toConversationDto, toMessageDto } from './admin.mappers';
import { StartHandoffDto } from './dto/handoff.dto';
import {
  ListConversationsQueryDto,
  ListMessagesQueryDto,
} from './dto/queries.dto';
import {
  ConversationDetailDto,
  ConversationDto,
  ConversationPageDto,
  MessagePageDto,
  OperatorReplyResultDto,
  SessionDto,
} from './dto/responses.dto';
import { ReplyDto } from './dto/send-message.dto';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const notFound = (id: string) =>
  new DomainError(`Conversation ${id} not found`, 'conversation-not-found');
const badCursor = () =>
  new DomainError('cursor is not valid', 'invalid-cursor');

const phoneParam = ApiParam({
  name: 'phoneNumber',
  example: '+16505551234',
  description:
    'The customer: an international phone number (digits with or without +), or the BSUID of a customer without one (e.g. US.13491208655302741918)',
});

@ApiTags('conversations')
@AdminApi()
@Controller('api')
export class ConversationsController {
  constructor(
    private readonly inbox: InboxQueries,
    private readonly sessions: SessionService,
    private readonly handoff: HandoffService,
    private readonly operator: OperatorService,
  ) {}

  @Get('session/:phoneNumber')
  @phoneParam
  @ApiOperation({
    summary: "A customer's active conversation and the context the LLM sees",
    description:
      'The last CONTEXT_MESSAGES messages; 404 when the customer has no active conversation.',
  })
  @ApiEnvelopeResponse(SessionDto)
  @ApiErrorResponse(404, 'No active session')
  async session(
    @Param('phoneNumber', ParsePhoneNumberPipe) phoneNumber: string,
  ): Promise<ApiEnvelope<SessionDto>> {
    const session = await this.sessions.getSession(phoneNumber);
    return ok(
      {
        ...session,
        context: {
          previousMessages: session.context.previousMessages.map((m) => ({
            ...m,
            timestamp: m.timestamp.toISOString(),
          })),
        },
        startedAt: session.startedAt.toISOString(),
        lastActivity: session.lastActivity.toISOString(),
      },
      'Session found',
    );
  }

  @Get('conversations')
  @ApiOperation({
    summary: 'The inbox: conversations, newest activity first',
    description:
      'Filter by state and by customer (phone number or part of the name); cursor pagination.',
  })
  @ApiEnvelopeResponse(ConversationPageDto)
  async list(
    @Query() query: ListConversationsQueryDto,
  ): Promise<ApiEnvelope<ConversationPageDto>> {
    const customer = query.customer?.trim();
    const waId = customer ? parseCustomerId(customer) : null;
    try {
      const page = await this.inbox.listConversations({
        state: query.state,
        customerWaId: waId ?? undefined,
        customerName: customer && !waId ? customer : undefined,
        limit: query.limit ?? 20,
        cursor: query.cursor,
      });
      return ok({
        items: page.items.map(toConversationDto),
        nextCursor: page.nextCursor,
      });
    } catch (error) {
      if (error instanceof InvalidCursorError) throw badCursor();
      throw error;
    }
  }

  @Get('conversations/:id')
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOperation({ summary: 'One conversation with its state changes' })
  @ApiEnvelopeResponse(ConversationDetailDto)
  @ApiErrorResponse(404, 'Conversation not found')
  async get(
    @Param('id') id: string,
  ): Promise<ApiEnvelope<ConversationDetailDto>> {
    const conversation = UUID.test(id)
      ? await this.inbox.getConversation(id)
      : null;
    if (!conversation) throw notFound(id);
    const events = conversation.events.map((e) => ({
      ...e,
      at: e.at.toISOString(),
    }));
    return ok(Object.assign(toConversationDto(conversation), { events }));
  }

  @Get('conversations/:id/messages')
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOperation({
    summary: 'Every message of a conversation, oldest first',
    description:
      'Direction, author, kind, text, wamid, delivery status and error of each message; cursor pagination.',
  })
  @ApiEnvelopeResponse(MessagePageDto)
  @ApiErrorResponse(404, 'Conversation not found')
  async messages(
    @Param('id') id: string,
    @Query() query: ListMessagesQueryDto,
  ): Promise<ApiEnvelope<MessagePageDto>> {
    if (!UUID.test(id) || !(await this.inbox.getConversation(id)))
      throw notFound(id);
    try {
      const page = await this.inbox.listMessages(id, {
        limit: query.limit ?? 100,
        cursor: query.cursor,
      });
      return ok({
        items: page.items.map((m) => toMessageDto(m, m.steps)),
        nextCursor: page.nextCursor,
      });
    } catch (error) {
      if (error instanceof InvalidCursorError) throw badCursor();
      throw error;
    }
  }

  @Post('conversations/:phoneNumber/handoff')
  @HttpCode(200)
  @phoneParam
  @ApiOperation({
    summary: 'Pause the bot for a customer: a person takes over',
    description:
      "The customer's messages are stored and not answered by the LLM until the handoff ends (DELETE, or after autoResumeMinutes). Opens a conversation if the customer has none.",
  })
  @ApiEnvelopeResponse(ConversationDto)
  async startHandoff(
    @Param('phoneNumber', ParsePhoneNumberPipe) phoneNumber: string,
    @Body() body: StartHandoffDto,
  ): Promise<ApiEnvelope<ConversationDto>> {
    await this.handoff.pause(phoneNumber, body);
    return ok(await this.summary(phoneNumber), 'Bot paused for this customer');
  }

  @Delete('conversations/:phoneNumber/handoff')
  @phoneParam
  @ApiOperation({
    summary: 'Give the conversation back to the bot',
    description:
      'Messages the operator left unanswered are answered by the bot.',
  })
  @ApiEnvelopeResponse(ConversationDto)
  @ApiErrorResponse(409, 'The bot is not paused for this customer')
  async endHandoff(
    @Param('phoneNumber', ParsePhoneNumberPipe) phoneNumber: string,
  ): Promise<ApiEnvelope<ConversationDto>> {
    await this.handoff.resume(phoneNumber);
    return ok(await this.summary(phoneNumber), 'Bot resumed for this customer');
  }

  @Post('conversations/:phoneNumber/reply')
  @HttpCode(200)
  @phoneParam
  @ApiOperation({
    summary: "Reply as an operator in the customer's conversation",
    description:
      'Sent through the same WhatsApp client, recorded in the conversation and part of the LLM context afterwards. Settles the customer messages received so far. 404 without an active conversation.',
  })
  @ApiEnvelopeResponse(OperatorReplyResultDto)
  @ApiErrorResponse(404, 'No open conversation')
  @ApiErrorResponse(502, 'WhatsApp did not accept the message: …')
  @ApiErrorResponse(
    503,
    'WhatsApp is not configured: set WHATSAPP_PHONE_NUMBER_ID and WHATSAPP_ACCESS_TOKEN',
  )
  async reply(
    @Param('phoneNumber', ParsePhoneNumberPipe) phoneNumber: string,
    @Body() body: ReplyDto,
  ): Promise<ApiEnvelope<OperatorReplyResultDto>> {
    const result = await this.operator.reply(phoneNumber, body.message);
    return ok(
      {
        conversationId: result.conversationId,
        messages: result.messages.map((m) => toMessageDto(m)),
      },
      'Reply sent',
    );
  }

  private async summary(phoneNumber: string): Promise<ConversationDto> {
    const page = await this.inbox.listConversations({
      customerWaId: phoneNumber,
      limit: 1,
    });
    return toConversationDto(page.items[0]);
  }
}
