import {
  ChatMessage,
  LlmError,
  LlmProvider,
  LlmReply,
} from '../../src/llm/llm.provider';

/**
 * Answers "Echo: <the last message>", or what it was told to answer next:
 * a text, a request for a person (the handoff tool), or a failure. Keeps the
 * prompts it was given.
 */
export class FakeLlm extends LlmProvider {
  readonly configured = true;
  readonly model = 'fake-model';
  readonly prompts: ChatMessage[][] = [];
  private next: Array<LlmReply | LlmError> = [];
  private during: Array<() => Promise<unknown>> = [];

  answerNext(text: string) {
    this.next.push(this.reply(text));
  }

  askForPersonNext(reason: string | null) {
    this.next.push({
      ...this.reply(''),
      toolCalls: [
        {
          id: `call-${this.prompts.length + this.next.length}`,
          name: 'request_human',
          arguments: JSON.stringify(reason === null ? {} : { reason }),
        },
      ],
    });
  }

  failNext(error = new LlmError('timeout', 'the model did not answer')) {
    this.next.push(error);
  }

  /** Runs `action` while the next call is answering (something changes meanwhile). */
  duringNextCall(action: () => Promise<unknown>) {
    this.during.push(action);
  }

  async complete(messages: ChatMessage[]): Promise<LlmReply> {
    this.prompts.push(structuredClone(messages));
    await this.during.shift()?.();
    const scripted = this.next.shift();
    if (scripted instanceof Error) throw scripted;
    const last = messages[messages.length - 1];
    const said = typeof last?.content === 'string' ? last.content : '';
    return scripted ?? this.reply(`Echo: ${said}`);
  }

  private reply(text: string): LlmReply {
    return {
      text,
      toolCalls: [],
      model: this.model,
      promptTokens: 7,
      completionTokens: 3,
    };
  }
}
