import { Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { validateEnv } from '../config/validate-env';
import { DatabaseConnection } from '../database/database-connection';
import { ChatMessage, LlmProvider, LlmReply } from '../llm/llm.provider';
import { MetricsService } from '../metrics/metrics.service';
import { SendResult, WhatsappClient } from '../whatsapp/whatsapp.client';
import { WhatsappSendError } from '../whatsapp/whatsapp-send.error';
import { InboundMessageInput } from '../conversation/conversation.types';
import { DrizzleConversationRepository } from '../conversation/drizzle-conversation.repository';
import { OutboundService } from '../outbound/outbox.service';
import { TurnService } from './turn.service';
import {
  inboundText,
  openEmbeddedRepository,
} from '../../test/support/conversation-kit';

class EchoLlm extends LlmProvider {
  readonly configured = true;
  readonly model = 'echo';
  complete(messages: ChatMessage[]): Promise<LlmReply> {
    return Promise.resolve({
      text: `Echo: ${String(messages[messages.length - 1]?.content)}`,
      handoff: null,
      model: 'echo',
      promptTokens: 1,
      completionTokens: 1,
    });
  }
}

/** Accepts every send, or refuses every one with a permanent error. */
class FakeWhatsapp extends WhatsappClient {
  readonly configured = true;
  readonly sent: string[] = [];
  refuse = false;
  sendText(waId: string, body: string): Promise<SendResult> {
    if (this.refuse) {
      return Promise.reject(
        new WhatsappSendError({
          message: 'recipient unknown',
          code: 131026,
          httpStatus: 400,
          retryable: false,
          details: null,
          fbtraceId: null,
          kind: 'permanent',
        }),
      );
    }
    this.sent.push(body);
    return Promise.resolve({
      wamid: `wamid.out-${this.sent.length}-${waId}`,
      waId,
      response: {},
    });
  }
  markRead(): Promise<void> {
    return Promise.resolve();
  }
}

const text = (wamid: string, customer: string) =>
  inboundText(wamid, customer, `question ${wamid}`);

describe('TurnService', () => {
  let connection: DatabaseConnection;
  let repository: DrizzleConversationRepository;
  let whatsapp: FakeWhatsapp;
  let turns: TurnService;
  let lines: Array<{
    level: string;
    fields: Record<string, unknown>;
    text: string;
  }>;
  const config = new AppConfig(validateEnv({}));

  beforeAll(async () => {
    ({ connection, repository } = await openEmbeddedRepository());
  });
  afterAll(async () => {
    await connection.close();
  });
  beforeEach(() => {
    lines = [];
    for (const level of ['log', 'warn', 'error'] as const) {
      jest
        .spyOn(Logger.prototype, level)
        .mockImplementation((...[fields, text]: unknown[]) => {
          lines.push({
            level,
            fields: fields as Record<string, unknown>,
            text: String(text),
          });
        });
    }
    whatsapp = new FakeWhatsapp();
    const metrics = new MetricsService();
    turns = new TurnService(
      repository,
      new EchoLlm(),
      whatsapp,
      new OutboundService(repository, whatsapp, metrics),
      config,
      metrics,
    );
  });
  afterEach(() => {
    jest.restoreAllMocks();
  });

  async function conversationWith(...messages: InboundMessageInput[]) {
    const result = await repository.ingest(
      { messages, statuses: [], errors: [] },
      new Date(),
      config.conversation.sessionTimeoutMs,
    );
    return result.conversationsToAnswer[0];
  }

  it('logs the turn with the correlation ids of its webhooks and the wamids it answered', async () => {
    const id = await conversationWith(
      text('wamid.turn-log-1', '4860200001'),
      text('wamid.turn-log-2', '4860200001'),
    );
    expect(await turns.run(id, ['req-a', 'req-b'])).toEqual({
      status: 'replied',
    });
    expect(whatsapp.sent).toHaveLength(1);
    const done = lines.filter((l) => l.text === 'turn done');
    expect(done).toHaveLength(1);
    expect(done[0].fields).toMatchObject({
      conversationId: id,
      correlationIds: ['req-a', 'req-b'],
      wamids: ['wamid.turn-log-1', 'wamid.turn-log-2'],
      answered: 2,
      sent: 1,
    });
    // Masked number, no message text.
    expect(JSON.stringify(done[0].fields)).not.toContain('4860200001');
    expect(JSON.stringify(done[0].fields)).not.toContain('question');
  });

  it('names the correlation ids in the log of a send Meta refused', async () => {
    const id = await conversationWith(text('wamid.turn-log-3', '4860200002'));
    whatsapp.refuse = true;
    await turns.run(id, ['req-c']);
    const refused = lines.filter((l) => l.text.startsWith('message not sent'));
    expect(refused).toHaveLength(1);
    expect(refused[0].fields).toMatchObject({
      correlationIds: ['req-c'],
      code: 131026,
    });
  });
});
