import {
  ChatMessage,
  LlmError,
  LlmProvider,
  LlmReply,
  ToolDefinition,
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
  /** The options of each call: the tools offered and the tool choice. */
  readonly options: Array<{ tools: string[]; toolChoice?: 'auto' | 'none' }> =
    [];
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

  /** The next answer calls these tools (and says nothing). */
  callToolsNext(...calls: Array<{ name: string; arguments: unknown }>) {
    this.next.push({
      ...this.reply(''),
      toolCalls: calls.map((call, n) => ({
        id: `call-${this.prompts.length + this.next.length}-${n}`,
        name: call.name,
        arguments:
          typeof call.arguments === 'string'
            ? call.arguments
            : JSON.stringify(call.arguments),
      })),
    });
  }

  failNext(error = new LlmError('timeout', 'the model did not answer')) {
    this.next.push(error);
  }

  /** Runs `action` while the next call is answering (something changes meanwhile). */
  duringNextCall(action: () => Promise<unknown>) {
    this.during.push(action);
  }

  async complete(
    messages: ChatMessage[],
    options: { tools?: ToolDefinition[]; toolChoice?: 'auto' | 'none' } = {},
  ): Promise<LlmReply> {
    this.prompts.push(structuredClone(messages));
    this.options.push({
      tools: (options.tools ?? []).map((t) => t.name),
      toolChoice: options.toolChoice,
    });
    await this.during.shift()?.();
    const scripted = this.next.shift();
    if (scripted instanceof Error) throw scripted;
    const last = messages[messages.length - 1];
    const said = typeof last?.content === 'string' ? last.content : '';
    const echo = this.reply(`Echo: ${said}`);
    // Told to call nothing, a model answers in text, as OpenAI's does.
    if (scripted && options.toolChoice === 'none' && scripted.toolCalls.length)
      return echo;
    return scripted ?? echo;
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
