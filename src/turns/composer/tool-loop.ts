import { Injectable, Logger } from '@nestjs/common';
import { ToolsConfig } from '../../config/app-config';
import { DomainEvents } from '../../events/domain-events';
import {
  ChatMessage,
  LlmError,
  LlmProvider,
  LlmReply,
  ToolDefinition,
} from '../../llm/llm.provider';
import type { ToolContext } from '../../tools/tool-source';
import { ToolRegistry } from '../../tools/tool.registry';
import { ToolJournal, TurnRef, TurnStep } from '../tool-journal';
import { findHandoffCall } from '../../tools/builtin/handoff.tool';

/** Calls of one answer that are run; any further ones get an error result. */
export const MAX_CALLS_PER_ROUND = 10;
/** The longest arguments text kept and run (a model can write a lot). */
export const MAX_ARGUMENT_CHARS = 16_000;

export type LoopOutcome =
  | {
      kind: 'answer';
      text: string;
      model: string;
      promptTokens: number | null;
      completionTokens: number | null;
    }
  | { kind: 'handoff'; reason: string | null };

/**
 * The model's side of a turn: ask, run the tools it calls, give it their
 * results, ask again — at most `TOOL_MAX_ROUNDS` rounds, then it must answer
 * in text. Each round's calls are recorded before they run and each result
 * when it returns, so a turn run again replays them and calls nothing that
 * already returned. A failing tool is an error result for the model, never
 * the turn's failure; the LLM's own failure rejects (the fallback text).
 * The handoff tool is one tool among the others: calling it ends the turn.
 */
@Injectable()
export class ToolLoop {
  private readonly logger = new Logger(ToolLoop.name);

  constructor(
    private readonly llm: LlmProvider,
    private readonly registry: ToolRegistry,
    private readonly journal: ToolJournal,
    private readonly settings: ToolsConfig,
    private readonly events: DomainEvents,
  ) {}

  /** Whether any tool besides the built-in ones may be called (so calls may need replaying). */
  hasCallableTools(): boolean {
    return this.registry.list().some((tool) => tool.kind !== 'builtin');
  }

  /** The tools the model is offered, the handoff tool among them. */
  offeredTools(): ToolDefinition[] {
    return this.registry.list().map((t) => t.definition);
  }

  async run(
    prompt: ChatMessage[],
    turn: TurnRef,
    context: ToolContext,
    log: object,
    recorded: TurnStep[],
  ): Promise<LoopOutcome> {
    const tools = this.offeredTools();
    const messages = [...prompt];
    let promptTokens: number | null = null;
    let completionTokens: number | null = null;
    for (let round = 1; ; round++) {
      const mayCall = round <= this.settings.maxRounds && tools.length > 0;
      let calls = recorded.filter(
        (s) => s.kind === 'tool' && s.round === round,
      );
      if (calls.length === 0) {
        const reply = await this.ask(messages, tools, mayCall);
        promptTokens = add(promptTokens, reply.promptTokens);
        completionTokens = add(completionTokens, reply.completionTokens);
        const handoff = findHandoffCall(reply.toolCalls);
        if (handoff) return { kind: 'handoff', reason: handoff.reason };
        if (!mayCall || reply.toolCalls.length === 0) {
          if (!reply.text) {
            // Answered, but with nothing to send: a failure of the model.
            this.events.publish({
              type: 'llm.called',
              promptTokens: 0,
              completionTokens: 0,
              failure: 'empty-answer',
            });
            throw new LlmError(
              'empty-answer',
              'the model called no tool it was offered and returned no text',
            );
          }
          return {
            kind: 'answer',
            text: reply.text,
            model: reply.model,
            promptTokens,
            completionTokens,
          };
        }
        calls = await this.journal.recordRound(
          turn,
          round,
          reply.toolCalls.map((call, position) => ({
            position,
            kind: 'tool' as const,
            callId: call.id,
            name: call.name,
            arguments: call.arguments.slice(0, MAX_ARGUMENT_CHARS),
          })),
        );
      }
      messages.push({
        role: 'assistant',
        content: null,
        toolCalls: calls.map((c) => ({
          id: c.callId ?? `call_${c.round}_${c.position}`,
          name: c.name,
          arguments: c.arguments,
        })),
      });
      const results = await Promise.all(
        calls.map((call) => this.resultOf(call, turn, context, log)),
      );
      calls.forEach((call, n) =>
        messages.push({
          role: 'tool',
          toolCallId: call.callId ?? `call_${call.round}_${call.position}`,
          content: results[n],
        }),
      );
    }
  }

  private async ask(
    messages: ChatMessage[],
    tools: ToolDefinition[],
    mayCall: boolean,
  ): Promise<LlmReply> {
    try {
      const reply = await this.llm.complete(messages, {
        tools,
        ...(tools.length > 0 && { toolChoice: mayCall ? 'auto' : 'none' }),
      });
      this.events.publish({
        type: 'llm.called',
        promptTokens: reply.promptTokens ?? 0,
        completionTokens: reply.completionTokens ?? 0,
        failure: null,
      });
      return reply;
    } catch (error) {
      this.events.publish({
        type: 'llm.called',
        promptTokens: 0,
        completionTokens: 0,
        failure: error instanceof LlmError ? error.reason : 'unexpected',
      });
      throw error;
    }
  }

  /** The tool message's content: the recorded result, or the call run now and recorded. */
  private async resultOf(
    step: TurnStep,
    turn: TurnRef,
    context: ToolContext,
    log: object,
  ): Promise<string> {
    if (step.result !== null)
      return asToolMessage(step.ok === true, step.result);
    const started = Date.now();
    let args: unknown;
    let result;
    try {
      args = JSON.parse(step.arguments || '{}');
    } catch {
      args = undefined;
    }
    if (step.position >= MAX_CALLS_PER_ROUND) {
      result = {
        ok: false,
        content: `not run: at most ${MAX_CALLS_PER_ROUND} calls are made per answer`,
      };
    } else if (args === undefined) {
      result = { ok: false, content: 'the arguments are not valid JSON' };
    } else {
      try {
        result = await this.registry.call(
          step.name,
          args,
          context,
          new AbortController().signal,
        );
      } catch (error) {
        // A source must not reject; if one does, the model hears of it.
        this.logger.error(
          { ...log, tool: step.name, err: error },
          'tool source failed unexpectedly',
        );
        result = { ok: false, content: 'the tool failed unexpectedly' };
      }
    }
    await this.journal.recordResult(turn, step.round, step.position, {
      ...result,
      durationMs: Date.now() - started,
    });
    this.events.publish({
      type: 'tool.called',
      tool: step.name,
      ok: result.ok,
      durationMs: Date.now() - started,
    });
    return asToolMessage(result.ok, result.content);
  }
}

/** A result as the model reads it: data, and an error marked as one. */
function asToolMessage(ok: boolean, content: string): string {
  if (!ok) return `ERROR: ${content}`;
  return content.trim() ? content : '(the tool answered nothing)';
}

function add(total: number | null, more: number | null): number | null {
  if (more === null) return total;
  return (total ?? 0) + more;
}
