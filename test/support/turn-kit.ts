import { AppConfig } from '../../src/config/app-config';
import { validateEnv } from '../../src/config/validate-env';
import { DomainEvent } from '../../src/events/domain-events';
import { InProcessDomainEvents } from '../../src/events/in-process-domain.events';
import { MediaInterpreter } from '../../src/inbound/media/media-interpreter';
import type { InboundMessageInput } from '../../src/inbound/ingest.types';
import { OutboxService } from '../../src/outbound/outbox.service';
import { HttpToolSource } from '../../src/tools/http/http-tool.source';
import type { HttpToolSpec } from '../../src/tools/http/tools-file';
import { McpToolSource } from '../../src/tools/mcp/mcp-tool.source';
import { ToolRegistry } from '../../src/tools/tool.registry';
import { MediaStep } from '../../src/turns/composer/media-step';
import { ReplyComposer } from '../../src/turns/composer/reply-composer';
import { KnowledgeStep } from '../../src/turns/composer/knowledge-step';
import { ToolLoop } from '../../src/turns/composer/tool-loop';
import { FakeKnowledge } from './fake-knowledge';
import { TurnService } from '../../src/turns/turn.service';
import { FakeLlm } from './fake-llm';
import { FakeTranscriber } from './fake-transcriber';
import { FakeWhatsapp } from './fake-whatsapp';
import { InMemoryWorld, webhookWith } from './in-memory-stores';

/** A turn service on in-memory stores, a fake LLM and a fake WhatsApp. */
export function turnKit(
  env: Record<string, string> = {},
  httpTools: HttpToolSpec[] = [],
) {
  const config = new AppConfig(validateEnv(env));
  const world = new InMemoryWorld();
  const events = new InProcessDomainEvents();
  const published: DomainEvent[] = [];
  events.subscribe((event) => published.push(event));
  const llm = new FakeLlm();
  const whatsapp = new FakeWhatsapp();
  const transcriber = new FakeTranscriber();
  const registry = new ToolRegistry(
    new HttpToolSource({
      httpTools,
      maxRounds: config.tools.maxRounds,
      timeoutMs: config.tools.timeoutMs,
      maxResultChars: config.tools.maxResultChars,
    }),
    new McpToolSource(config.mcp, config.tools),
    config.llm,
    config.tools,
  );
  const knowledge = new FakeKnowledge();
  const composer = new ReplyComposer(
    config,
    new MediaStep(
      new MediaInterpreter(whatsapp, transcriber, config.media),
      world.turns,
      events,
    ),
    new KnowledgeStep(knowledge.asRetriever(), world.journal, config.knowledge),
    new ToolLoop(llm, registry, world.journal, config.tools, events),
    world.journal,
  );
  const turns = new TurnService(
    world.turns,
    composer,
    whatsapp,
    new OutboxService(world.outbox, whatsapp, events),
    config.conversation,
    events,
  );
  /** Stores the messages as a webhook would; returns their conversation. */
  const receive = async (...messages: InboundMessageInput[]) => {
    await world.ingest.ingest(
      webhookWith(...messages),
      new Date(),
      config.conversation.sessionTimeoutMs,
    );
    return world.conversationRows.find(
      (c) =>
        c.customerWaId === messages[0].customerWaId && c.state !== 'expired',
    )!.id;
  };
  const turnsDone = () =>
    published.flatMap((e) => (e.type === 'turn.done' ? [e.outcome] : []));
  return {
    config,
    knowledge,
    world,
    published,
    llm,
    whatsapp,
    transcriber,
    composer,
    turns,
    receive,
    turnsDone,
  };
}
